"""HWaaS API (R-API-1) under /api/v1/hardware/: agreements (R-HW-2), carts and orders (R-HW-3),
stock (R-HW-4). Thin: each endpoint calls the service the pages call; the day of a change is
the vendor's today, never a date sent by the client."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate

from pbxportal.common.api import actor_of
from pbxportal.common.pagination import Pagination
from pbxportal.common.schemas import Schema
from pbxportal.common.timeutil import vendor_today
from pbxportal.hardware import selectors, services
from pbxportal.hardware.models import HardwareOrder, HwaasAgreement
from pbxportal.pbx.selectors import pbx_get

router = Router(tags=["hardware"])


class AgreementOut(Schema):
    id: int
    partner_id: int
    customer_id: int
    customer_name: str
    original_name: str
    content_type: str
    size: int
    status: str
    uploaded_at: datetime
    decided_at: datetime | None
    reason: str

    @staticmethod
    def resolve_customer_name(obj: HwaasAgreement) -> str:
        return obj.customer.name


class RejectIn(Schema):
    length_model = HwaasAgreement
    reason: str


class OrderIn(Schema):
    pbx_id: int


class LineIn(Schema):
    product_code: str
    quantity: int


class NoteIn(Schema):
    note: str = ""


class OrderLineOut(Schema):
    product_code: str
    product_name: str
    quantity: int
    subscription_id: int | None
    invoice_id: int | None


class TransitionOut(Schema):
    from_status: str
    to_status: str
    actor: str | None
    at: datetime
    note: str


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int
    pbx_id: int
    term: str
    status: str
    placed_on: date | None
    created_at: datetime
    lines: list[OrderLineOut]
    transitions: list[TransitionOut]

    @staticmethod
    def resolve_term(obj: HardwareOrder) -> str:
        return obj.pbx.term

    @staticmethod
    def resolve_lines(obj: HardwareOrder) -> list[dict[str, Any]]:
        return [
            {
                "product_code": line.product.code,
                "product_name": line.product.name,
                "quantity": line.quantity,
                "subscription_id": line.subscription_id,
                "invoice_id": line.invoice_id,
            }
            for line in obj.lines.all()
        ]

    @staticmethod
    def resolve_transitions(obj: HardwareOrder) -> list[dict[str, Any]]:
        return [
            {
                "from_status": t.from_status,
                "to_status": t.to_status,
                "actor": t.actor.username if t.actor else None,
                "at": t.at,
                "note": t.note,
            }
            for t in obj.transitions.all()
        ]


class PreviewLineOut(Schema):
    product_code: str
    description: str
    unit_price: Decimal
    quantity: Decimal
    days_charged: int | None
    days_in_term: int | None
    period_start: date | None
    period_end: date | None
    amount: Decimal
    currency: str


class PreviewOut(Schema):
    """What checking out today would charge (R-CO-4), or the rule that would refuse it."""

    lines: list[PreviewLineOut]
    total: Decimal
    refused: str | None
    rule: str | None


class DeviceOut(Schema):
    code: str
    name: str
    plan_code: str
    unit_price: Decimal
    currency: str


class StockOut(Schema):
    code: str
    name: str
    on_hand: int
    reserved: int
    available: int
    back_ordered: int


class StockAdjustIn(Schema):
    product_code: str
    delta: int
    note: str = ""


# --- Agreements (R-HW-2) ----------------------------------------------------------------------


@router.get("/agreements", response=list[AgreementOut])
@paginate(Pagination)
def agreement_list(request: HttpRequest, status: str = "", customer_id: int | None = None) -> QuerySet[Any]:
    return selectors.agreement_list(actor=actor_of(request), status=status, customer_id=customer_id)


@router.post("/agreements", response={201: AgreementOut})
def agreement_upload(
    request: HttpRequest, customer_id: Form[int], file: File[UploadedFile]
) -> tuple[int, HwaasAgreement]:
    """Upload the agreement signed by the customer (multipart: ``customer_id``, ``file``; PDF, PNG
    or JPEG, at most 10 MB)."""
    return 201, services.agreement_upload(actor=actor_of(request), customer_id=customer_id, upload=file)


@router.get("/agreements/{agreement_id}", response=AgreementOut)
def agreement_get(request: HttpRequest, agreement_id: int) -> HwaasAgreement:
    return selectors.agreement_get(actor=actor_of(request), agreement_id=agreement_id)


@router.get("/agreements/{agreement_id}/file", response={200: None})
def agreement_file(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """The uploaded file itself, for the owning partner and the staff who may see it."""
    agreement = selectors.agreement_get(actor=actor_of(request), agreement_id=agreement_id)
    return selectors.agreement_file_response(agreement)


@router.post("/agreements/{agreement_id}/accept", response=AgreementOut)
def agreement_accept(request: HttpRequest, agreement_id: int) -> HwaasAgreement:
    return services.agreement_accept(actor=actor_of(request), agreement_id=agreement_id)


@router.post("/agreements/{agreement_id}/reject", response=AgreementOut)
def agreement_reject(request: HttpRequest, agreement_id: int, payload: RejectIn) -> HwaasAgreement:
    return services.agreement_reject(
        actor=actor_of(request), agreement_id=agreement_id, reason=payload.reason
    )


# --- Carts and orders (R-HW-1, R-HW-3) --------------------------------------------------------


@router.get("/pbxs/{pbx_id}/devices", response=list[DeviceOut])
def device_list(request: HttpRequest, pbx_id: int) -> list[dict[str, Any]]:
    """The devices that can be rented for a PBX, for its term, at the partner's prices (R-HW-1)."""
    pbx = pbx_get(actor=actor_of(request), pbx_id=pbx_id)
    return [
        {
            "code": d.product.code,
            "name": d.product.name,
            "plan_code": d.plan_code,
            "unit_price": d.unit_price,
            "currency": d.currency,
        }
        for d in selectors.devices_for(pbx=pbx)
    ]


@router.get("/orders", response=list[OrderOut])
@paginate(Pagination)
def order_list(request: HttpRequest, status: str = "") -> QuerySet[Any]:
    return selectors.order_list(actor=actor_of(request), status=status).prefetch_related(
        "lines__product", "transitions__actor"
    )


@router.post("/orders", response={201: OrderOut})
def order_create(request: HttpRequest, payload: OrderIn) -> tuple[int, HardwareOrder]:
    """Open a cart (a draft order) for a PBX (R-HW-2: the customer's agreement must be accepted)."""
    order = services.order_create(actor=actor_of(request), pbx_id=payload.pbx_id)
    return 201, selectors.order_get(actor=actor_of(request), order_id=order.pk)


@router.get("/orders/{order_id}", response=OrderOut)
def order_get(request: HttpRequest, order_id: int) -> HardwareOrder:
    return selectors.order_get(actor=actor_of(request), order_id=order_id)


@router.post("/orders/{order_id}/lines", response=OrderOut)
def order_line_set(request: HttpRequest, order_id: int, payload: LineIn) -> HardwareOrder:
    """Set a device's quantity in the cart (0 removes it)."""
    actor = actor_of(request)
    services.order_line_set(
        actor=actor, order_id=order_id, product_code=payload.product_code, quantity=payload.quantity
    )
    return selectors.order_get(actor=actor, order_id=order_id)


@router.get("/orders/{order_id}/preview", response=PreviewOut)
def order_preview(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order = selectors.order_get(actor=actor_of(request), order_id=order_id)
    preview = selectors.cart_preview(order=order, today=vendor_today())
    return {
        "lines": preview.lines,
        "total": preview.total,
        "refused": preview.error.message if preview.error else None,
        "rule": preview.error.rule if preview.error else None,
    }


def _after(request: HttpRequest, order: HardwareOrder) -> HardwareOrder:
    return selectors.order_get(actor=actor_of(request), order_id=order.pk)


@router.post("/orders/{order_id}/checkout", response=OrderOut)
def order_checkout(request: HttpRequest, order_id: int) -> HardwareOrder:
    """Place the order: co-termed subscriptions, their invoice, stock reserved (R-HW-3, R-HW-4);
    refused by R-HW-2 (no accepted agreement) or R-INV-5 (overdue after day 5)."""
    return _after(
        request, services.order_place(actor=actor_of(request), order_id=order_id, today=vendor_today())
    )


@router.post("/orders/{order_id}/cancel", response=OrderOut)
def order_cancel(request: HttpRequest, order_id: int, payload: NoteIn) -> HardwareOrder:
    """Cancel before shipping: stock released, devices cancelled with their commitment (R-HW-5)."""
    order = services.order_cancel(
        actor=actor_of(request), order_id=order_id, today=vendor_today(), note=payload.note
    )
    return _after(request, order)


@router.post("/orders/{order_id}/confirm", response=OrderOut)
def order_confirm(request: HttpRequest, order_id: int, payload: NoteIn) -> HardwareOrder:
    return _after(
        request, services.order_confirm(actor=actor_of(request), order_id=order_id, note=payload.note)
    )


@router.post("/orders/{order_id}/ship", response=OrderOut)
def order_ship(request: HttpRequest, order_id: int, payload: NoteIn) -> HardwareOrder:
    return _after(request, services.order_ship(actor=actor_of(request), order_id=order_id, note=payload.note))


@router.post("/orders/{order_id}/deliver", response=OrderOut)
def order_deliver(request: HttpRequest, order_id: int, payload: NoteIn) -> HardwareOrder:
    return _after(
        request, services.order_deliver(actor=actor_of(request), order_id=order_id, note=payload.note)
    )


# --- Stock (R-HW-4) ---------------------------------------------------------------------------


@router.get("/stock", response=list[StockOut])
def stock_list(request: HttpRequest) -> list[selectors.StockRow]:
    """Staff: every device's stock; a negative ``available`` is back-ordered (R-HW-4)."""
    return selectors.stock_list(actor=actor_of(request))


@router.post("/stock/adjust", response=StockOut)
def stock_adjust(request: HttpRequest, payload: StockAdjustIn) -> selectors.StockRow:
    """A vendor admin receives (+) or writes off (-) devices on hand."""
    item = services.stock_adjust(
        actor=actor_of(request), product_code=payload.product_code, delta=payload.delta, note=payload.note
    )
    return selectors.stock_row(product_code=item.product.code)
