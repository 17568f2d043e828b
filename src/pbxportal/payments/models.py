"""Payments (R-INV-4): hosted-page checkouts with the card and PayPal providers, the payments
they (or staff, for bank transfers) record against invoices, and every provider webhook seen."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Method(models.TextChoices):
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    SANDBOX = "sandbox", _("Sandbox card")


class CheckoutStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the provider")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class Checkout(models.Model):
    """A payment started on a provider's hosted page; the provider's webhook completes it."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="checkouts")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="checkouts")
    provider = models.CharField(max_length=20, choices=Method.choices)
    reference = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN)
    redirect_url = models.URLField(max_length=500)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-created_at", "-id"]


class Payment(models.Model):
    """Money received for one invoice; several partial payments may settle it (R-INV-4)."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=20, choices=Method.choices)
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    received_on = models.DateField()
    # The provider's capture/session id: a webhook delivered twice cannot pay twice.
    provider_ref = models.CharField(max_length=120, null=True, blank=True, unique=True)
    checkout = models.OneToOneField(Checkout, null=True, blank=True, on_delete=models.PROTECT)
    pi_number = models.CharField("PI number", max_length=60, blank=True)
    recorded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    # A staff form posted twice (or an API retry) records one payment (R-API-2).
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(name="payment_positive", condition=models.Q(amount__gt=0))]


class WebhookEvent(models.Model):
    """Every verified provider event, once: a replayed delivery finds its row and changes nothing."""

    provider = models.CharField(max_length=20, choices=Method.choices)
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=80)
    # PayPal's PAYPAL-TRANSMISSION-ID: each delivery once (a replayed transmission is refused).
    transmission_id = models.CharField(max_length=120, null=True, blank=True, unique=True)
    payload = models.JSONField()
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once")]


class SavedMethodStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REMOVED = "removed", "Removed"


class SavedPaymentMethod(models.Model):
    """A card saved with a provider (build item 6): only the provider's ids and what a person needs
    to recognise it (brand, last four digits, expiry) — never a card number."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="saved_methods")
    provider = models.CharField(max_length=20, choices=Method.choices)
    customer_ref = models.CharField(max_length=120)
    method_ref = models.CharField(max_length=120)
    brand = models.CharField(max_length=30, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=SavedMethodStatus.choices, default=SavedMethodStatus.ACTIVE
    )
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "method_ref"], name="saved_method_once"),
            models.UniqueConstraint(
                fields=["partner"],
                condition=models.Q(is_default=True, status="active"),
                name="saved_method_one_default",
            ),
        ]

    @property
    def label(self) -> str:
        expiry = f" {self.exp_month:02d}/{self.exp_year}" if self.exp_month and self.exp_year else ""
        return f"{self.brand or self.get_provider_display()} •••• {self.last4}{expiry}"


class MethodSetup(models.Model):
    """Saving a card on a provider's hosted page; the provider's webhook completes it."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="method_setups")
    provider = models.CharField(max_length=20, choices=Method.choices)
    reference = models.CharField(max_length=64, unique=True)
    customer_ref = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN)
    redirect_url = models.URLField(max_length=500)
    saved_method = models.ForeignKey(
        SavedPaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-created_at", "-id"]


class AttemptStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PENDING = "pending", "Waiting for the provider"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not needed"


class ChargeAttempt(models.Model):
    """One automatic charge of an invoice on the partner's saved method (build item 6): attempt
    ``number`` of the retry schedule (AUTO_CHARGE_RETRY_DAYS), on ``scheduled_on``."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="charge_attempts")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="charge_attempts")
    saved_method = models.ForeignKey(
        SavedPaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    method_label = models.CharField(max_length=80, blank=True)
    provider = models.CharField(max_length=20, choices=Method.choices, blank=True)
    number = models.PositiveSmallIntegerField()
    scheduled_on = models.DateField()
    reference = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.SCHEDULED)
    provider_ref = models.CharField(max_length=120, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["invoice_id", "number"]
        constraints = [models.UniqueConstraint(fields=["invoice", "number"], name="charge_attempt_once")]
