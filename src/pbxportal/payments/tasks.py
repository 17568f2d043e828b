"""Celery tasks of payments: the automatic charge of a newly issued invoice (build item 6)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="pbxportal.payments.tasks.auto_charge_invoice")
def auto_charge_invoice(invoice_id: int) -> str:
    from pbxportal.payments.methods import auto_charge_invoice as charge

    attempt = charge(invoice_id=invoice_id)
    return attempt.status if attempt is not None else "not charged automatically"
