"""What the overdue clock sent (R-INV-5): one mail per partner, overdue episode and mail day."""

from __future__ import annotations

from django.db import models


class OverdueNotice(models.Model):
    partner = models.ForeignKey("accounts.Partner", on_delete=models.CASCADE, related_name="overdue_notices")
    since = models.DateField(help_text="Due date of the earliest unpaid invoice (the episode)")
    day = models.PositiveIntegerField(help_text="Days overdue when sent")
    stage = models.CharField(max_length=40, blank=True)
    sent_on = models.DateField()
    email = models.EmailField(blank=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-sent_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "since", "day"], name="overdue_notice_once")
        ]
