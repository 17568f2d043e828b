from django.db import models


class ClockDay(models.Model):
    """A vendor day the billing clock has run (R-CLK-1); the last finished one is where a run resumes."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["day"]
