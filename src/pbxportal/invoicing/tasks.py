"""Invoice work queued after the issuing transaction commits."""

from __future__ import annotations

from celery import shared_task

from pbxportal.invoicing.links import invoice_mail


@shared_task(name="pbxportal.invoicing.tasks.mail_invoice")
def mail_invoice(invoice_id: int) -> bool:
    """R-INV-3: the billing contact gets the issued invoice with a one-time 24-hour link."""
    return invoice_mail(invoice_id=invoice_id)
