"""Invoice documents (R-INV-3): the PDF is WeasyPrint's rendering of the same template the
portal page includes (``invoicing/_document.html``); a ZIP holds the PDFs of a period."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from django.conf import settings
from django.template.loader import render_to_string

from pbxportal.invoicing.models import Invoice


def invoice_html(invoice: Invoice) -> str:
    return render_to_string(
        "invoicing/invoice_print.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.order_by("position", "id"),
            "vendor_name": settings.VENDOR_NAME,
        },
    )


def invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=invoice_html(invoice)).write_pdf()
    return pdf


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number or f'draft-{invoice.pk}'}.pdf"


def invoices_zip(invoices: Iterable[Invoice]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice in invoices:
            archive.writestr(pdf_filename(invoice), invoice_pdf(invoice))
    return buffer.getvalue()
