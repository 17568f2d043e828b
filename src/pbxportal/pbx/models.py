"""PBXs and their co-terminated subscriptions (R-PBX-*, R-CO-*).

Everything a PBX is billed for is a ``Subscription`` of it: the PBX model itself, each licence
profile, storage, the voice trunk, HWaaS devices, DIDs, expansions. They all share the PBX's term
and expiry (R-CO-1, R-PBX-6b), so one mechanism prorates, renews and ends them.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PbxStatus(models.TextChoices):
    PENDING_ACTIVATION = "pending_activation", _("Pending activation")
    ACTIVE = "active", _("Active")
    PENDING_DELETION = "pending_deletion", _("Pending deletion")
    STOPPED = "stopped", _("Stopped")
    DELETED = "deleted", _("Deleted")
    ENDED = "ended", _("Ended (not renewed)")


class Pbx(models.Model):
    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="pbxs")
    customer = models.ForeignKey("accounts.Customer", on_delete=models.PROTECT, related_name="pbxs")
    model = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=63, unique=True, help_text="DNS label: https://NAME.<vendor domain>")
    region = models.CharField(max_length=40, blank=True)
    term = models.CharField(max_length=20)
    anchor_date = models.DateField(help_text="The start of the first term; never changes (R-PBX-4)")
    expires_on = models.DateField(
        null=True, blank=True, db_index=True, help_text="End of the current term (None: lifetime)"
    )
    invoiced_through = models.DateField(
        null=True, blank=True, db_index=True, help_text="End of the last invoiced term"
    )
    serial = models.CharField(max_length=20, unique=True)
    pbx_key_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="VM/HW: SHA-256 of the PBX key presented to the licence API (R-PBX-3); never the key",
    )
    pbx_key_prefix = models.CharField(max_length=8, blank=True, help_text="The key's first characters")
    status = models.CharField(max_length=20, choices=PbxStatus.choices, default=PbxStatus.PENDING_ACTIVATION)
    activation_due_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    firmware_version = models.CharField(max_length=20, blank=True)
    zero_users_since = models.DateField(null=True, blank=True, help_text="R-PBX-9 countdown start")
    auto_renew = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"
    # The PBX key in clear, only on the instance that created or regenerated it: shown once, never stored.
    new_pbx_key = ""

    class Meta:
        ordering = ["name"]
        verbose_name = "PBX"
        verbose_name_plural = "PBXs"
        constraints = [
            models.UniqueConstraint(
                fields=["pbx_key_digest"], condition=~Q(pbx_key_digest=""), name="pbx_key_digest_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_cloud(self) -> bool:
        return bool(self.model.attributes.get("cloud"))


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class Subscription(models.Model):
    pbx = models.ForeignKey(Pbx, on_delete=models.PROTECT, related_name="subscriptions")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey("catalog.Plan", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    auto_renew = models.BooleanField(default=True, help_text="R-EX-4")
    commitment_until = models.DateField(null=True, blank=True, help_text="R-HW-5 minimum commitment end")
    scheduled_plan = models.ForeignKey(
        "catalog.Plan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="R-EX-5: a downgrade taking effect at the end of the term",
    )
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["pbx", "product__family", "product__code", "id"]
        constraints = [
            models.CheckConstraint(
                name="subscription_ended_has_date", condition=Q(status="active") | Q(ended_on__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.code} x{self.quantity} on {self.pbx_id}"


class QuantityChange(models.Model):
    """The append-only ledger of quantity changes (Zulip's LicenseLedger): replaying it gives the
    current quantities."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="changes")
    pbx = models.ForeignKey(Pbx, on_delete=models.PROTECT, related_name="quantity_changes")
    delta = models.IntegerField()
    quantity_after = models.PositiveIntegerField()
    effective_on = models.DateField()
    kind = models.CharField(max_length=20)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("The quantity ledger is append-only.")
        super().save(*args, **kwargs)


class SshWindow(models.Model):
    """R-PBX-11: SSH port 2222 of a cloud PBX open for a limited time, audited."""

    pbx = models.ForeignKey(Pbx, on_delete=models.CASCADE, related_name="ssh_windows")
    opened_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["-opened_at"]


class CorrectionStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")


class CorrectionRequest(models.Model):
    """R-PBX-10: filed by the partner within 1 business day; applied only by staff."""

    pbx = models.ForeignKey(Pbx, on_delete=models.PROTECT, related_name="corrections")
    filed_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    filed_on = models.DateField()
    change_date = models.DateField(help_text="the day of the mistaken activation or change")
    quantities = models.JSONField(help_text="profile code -> the quantity that should be there")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.FILED)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_on = models.DateField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["-filed_on", "-id"]


class Reminder(models.Model):
    """A renewal reminder sent (R-PBX-6), once per PBX, expiry and lead time."""

    pbx = models.ForeignKey(Pbx, on_delete=models.CASCADE, related_name="reminders")
    expires_on = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_on = models.DateField()

    tenant_path = "pbx__partner"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pbx", "expires_on", "days_before"], name="reminder_once")
        ]
