"""Expansion checkout as API operations (R-EX-2, R-EX-3, R-EX-4, R-API-2): review (``preview``) and
place an order of software-PBX services with a billing contact (existing or new), a payment
method, a PI number for offline payment, and auto-renew; the same service as the pages. The POST
honours ``Idempotency-Key`` (common.idempotency)."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Router

from pbxportal.common.api import actor_of
from pbxportal.common.schemas import Schema
from pbxportal.common.timeutil import vendor_today
from pbxportal.expansions import selectors
from pbxportal.expansions.models import ExpansionOrder
from pbxportal.expansions.services import CheckoutResult, ServiceRequest, expansion_checkout

router = Router(tags=["expansions"])


class ServiceIn(Schema):
    product_code: str
    quantity: int = 1
    one_off: bool = False
    standby_serial: str = ""


class NewContactIn(Schema):
    name: str
    email: str
    company: str = ""
    address: str = ""


class CheckoutIn(Schema):
    pbx_id: int
    services: list[ServiceIn]
    payment_method: str
    billing_contact_id: int | None = None
    new_contact: NewContactIn | None = None
    pi_number: str = ""
    auto_renew: bool = True
    preview: bool = False


class LineOut(Schema):
    product_code: str
    description: str
    quantity: Decimal
    amount: Decimal
    days_charged: int | None
    days_in_term: int | None


class OrderOut(Schema):
    id: int
    pbx_id: int
    status: str
    payment_method: str
    pi_number: str
    auto_renew: bool
    billing_contact_id: int
    invoice_id: int | None
    invoice_number: str | None
    amount_due: Decimal | None
    total: Decimal
    currency: str

    @staticmethod
    def resolve_invoice_number(obj: ExpansionOrder) -> str | None:
        return obj.invoice.number if obj.invoice else None

    @staticmethod
    def resolve_amount_due(obj: ExpansionOrder) -> Decimal | None:
        return obj.invoice.amount_due if obj.invoice else None


class CheckoutOut(Schema):
    order: OrderOut | None
    lines: list[LineOut]
    warnings: list[str]
    total: Decimal


def _out(result: CheckoutResult) -> dict[str, object]:
    return {"order": result.order, "lines": result.lines, "warnings": result.warnings, "total": result.total}


@router.post("/checkout", response={200: CheckoutOut, 201: CheckoutOut})
def checkout(request: HttpRequest, payload: CheckoutIn) -> tuple[int, object]:
    """Review (``preview: true``, 200) or place (201) an expansion order (R-EX-2). Pay its invoice
    through ``POST /api/v1/payments/checkouts`` (card, PayPal, sandbox) or by bank transfer with the PI
    number; once paid the licence carries the capacity and the activation code is mailed (R-EX-3)."""
    result = expansion_checkout(
        actor=actor_of(request),
        pbx_id=payload.pbx_id,
        services=[ServiceRequest(**service.dict()) for service in payload.services],
        payment_method=payload.payment_method,
        billing_contact_id=payload.billing_contact_id,
        new_contact=payload.new_contact.dict() if payload.new_contact else None,
        pi_number=payload.pi_number,
        auto_renew=payload.auto_renew,
        today=vendor_today(),
        preview=payload.preview,
    )
    if result.order is not None:
        result.order.refresh_from_db()
    return (200 if payload.preview else 201), _out(result)


@router.get("/orders/{expansion_order_id}", response=OrderOut)
def order_get(request: HttpRequest, expansion_order_id: int) -> ExpansionOrder:
    return selectors.order_get(actor=actor_of(request), order_id=expansion_order_id)
