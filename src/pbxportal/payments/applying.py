"""Recording a payment and allocating it, the one step every way of paying ends in (R-INV-4):
checkouts and webhooks (``services``), offline payments, and automatic charges (``methods``).
Its own module so that ``services`` and ``methods`` both call it without importing each other."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError
from pbxportal.invoicing import credits
from pbxportal.invoicing.models import Invoice
from pbxportal.payments.models import Checkout, Payment


def payment_apply(
    *,
    invoice_id: int,
    amount: Decimal,
    currency: str,
    method: str,
    received_on: date,
    provider_ref: str | None = None,
    checkout: Checkout | None = None,
    pi_number: str = "",
    recorded_by: Actor | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """Record a payment and allocate it (invoicing/credits.py): to its invoice up to what is due,
    the rest (a second concurrent payment, an overpayment) to account credit, applied onwards."""
    invoice = Invoice.objects.get(pk=invoice_id)
    if currency != invoice.currency:
        raise ApplicationError(f"currency: {currency}; the invoice is in {invoice.currency}.", rule="R-INV-4")
    payment = Payment.objects.create(
        partner_id=invoice.partner_id,
        invoice=invoice,
        method=method,
        amount=amount,
        currency=currency,
        received_on=received_on,
        provider_ref=provider_ref,
        checkout=checkout,
        pi_number=pi_number[:60],
        recorded_by=recorded_by.user if recorded_by else None,
        idempotency_key=idempotency_key,
    )
    credits.payment_allocate(payment=payment, invoice_id=invoice.pk, on=received_on)
    return payment
