"""Invoice pages (R-INV-1, R-CO-4): the list and one invoice with its lines and their proration."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, paginate, portal_view, staff_view
from pbxportal.invoicing import credits, documents, einvoice, links, selectors
from pbxportal.invoicing.models import AccountCreditEntry, BillRun, BillRunStatus, CreditEntryKind
from pbxportal.invoicing.tax_report import as_csv, as_xlsx
from pbxportal.invoicing.tax_report import tax_report as tax_report_rows


@portal_view
def invoice_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.invoice_list(actor=actor_of(request)).select_related("partner"))
    return render(request, "invoicing/invoice_list.html", {"page": page, "query": ""})


@portal_view
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    actor = actor_of(request)
    invoice = selectors.invoice_get(actor=actor, invoice_id=invoice_id)
    lines = invoice.lines.order_by("position", "id")
    context: dict[str, object] = {"invoice": invoice, "lines": lines}
    # Automatic charges of a saved card (payments, build item 6) show here; staff may refund the
    # partner's account credit from this page (the same service as POST /payments/refunds).
    if hasattr(invoice, "charge_attempts"):
        context["attempts"] = invoice.charge_attempts.order_by("-number")
    if actor.is_staff:
        context["account_credit"] = credits.account_credit(partner_id=invoice.partner_id)
        context["refunds"] = AccountCreditEntry.objects.filter(
            partner_id=invoice.partner_id, kind=CreditEntryKind.REFUND
        ).order_by("-created_at")[:10]
    return render(request, "invoicing/invoice_detail.html", context)


@portal_view
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """R-INV-3: the PDF, from the same template as the page."""
    invoice = selectors.invoice_get(actor=actor_of(request), invoice_id=invoice_id)
    if not invoice.is_issued:
        raise NotFound("A draft has no PDF.")
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.pdf_filename(invoice)}"'
    return response


@portal_view
def invoice_facturx(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The Factur-X PDF (PDF/A-3 with the EN 16931 XML embedded), R-INV-1."""
    invoice = selectors.invoice_get(actor=actor_of(request), invoice_id=invoice_id)
    if not invoice.is_issued:
        raise NotFound("A draft has no e-invoice.")
    response = HttpResponse(einvoice.facturx_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}-facturx.pdf"'
    return response


@portal_view
def invoices_zip(request: HttpRequest) -> HttpResponse:
    """The PDFs of the invoices issued in a chosen period (inclusive), as one ZIP."""
    try:
        first, last = date.fromisoformat(request.GET["from"]), date.fromisoformat(request.GET["to"])
    except (KeyError, ValueError):
        raise ApplicationError("from and to: dates as YYYY-MM-DD.", fields={"from": "required"}) from None
    invoices = selectors.invoice_list(actor=actor_of(request)).filter(
        number__isnull=False, issued_on__gte=first, issued_on__lte=last
    )
    response = HttpResponse(
        documents.invoices_zip(invoices.order_by("issued_on", "id")), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="invoices-{first}-{last}.zip"'
    return response


def invoice_open(request: HttpRequest) -> HttpResponse:
    """The one-time mail link (R-INV-3): no login; once within 24 hours, then a clear refusal."""
    try:
        invoice = links.invoice_link_open(token=request.GET.get("token", ""), now=timezone.now())
    except links.LinkRefused as exc:
        return render(request, "invoicing/link_refused.html", {"error": exc}, status=exc.status)
    lines = invoice.lines.order_by("position", "id")
    return render(request, "invoicing/invoice_link.html", {"invoice": invoice, "lines": lines})


@staff_view
def tax_report(request: HttpRequest) -> HttpResponse:
    """The tax report of a half-open period [from, to) as CSV or XLSX (R-INV-1), for staff. Without
    a period: the form (Billing → Tax report), the previous month by default."""
    actor_of(request).require_staff("vendor_admin")
    if "from" not in request.GET and "to" not in request.GET:
        this_month = vendor_today().replace(day=1)
        previous = (this_month - timedelta(days=1)).replace(day=1)
        return render(request, "invoicing/tax_report.html", {"first": previous, "end": this_month})
    try:
        first, end = date.fromisoformat(request.GET["from"]), date.fromisoformat(request.GET["to"])
    except (KeyError, ValueError):
        raise ApplicationError(
            "from and to: dates as YYYY-MM-DD (to excluded).", fields={"from": "required"}
        ) from None
    if end <= first:
        raise ApplicationError("to: after from.", fields={"to": "before from"})
    rows = tax_report_rows(first=first, end=end)
    if request.GET.get("format", "csv") == "xlsx":
        response = HttpResponse(
            as_xlsx(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        extension = "xlsx"
    else:
        response = HttpResponse(as_csv(rows), content_type="text/csv")
        extension = "csv"
    response["Content-Disposition"] = f'attachment; filename="tax-report-{first}-{end}.{extension}"'
    return response


@staff_view
def billruns(request: HttpRequest) -> HttpResponse:
    """Bill runs with their progress (R-INV-2)."""
    page = paginate(request, BillRun.objects.order_by("-day", "-id"))
    running = any(run.status == BillRunStatus.RUNNING for run in page)
    return render(request, "invoicing/billruns.html", {"page": page, "running": running, "query": ""})
