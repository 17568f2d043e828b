"""Connects automatic charging (build item 6) to the issued-invoices hook: invoicing announces the
invoices it issued (once per call, a whole bill-run chunk at a time), payments charges those of
partners with a default saved method; invoicing never imports payments. One query per batch, so
a bill run's cost stays independent of its size. Imported by the app config."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from pbxportal.invoicing.hooks import on_invoices_issued
from pbxportal.invoicing.models import Invoice, InvoiceKind
from pbxportal.payments.models import SavedMethodStatus, SavedPaymentMethod
from pbxportal.payments.tasks import auto_charge_invoice


@on_invoices_issued
def queue_auto_charges(invoices: Sequence[Invoice]) -> None:
    sources = tuple(settings.AUTO_CHARGE_SOURCES)
    candidates = [
        invoice
        for invoice in invoices
        if invoice.kind == InvoiceKind.INVOICE and str(invoice.source_key or "").startswith(sources)
    ]
    if not candidates:
        return
    with_method = set(
        SavedPaymentMethod.objects.filter(
            partner_id__in={invoice.partner_id for invoice in candidates},
            is_default=True,
            status=SavedMethodStatus.ACTIVE,
        ).values_list("partner_id", flat=True)
    )
    for invoice in candidates:
        if invoice.partner_id in with_method:
            auto_charge_invoice.delay(invoice.pk)
