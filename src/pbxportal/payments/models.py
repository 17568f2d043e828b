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
