"""Hardware as a service (R-HW-1..5): the customer's signed agreement, orders with an explicit
state machine and an audit row per transition, and the vendor's stock per device.

A rented device is billed as a co-termed Subscription of the PBX (pbx.services.service_order);
an order line keeps the subscription and the invoice its placing created.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AgreementStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class HwaasAgreement(models.Model):
    """R-HW-2: the HWaaS agreement signed by a customer, reviewed by the partner's area manager.

    The file lives under settings.MEDIA_ROOT (outside the web root) and is served only by a view
    that checks the reader (hardware.views.agreement_file)."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="hwaas_agreements")
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="hwaas_agreements"
    )
    file = models.FileField(upload_to="hwaas-agreements/%Y/%m/", max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.PENDING)
    uploaded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, help_text="why it was rejected")

    tenant_path = "partner"

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = "HWaaS agreement"
        constraints = [
            models.CheckConstraint(
                name="hwaas_agreement_rejection_has_reason",
                condition=~Q(status="rejected") | ~Q(reason=""),
            )
        ]

    def __str__(self) -> str:
        return f"HWaaS agreement of {self.customer_id} ({self.status})"


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (cart)")
    PLACED = "placed", _("Placed")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


# R-HW-3: the only moves an order can make; everything else is refused and writes nothing.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.PLACED, OrderStatus.CANCELLED}),
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class HardwareOrder(models.Model):
    """An HWaaS order for one PBX of a customer; a draft is the partner's saved cart (R-HW-3)."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="hardware_orders")
    customer = models.ForeignKey("accounts.Customer", on_delete=models.PROTECT, related_name="+")
    pbx = models.ForeignKey("pbx.Pbx", on_delete=models.PROTECT, related_name="hardware_orders")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    placed_on = models.DateField(null=True, blank=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "hardware order"

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"HW-{self.pk:06d}" if self.pk else "HW-new"


class OrderLine(models.Model):
    order = models.ForeignKey(HardwareOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    subscription = models.ForeignKey(
        "pbx.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    tenant_path = "order__partner"

    class Meta:
        ordering = ["product__code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_line_unique_product"),
            models.CheckConstraint(name="order_line_quantity_positive", condition=Q(quantity__gte=1)),
        ]


class OrderTransition(models.Model):
    """The audit row of one state transition of an order (R-HW-3), append-only."""

    order = models.ForeignKey(HardwareOrder, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    actor = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    tenant_path = "order__partner"

    class Meta:
        ordering = ["at", "id"]


class StockItem(models.Model):
    """The vendor's stock of one device (R-HW-4). ``available = on_hand - reserved`` may be
    negative: more reserved than in stock is a back-order, never a refusal."""

    product = models.OneToOneField("catalog.Product", on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product__code"]
        constraints = [
            models.CheckConstraint(name="stock_on_hand_not_negative", condition=Q(on_hand__gte=0)),
            models.CheckConstraint(name="stock_reserved_not_negative", condition=Q(reserved__gte=0)),
        ]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
