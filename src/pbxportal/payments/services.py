"""Writes of payments (R-INV-4, R-API-2): checkouts on a provider's hosted page, verified provider
webhooks, offline bank transfers recorded by staff; partial payments; each applied exactly once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, Forbidden, NotFound
from pbxportal.common.tenancy import get_scoped
from pbxportal.common.timeutil import vendor_today
from pbxportal.core.money import round_line
from pbxportal.invoicing import credits
from pbxportal.invoicing.models import AccountCreditEntry, Invoice, InvoiceKind, InvoiceStatus
from pbxportal.payments.applying import payment_apply as _apply
from pbxportal.payments.models import Checkout, CheckoutStatus, Method, Payment, WebhookEvent
from pbxportal.payments.providers import InvalidSignature, ProviderEvent, enabled_providers, provider

PAYABLE = (InvoiceStatus.DUE, InvoiceStatus.OVERDUE)


def _payable_amount(invoice: Invoice, amount: Decimal | None) -> Decimal:
    if invoice.kind != InvoiceKind.INVOICE or invoice.status not in PAYABLE:
        raise Conflict(f"Invoice {invoice.number} is {invoice.status}: nothing to pay.", rule="R-INV-4")
    balance = invoice.amount_due
    amount = balance if amount is None else amount
    if amount <= 0 or amount != round_line(amount, invoice.currency):
        raise ApplicationError(
            f"amount: a positive amount in {invoice.currency} with its currency's decimals.",
            rule="R-INV-4",
            fields={"amount": "invalid"},
        )
    if amount > balance:
        raise ApplicationError(
            f"amount: {amount} is more than the {balance} still due on {invoice.number}.",
            rule="R-INV-4",
            fields={"amount": "more than due"},
        )
    return amount


def checkout_start(
    *, actor: Actor, invoice_id: int, provider_code: str, amount: Decimal | None = None
) -> Checkout:
    """Start paying an invoice (all of what is due, or part of it) on the provider's hosted page.
    Allowed in every overdue stage: paying is never blocked (R-INV-5)."""
    actor.require_partner_role("billing")
    codes = [code for code, _ in enabled_providers()]
    if provider_code not in codes:
        raise ApplicationError(f"provider: one of {', '.join(codes)}.", fields={"provider": "unknown"})
    invoice = get_scoped(Invoice, actor, pk=invoice_id)
    amount = _payable_amount(invoice, amount)
    reference = "chk_" + secrets.token_urlsafe(18)
    url = provider(provider_code).hosted_page_url(
        reference=reference, amount=amount, currency=invoice.currency, description=f"Invoice {invoice.number}"
    )
    return Checkout.objects.create(
        partner_id=invoice.partner_id,
        invoice=invoice,
        provider=provider_code,
        reference=reference,
        amount=amount,
        currency=invoice.currency,
        redirect_url=url,
        created_by=actor.user,
    )


def paypal_capture(*, actor: Actor, order_id: str) -> dict[str, object]:
    """Capture an approved PayPal order of the actor's partner (R-INV-4)."""
    actor.require_partner_role("billing")
    if not order_id or not order_id.isalnum() or len(order_id) > 40:
        raise ApplicationError("token: the PayPal order id.", fields={"token": "invalid"})
    from pbxportal.payments.providers.paypal import PayPalProvider

    paypal = provider("paypal")
    assert isinstance(paypal, PayPalProvider)
    return paypal.capture(order_id=order_id)


def webhook_receive(*, provider_code: str, body: bytes, headers: Mapping[str, str], now: datetime) -> str:
    """A provider's webhook (R-INV-4): a forged one (bad signature) is refused and changes nothing;
    a replayed one finds its event row and is applied once. Returns what happened."""
    try:
        event = provider(provider_code).parse_webhook(body=body, headers=headers, now=now)
    except KeyError:
        raise NotFound(f"No payment provider {provider_code!r}.") from None
    except InvalidSignature as exc:
        raise Forbidden(f"Webhook signature refused: {exc}.", rule="R-INV-4") from None
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                provider=provider_code,
                event_id=event.event_id,
                event_type=event.event_type,
                transmission_id=f"{provider_code}:{event.transmission_id}" if event.transmission_id else None,
                payload={},
            )
            outcome = _webhook_apply(provider_code, event, now)
            record.outcome = outcome
            record.payload = {"reference": event.reference, "amount": str(event.amount)}
            record.save(update_fields=["outcome", "payload"])
    except IntegrityError:
        return "replayed: already applied"
    return outcome


def _webhook_apply(provider_code: str, event: ProviderEvent, now: datetime) -> str:
    if event.kind in ("setup", "charge"):
        from pbxportal.payments import methods

        if event.kind == "setup":
            return methods.setup_apply(provider_code, event)
        return methods.charge_event_apply(provider_code, event, now)
    if event.declined:
        updated = Checkout.objects.filter(
            reference=event.reference, provider=provider_code, status=CheckoutStatus.OPEN
        ).update(status=CheckoutStatus.FAILED)
        return f"declined {event.reference}" if updated else f"ignored {event.event_type}"
    if not event.paid:
        return f"ignored {event.event_type}"
    checkout = (
        Checkout.objects.select_for_update().filter(reference=event.reference, provider=provider_code).first()
    )
    if checkout is None:
        return f"unknown checkout {event.reference}"
    if Payment.objects.filter(provider_ref=event.provider_ref).exists():
        return "payment already recorded"
    _apply(
        invoice_id=checkout.invoice_id,
        amount=event.amount,
        currency=event.currency,
        method=provider_code,
        received_on=vendor_today(now),
        provider_ref=event.provider_ref,
        checkout=checkout,
    )
    checkout.status = CheckoutStatus.PAID
    checkout.save(update_fields=["status"])
    return f"paid {event.amount} {event.currency}"


def payment_record_offline(
    *,
    actor: Actor,
    invoice_id: int,
    amount: Decimal,
    received_on: date,
    pi_number: str = "",
    idempotency_key: str | None = None,
) -> Payment:
    """Staff record a bank transfer (R-INV-4, R-EX-3), with the PI number when the partner gave one.
    The same idempotency key returns the first payment (a double-posted form pays once)."""
    invoice = get_scoped(Invoice, actor, pk=invoice_id)
    actor.require_staff("customer_care")
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.invoice_id != invoice.pk or existing.amount != amount:
                raise Conflict("This idempotency key recorded another payment.", rule="R-API-2")
            return existing
    try:
        with transaction.atomic():
            invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
            amount = _payable_amount(invoice, amount)
            return _apply(
                invoice_id=invoice.pk,
                amount=amount,
                currency=invoice.currency,
                method=Method.BANK_TRANSFER,
                received_on=received_on,
                pi_number=pi_number.strip(),
                recorded_by=actor,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing


def refund_record(
    *, actor: Actor, partner_id: int, amount: Decimal, reference: str, reason: str = ""
) -> AccountCreditEntry:
    """Staff pay back a partner's account credit (R-INV-4): at most the credit held. The API and the
    staff invoice page both record refunds here."""
    from pbxportal.accounts.models import Partner

    actor.require_staff("customer_care")
    partner = get_scoped(Partner, actor, pk=partner_id)
    if not reference.strip():
        raise ApplicationError("reference: the bank transfer's reference.", fields={"reference": "required"})
    entry: AccountCreditEntry = credits.refund_record(
        partner_id=partner.pk,
        amount=amount,
        reference=reference.strip(),
        reason=reason.strip(),
        recorded_by=actor,
    )
    return entry
