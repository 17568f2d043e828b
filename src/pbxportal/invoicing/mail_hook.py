"""Registers the invoice mail (R-INV-3) as an issued-invoice hook; imported by the app config."""

from __future__ import annotations

from django.conf import settings

from pbxportal.invoicing.hooks import on_invoice_issued
from pbxportal.invoicing.models import Invoice
from pbxportal.invoicing.tasks import mail_invoice


@on_invoice_issued
def queue_invoice_mail(invoice: Invoice) -> None:
    if not getattr(settings, "INVOICE_MAIL_ON_ISSUE", True):  # off only in `bench billrun`
        return
    mail_invoice.delay(invoice.pk)
