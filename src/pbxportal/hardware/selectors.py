"""Reads of hardware as a service, through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F, IntegerField, Prefetch, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from pbxportal.catalog.models import Family, Product
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.core.periods import Term
from pbxportal.hardware.models import (
    AgreementStatus,
    HardwareOrder,
    HwaasAgreement,
    OrderLine,
    OrderStatus,
    OrderTransition,
    StockItem,
)
from pbxportal.invoicing.lines import LineDraft
from pbxportal.pbx import charges
from pbxportal.pbx.models import Pbx, PbxStatus
from pbxportal.pbx.services import service_order


def agreement_list(
    *, actor: Actor, status: str = "", customer_id: int | None = None
) -> QuerySet[HwaasAgreement]:
    qs = scoped(HwaasAgreement, actor).select_related("customer", "partner", "decided_by")
    if status:
        qs = qs.filter(status=status)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs


def agreement_get(*, actor: Actor, agreement_id: int) -> HwaasAgreement:
    return get_scoped(HwaasAgreement.objects.select_related("customer", "partner"), actor, pk=agreement_id)


def accepted_customer_ids(*, actor: Actor) -> set[int]:
    return set(
        agreement_list(actor=actor, status=AgreementStatus.ACCEPTED).values_list("customer_id", flat=True)
    )


def orderable_pbxs(*, actor: Actor) -> QuerySet[Pbx]:
    """PBXs a cart can be opened for: recurring term (R-HW-1), open, customer with an accepted
    agreement (R-HW-2)."""
    recurring = [t.value for t in Term if t.is_recurring]
    return (
        scoped(Pbx, actor)
        .filter(term__in=recurring, status__in=[PbxStatus.PENDING_ACTIVATION, PbxStatus.ACTIVE])
        .filter(customer_id__in=accepted_customer_ids(actor=actor))
        .select_related("customer")
        .order_by("customer__name", "name")
    )


def order_list(*, actor: Actor, status: str = "") -> QuerySet[HardwareOrder]:
    qs = scoped(HardwareOrder, actor).select_related("customer", "pbx", "partner")
    if status:
        qs = qs.filter(status=status)
    return qs


def order_get(*, actor: Actor, order_id: int) -> HardwareOrder:
    return get_scoped(
        HardwareOrder.objects.select_related("customer", "pbx", "partner__price_book").prefetch_related(
            Prefetch("lines", OrderLine.objects.select_related("product", "invoice", "subscription")),
            Prefetch("transitions", OrderTransition.objects.select_related("actor")),
        ),
        actor,
        pk=order_id,
    )


@dataclass(frozen=True)
class Device:
    """A device that can be rented for a PBX: its plan for the PBX's term and its unit price."""

    product: Product
    plan_code: str
    unit_price: Decimal
    currency: str


def devices_for(*, pbx: Pbx) -> list[Device]:
    """The HWaaS devices with a plan for the PBX's term (R-HW-1, R-CO-1), at the partner's prices."""
    devices = []
    for product in Product.objects.filter(family=Family.HWAAS, active=True).prefetch_related("plans"):
        plan = next((p for p in product.plans.all() if p.term == pbx.term), None)
        if plan is None:
            continue
        devices.append(
            Device(product, plan.code, charges.unit_price(pbx, plan, 1), pbx.partner.price_book.currency)
        )
    return devices


@dataclass(frozen=True)
class CartPreview:
    """What checking out today would charge (R-CO-4), or why it would be refused."""

    lines: list[LineDraft]
    error: ApplicationError | None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def cart_preview(*, order: HardwareOrder, today: date) -> CartPreview:
    """The prorated first charges of the cart's devices, computed by the same function checkout
    uses (service_order in preview), so the preview and the invoice cannot differ."""
    lines: list[LineDraft] = []
    if order.status != OrderStatus.DRAFT:
        return CartPreview(lines, None)
    try:
        for line in order.lines.all():
            lines += service_order(
                actor=None,
                pbx=order.pbx,
                product_code=line.product.code,
                quantity=line.quantity,
                today=today,
                preview=True,
            ).plan.lines
    except ApplicationError as exc:
        return CartPreview(lines, exc)
    return CartPreview(lines, None)


@dataclass(frozen=True)
class StockRow:
    code: str
    name: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        """May be negative: more reserved than on hand is back-ordered (R-HW-4)."""
        return self.on_hand - self.reserved

    @property
    def back_ordered(self) -> int:
        return max(0, -self.available)


def stock_list(*, actor: Actor) -> list[StockRow]:
    """Every device with on hand, reserved and available (negative: back-ordered) (R-HW-4)."""
    actor.require_staff()
    zero = Value(0, output_field=IntegerField())
    rows = (
        Product.objects.filter(family=Family.HWAAS)
        .annotate(on_hand=Coalesce(F("stock__on_hand"), zero), reserved=Coalesce(F("stock__reserved"), zero))
        .order_by("code")
        .values_list("code", "name", "on_hand", "reserved")
    )
    return [StockRow(*row) for row in rows]


def stock_row(*, product_code: str) -> StockRow:
    item = StockItem.objects.select_related("product").get(product__code=product_code)
    return StockRow(item.product.code, item.product.name, item.on_hand, item.reserved)


def agreement_file_response(agreement: HwaasAgreement) -> HttpResponse:
    """The stored file (at most 10 MB) as a download, typed as sniffed at upload, never inline."""
    with agreement.file.open("rb") as stored:
        response = HttpResponse(stored.read(), content_type=agreement.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(True, agreement.original_name) or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
