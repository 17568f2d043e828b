"""Invoice work queued after the issuing transaction commits."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="pbxportal.invoicing.tasks.mail_invoice")
def mail_invoice(invoice_id: int) -> bool:
    """R-INV-3: the billing contact gets the issued invoice with a one-time 24-hour link."""
    from pbxportal.invoicing.links import invoice_mail

    return invoice_mail(invoice_id=invoice_id)


@shared_task(name="pbxportal.invoicing.tasks.renew_chunk", acks_late=True)
def renew_chunk(run_id: int, pbx_ids: list[int], day_iso: str) -> int:
    """R-INV-2: one chunk of a bill run; safe to run twice (a worker killed mid-chunk)."""
    from datetime import date

    from pbxportal.invoicing.billrun import billrun_chunk

    return billrun_chunk(run_id=run_id, pbx_ids=pbx_ids, day=date.fromisoformat(day_iso))
