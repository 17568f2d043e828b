"""Connects automatic charging (build item 6) to the issued-invoice hook: invoicing announces an
invoice, payments charges it; invoicing never imports payments. Imported by the app config."""

from __future__ import annotations

from django.conf import settings

from pbxportal.invoicing.hooks import on_invoice_issued
from pbxportal.invoicing.models import Invoice, InvoiceKind
from pbxportal.payments.models import SavedMethodStatus, SavedPaymentMethod
from pbxportal.payments.tasks import auto_charge_invoice


@on_invoice_issued
def queue_auto_charge(invoice: Invoice) -> None:
    if invoice.kind != InvoiceKind.INVOICE or not str(invoice.source_key or "").startswith(
        tuple(settings.AUTO_CHARGE_SOURCES)
    ):
        return
    if SavedPaymentMethod.objects.filter(
        partner_id=invoice.partner_id, is_default=True, status=SavedMethodStatus.ACTIVE
    ).exists():
        auto_charge_invoice.delay(invoice.pk)
