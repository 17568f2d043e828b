"""Payments API (R-INV-4, R-API-2): start a checkout, provider webhooks, staff bank transfers.

Every POST here moves money and honours ``Idempotency-Key`` (common.idempotency); the webhooks
are authenticated by their signature instead of a token.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.pagination import paginate

from pbxportal.common.api import actor_of
from pbxportal.common.pagination import Pagination
from pbxportal.common.schemas import Schema
from pbxportal.common.timeutil import vendor_today
from pbxportal.payments import selectors, services
from pbxportal.payments.models import Payment

router = Router(tags=["payments"])


class CheckoutIn(Schema):
    invoice_id: int
    provider: str = "sandbox"
    amount: Decimal | None = None


class CheckoutOut(Schema):
    reference: str
    redirect_url: str
    amount: Decimal
    currency: str


class OfflineIn(Schema):
    invoice_id: int
    amount: Decimal
    received_on: date
    pi_number: str = ""


class PaymentOut(Schema):
    id: int
    invoice_id: int
    method: str
    amount: Decimal
    currency: str
    received_on: date
    pi_number: str


class AllocationOut(Schema):
    invoice_id: int
    invoice_number: str | None
    amount: Decimal

    @staticmethod
    def resolve_invoice_number(obj: Any) -> str | None:
        return obj.invoice.number


class PaymentListOut(PaymentOut):
    invoice_number: str | None
    provider_ref: str | None
    allocations: list[AllocationOut]
    account_credit: Decimal

    @staticmethod
    def resolve_invoice_number(obj: Payment) -> str | None:
        return obj.invoice.number

    @staticmethod
    def resolve_allocations(obj: Payment) -> list[Any]:
        return list(obj.allocations.select_related("invoice"))

    @staticmethod
    def resolve_account_credit(obj: Payment) -> Decimal:
        return sum((entry.amount for entry in obj.credit_entries.all()), Decimal(0))


class BalanceOut(Schema):
    currency: str
    due: Decimal
    overdue: Decimal
    paid: Decimal
    credit: Decimal
    overdue_days: int
    overdue_stage: str | None


def _key(request: HttpRequest) -> str | None:
    key = request.headers.get("Idempotency-Key")
    return f"api:{actor_of(request).user.pk}:{key}" if key else None


@router.post("/checkouts", response={201: CheckoutOut})
def checkout_create(request: HttpRequest, payload: CheckoutIn) -> tuple[int, object]:
    """Pay an invoice, or part of it, on the provider's hosted page: redirect the user to ``redirect_url``."""
    checkout = services.checkout_start(
        actor=actor_of(request),
        invoice_id=payload.invoice_id,
        provider_code=payload.provider,
        amount=payload.amount,
    )
    return 201, checkout


@router.post("/webhooks/card", auth=None)
def webhook_card(request: HttpRequest) -> dict[str, str]:
    """Card provider events, Stripe-style ``Stripe-Signature`` (R-INV-4)."""
    return {
        "outcome": services.webhook_receive(
            provider_code="card", body=request.body, headers=request.headers, now=timezone.now()
        )
    }


@router.post("/webhooks/paypal", auth=None)
def webhook_paypal(request: HttpRequest) -> dict[str, str]:
    """PayPal events with ``PAYPAL-TRANSMISSION-*`` headers (R-INV-4)."""
    return {
        "outcome": services.webhook_receive(
            provider_code="paypal", body=request.body, headers=request.headers, now=timezone.now()
        )
    }


@router.post("/webhooks/sandbox", auth=None)
def webhook_sandbox(request: HttpRequest) -> dict[str, str]:
    """The built-in sandbox provider's events, ``Sandbox-Signature`` (R-INV-4)."""
    return {
        "outcome": services.webhook_receive(
            provider_code="sandbox", body=request.body, headers=request.headers, now=timezone.now()
        )
    }


@router.post("/offline", response={201: PaymentOut})
def offline_record(request: HttpRequest, payload: OfflineIn) -> tuple[int, object]:
    """Staff record a bank transfer, with the partner's PI number if any (R-INV-4)."""
    payment = services.payment_record_offline(
        actor=actor_of(request),
        invoice_id=payload.invoice_id,
        amount=payload.amount,
        received_on=payload.received_on,
        pi_number=payload.pi_number,
        idempotency_key=_key(request),
    )
    return 201, payment


@router.get("/", response=list[PaymentListOut])
@paginate(Pagination)
def payment_list(request: HttpRequest) -> QuerySet[Payment]:
    """Payments received (R-INV-4): method, amount, provider reference, PI number, and where each
    went — its allocations to invoices and any part kept as account credit."""
    actor = actor_of(request)
    return selectors.payment_list(
        actor=actor, partner_id=actor.own_partner_id if not actor.is_staff else None
    )


class RefundIn(Schema):
    partner_id: int
    amount: Decimal
    reference: str
    reason: str = ""


class RefundOut(Schema):
    id: int
    partner_id: int
    amount: Decimal
    currency: str
    reference: str
    reason: str


@router.post("/refunds", response={201: RefundOut})
def refund_create(request: HttpRequest, payload: RefundIn) -> tuple[int, object]:
    """Staff record a refund of a partner's account credit (at most the credit held), R-INV-4."""
    entry = services.refund_record(
        actor=actor_of(request),
        partner_id=payload.partner_id,
        amount=payload.amount,
        reference=payload.reference,
        reason=payload.reason,
    )
    return 201, {
        "id": entry.pk,
        "partner_id": entry.partner_id,
        "amount": -entry.amount,
        "currency": entry.currency,
        "reference": entry.reference,
        "reason": entry.reason,
    }


@router.get("/balance", response=BalanceOut)
def balance(request: HttpRequest) -> dict[str, object]:
    """The partner's account balance and overdue stage (R-INV-5)."""
    actor = actor_of(request)
    found = selectors.account_balance(actor=actor, partner_id=actor.own_partner_id, today=vendor_today())
    return {
        "currency": found.currency,
        "due": found.due,
        "overdue": found.overdue,
        "paid": found.paid,
        "credit": found.credit,
        "overdue_days": found.state.days,
        "overdue_stage": found.state.stage.code if found.state.stage else None,
    }


# --- saved payment methods and automatic charges (issue 14, build item 6) -----------------


class MethodIn(Schema):
    provider: str = "sandbox"


class MethodSetupOut(Schema):
    reference: str
    provider: str
    redirect_url: str


class SavedMethodOut(Schema):
    id: int
    provider: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    status: str


class ChargeAttemptOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str | None
    number: int
    scheduled_on: date
    status: str
    amount: Decimal | None
    currency: str
    method: str
    provider_ref: str
    decline_reason: str

    @staticmethod
    def resolve_invoice_number(obj: Any) -> str | None:
        return obj.invoice.number

    @staticmethod
    def resolve_method(obj: Any) -> str:
        return str(obj.method_label)


@router.get("/methods", response=list[SavedMethodOut])
@paginate(Pagination)
def method_list(request: HttpRequest) -> QuerySet[Any]:
    """The partner's saved payment methods (provider ids are never shown; brand, last four, expiry)."""
    actor = actor_of(request)
    return selectors.saved_methods(actor=actor, partner_id=actor.own_partner_id)


@router.post("/methods", response={201: MethodSetupOut})
def method_add(request: HttpRequest, payload: MethodIn) -> tuple[int, object]:
    """Save a card: redirect the user to ``redirect_url``, the provider's hosted setup page; the
    provider's webhook then saves the method (the first one becomes the default)."""
    from pbxportal.payments.methods import method_setup_start

    return 201, method_setup_start(actor=actor_of(request), provider_code=payload.provider)


@router.post("/methods/{method_id}/default", response=SavedMethodOut)
def method_default(request: HttpRequest, method_id: int) -> object:
    """Make this method the one renewal and usage invoices are charged to automatically."""
    from pbxportal.payments.methods import method_set_default

    return method_set_default(actor=actor_of(request), method_id=method_id)


@router.delete("/methods/{method_id}", response={204: None})
def method_delete(request: HttpRequest, method_id: int) -> tuple[int, None]:
    """Remove a saved method (also at the provider); automatic charges stop using it."""
    from pbxportal.payments.methods import method_remove

    method_remove(actor=actor_of(request), method_id=method_id)
    return 204, None


@router.get("/charge-attempts", response=list[ChargeAttemptOut])
@paginate(Pagination)
def charge_attempt_list(request: HttpRequest, invoice_id: int | None = None) -> QuerySet[Any]:
    """Automatic charge attempts, newest first: amount, result, provider reference, decline reason."""
    actor = actor_of(request)
    return selectors.charge_attempts(
        actor=actor, partner_id=None if actor.is_staff else actor.own_partner_id, invoice_id=invoice_id
    )
