"""Expansion orders of software PBXs: the services checked out together (R-EX-1..4).

An order is placed at checkout: its services are ordered at once (subscriptions created,
invoiced on one invoice to the chosen billing contact) but marked awaiting payment, so their
capacity enters the PBX's licence only when the invoice is paid (R-EX-3). Status transitions:
awaiting_payment -> paid, awaiting_payment -> cancelled.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentMethod(models.TextChoices):
    PAYPAL = "paypal", _("PayPal")
    CARD = "card", _("Debit or credit card")
    OFFLINE = "offline", _("Offline (bank transfer)")


class ExpansionOrder(models.Model):
    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="expansion_orders")
    pbx = models.ForeignKey("pbx.Pbx", on_delete=models.PROTECT, related_name="expansion_orders")
    billing_contact = models.ForeignKey("accounts.BillingContact", on_delete=models.PROTECT, related_name="+")
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    pi_number = models.CharField(
        max_length=60, blank=True, help_text="Proforma number from the vendor's sales"
    )
    auto_renew = models.BooleanField(default=True, help_text="R-EX-4")
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.AWAITING_PAYMENT
    )
    ordered_on = models.DateField()
    invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    total = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    currency = models.CharField(max_length=3)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"expansion order #{self.pk}"


class ExpansionOrderLine(models.Model):
    order = models.ForeignKey(ExpansionOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    one_off = models.BooleanField(default=False, help_text="R-EX-1 hotel PMS bought once")
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    subscription = models.ForeignKey(
        "pbx.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    tenant_path = "order__partner"

    class Meta:
        ordering = ["id"]
