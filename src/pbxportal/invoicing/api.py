"""Invoices API (R-INV-1, R-CO-4): a partner's invoices and credit notes, each line showing how it
was prorated (full price, days charged, days in term, period)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from pbxportal.common.api import actor_of
from pbxportal.common.pagination import Pagination
from pbxportal.common.schemas import Schema
from pbxportal.invoicing import selectors
from pbxportal.invoicing.models import Invoice, InvoiceLine

API_PREFIX = ""
router = Router(tags=["invoicing"])


class InvoiceLineOut(Schema):
    kind: str
    product_code: str
    description: str
    unit_price: Decimal
    quantity: Decimal
    days_charged: int | None
    days_in_term: int | None
    period_start: date | None
    period_end: date | None
    amount: Decimal
    subscription_id: int | None
    pbx_id: int | None


class InvoiceOut(Schema):
    id: int
    number: str | None
    kind: str
    status: str
    pbx_id: int | None
    currency: str
    total: Decimal
    amount_paid: Decimal
    issued_on: date | None
    due_on: date | None
    credited_invoice_id: int | None
    reason: str


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]

    @staticmethod
    def resolve_lines(obj: Invoice) -> QuerySet[InvoiceLine]:
        return obj.lines.order_by("position", "id")


@router.get("/invoices", response=list[InvoiceOut])
@paginate(Pagination)
def invoice_list(request: HttpRequest, pbx_id: int | None = None, kind: str = "") -> QuerySet[Invoice]:
    return selectors.invoice_list(actor=actor_of(request), pbx_id=pbx_id, kind=kind)


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut)
def invoice_get(request: HttpRequest, invoice_id: int) -> Invoice:
    return selectors.invoice_get(actor=actor_of(request), invoice_id=invoice_id)
