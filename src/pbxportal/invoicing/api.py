"""Invoices API (R-INV-1, R-CO-4): a partner's invoices and credit notes, each line showing how it
was prorated (full price, days charged, days in term, period)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.pagination import paginate

from pbxportal.common.api import actor_of
from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.pagination import Pagination
from pbxportal.common.schemas import Schema
from pbxportal.invoicing import documents, einvoice, links, selectors
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
    tax_category: str
    tax_rate: Decimal
    tax_amount: Decimal
    subscription_id: int | None
    pbx_id: int | None


class CreditNoteRef(Schema):
    id: int
    number: str | None
    total: Decimal
    issued_on: date | None


class InvoiceOut(Schema):
    id: int
    number: str | None
    kind: str
    status: str
    pbx_id: int | None
    currency: str
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    tax_category: str
    tax_rate: Decimal
    tax_legend: str
    amount_paid: Decimal
    amount_credited: Decimal
    amount_due: Decimal
    issued_on: date | None
    due_on: date | None
    paid_on: date | None
    credited_invoice_id: int | None
    credit_notes: list[CreditNoteRef]
    reason: str

    @staticmethod
    def resolve_credit_notes(obj: Invoice) -> list[Invoice]:
        return list(obj.credit_notes.all())


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]

    @staticmethod
    def resolve_lines(obj: Invoice) -> QuerySet[InvoiceLine]:
        return obj.lines.order_by("position", "id")


@router.get("/invoices", response=list[InvoiceOut])
@paginate(Pagination)
def invoice_list(
    request: HttpRequest,
    pbx_id: int | None = None,
    kind: str = "",
    status: str = "",
    issued_from: str = "",
    issued_to: str = "",
    number: str = "",
) -> QuerySet[Invoice]:
    """Invoices and credit notes; filters: PBX, kind, status, issued_from <= issued_on < issued_to
    (YYYY-MM-DD), number (exact, or a prefix ending in ``*``)."""
    # (dates arrive as strings: the paginated signature resolves only builtin annotations)
    return selectors.invoice_list(
        actor=actor_of(request),
        pbx_id=pbx_id,
        kind=kind,
        status=status,
        issued_from=_date_param("issued_from", issued_from),
        issued_to=_date_param("issued_to", issued_to),
        number=number,
    ).prefetch_related("credit_notes")


def _date_param(name: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(f"{name}: a date as YYYY-MM-DD.", fields={name: "invalid"}) from None


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _issued(request: HttpRequest, invoice_id: int) -> Invoice:
    invoice = selectors.invoice_get(actor=actor_of(request), invoice_id=invoice_id)
    if not invoice.is_issued:
        raise NotFound("A draft has no document.")
    return invoice


@router.get("/invoices/zip", response={200: None})
def invoices_zip(request: HttpRequest, issued_from: date, issued_to: date) -> HttpResponse:
    """The PDFs of the documents issued in [issued_from, issued_to), as one ZIP (R-INV-3)."""
    if issued_to <= issued_from:
        raise ApplicationError("issued_to: after issued_from.", fields={"issued_to": "before issued_from"})
    invoices = selectors.invoice_list(actor=actor_of(request), issued_from=issued_from, issued_to=issued_to)
    content = documents.invoices_zip(invoices.filter(number__isnull=False).order_by("issued_on", "id"))
    return _attachment(content, "application/zip", f"invoices-{issued_from}-{issued_to}.zip")


@router.get("/invoices/{invoice_id}/pdf", response={200: None})
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice PDF (R-INV-3), with a bearer token or a portal session."""
    invoice = _issued(request, invoice_id)
    return _attachment(documents.invoice_pdf(invoice), "application/pdf", documents.pdf_filename(invoice))


@router.get("/invoices/{invoice_id}/facturx", response={200: None})
def invoice_facturx(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The Factur-X PDF/A-3 with the EN 16931 XML embedded (R-INV-1)."""
    invoice = _issued(request, invoice_id)
    return _attachment(einvoice.facturx_pdf(invoice), "application/pdf", f"{invoice.number}-facturx.pdf")


@router.get("/invoices/{invoice_id}/einvoice.xml", response={200: None})
def invoice_einvoice_xml(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The EN 16931 CII XML alone (R-INV-1)."""
    invoice = _issued(request, invoice_id)
    return _attachment(einvoice.cii_xml(invoice), "application/xml", f"{invoice.number}.xml")


class ResendOut(Schema):
    sent_to: str


@router.post("/invoices/{invoice_id}/resend", response=ResendOut)
def invoice_resend(request: HttpRequest, invoice_id: int) -> dict[str, str]:
    """Mail the invoice again to its billing contact with a new one-time link (R-INV-3)."""
    actor = actor_of(request)
    actor.require_partner_role("billing")
    invoice = _issued(request, invoice_id)
    if not links.invoice_mail(invoice_id=invoice.pk):
        raise ApplicationError("billing_email: the invoice has no billing contact to mail.", rule="R-INV-3")
    return {"sent_to": invoice.billing_email}


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut)
def invoice_get(request: HttpRequest, invoice_id: int) -> Invoice:
    return selectors.invoice_get(actor=actor_of(request), invoice_id=invoice_id)
