"""Saved payment methods and automatic charging (issue 14, build item 6; R-INV-4, R-INV-5).

A partner's admin or billing user saves a card on the provider's hosted page (the sandbox's or
Stripe's, in setup mode); the provider's signed webhook tells the portal the provider's customer
and payment-method ids, which are all the portal keeps with the card's brand, last four digits and
expiry (never its number).

Renewal and usage invoices (``AUTO_CHARGE_SOURCES``) of a partner with a default saved method are
charged off-session when issued (the ``INVOICE_ISSUED`` hook), for the amount due after credits,
and retried on the days of ``AUTO_CHARGE_RETRY_DAYS`` (day offsets from the issue date, data;
``core/retry.py``) by the billing clock's ``auto_charge`` job. Each attempt is a ``ChargeAttempt``
row (amount, result, provider reference, decline reason). A failed attempt changes nothing on the
invoice: it stays due and the overdue stages run as usual. A succeeded one is applied like any
payment (``applying.payment_apply``): to the invoice up to what is due, anything more (a checkout paid
meanwhile) to account credit.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pbxportal.accounts.models import Partner
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict
from pbxportal.common.tenancy import get_scoped
from pbxportal.common.timeutil import vendor_today
from pbxportal.core.retry import attempt_on, next_attempt, parse_schedule
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from pbxportal.payments.applying import payment_apply as _apply
from pbxportal.payments.models import (
    AttemptStatus,
    ChargeAttempt,
    CheckoutStatus,
    MethodSetup,
    Payment,
    SavedMethodStatus,
    SavedPaymentMethod,
)
from pbxportal.payments.providers import ChargeResult, ProviderEvent, method_providers, saving_provider

log = logging.getLogger(__name__)

PAYABLE = (InvoiceStatus.DUE, InvoiceStatus.OVERDUE)


def retry_schedule() -> tuple[int, ...]:
    return parse_schedule(settings.AUTO_CHARGE_RETRY_DAYS)


# --- saving, choosing and removing methods -------------------------------------------------


def _customer_ref(partner_id: int, provider_code: str) -> str:
    for model in (SavedPaymentMethod, MethodSetup):
        found = (
            model.objects.filter(partner_id=partner_id, provider=provider_code)
            .exclude(customer_ref="")
            .values_list("customer_ref", flat=True)
            .first()
        )
        if found:
            return str(found)
    return ""


def method_setup_start(*, actor: Actor, provider_code: str) -> MethodSetup:
    """Start saving a card on the provider's hosted page; returns the setup with its URL."""
    actor.require_partner_role("billing")
    partner_id = actor.own_partner_id
    partner = Partner.objects.select_related("price_book").get(pk=partner_id)
    codes = [code for code, _label in method_providers()]
    if provider_code not in codes:
        raise ApplicationError(
            _("provider: one of %(codes)s (PayPal cannot save a method).") % {"codes": ", ".join(codes)},
            fields={"provider": "unknown"},
        )
    adapter = saving_provider(provider_code)
    customer = _customer_ref(partner_id, provider_code) or adapter.customer_create(
        partner_key=str(partner.code),
        name=str(partner.name),
        email=str(getattr(actor.user, "email", "") or ""),
    )
    reference = "set_" + secrets.token_urlsafe(18)
    url = adapter.setup_page_url(reference=reference, customer_ref=customer, currency=partner.currency)
    return MethodSetup.objects.create(
        partner_id=partner_id,
        provider=provider_code,
        reference=reference,
        customer_ref=customer,
        redirect_url=url,
        created_by=actor.user,
    )


def setup_apply(provider_code: str, event: ProviderEvent) -> str:
    """A verified setup webhook: save the method (once), default when the partner has none."""
    setup = (
        MethodSetup.objects.select_for_update()
        .filter(reference=event.reference, provider=provider_code)
        .first()
    )
    if setup is None:
        return f"unknown setup {event.reference}"
    if event.declined:
        if setup.status == CheckoutStatus.OPEN:
            setup.status = CheckoutStatus.FAILED
            setup.save(update_fields=["status"])
        return f"setup declined {setup.reference}"
    adapter = saving_provider(provider_code)
    method_ref = event.method_ref
    if not method_ref and event.provider_ref and hasattr(adapter, "setup_intent_method"):
        method_ref = adapter.setup_intent_method(event.provider_ref)
    if not method_ref:
        return f"ignored {event.event_type}"
    existing = SavedPaymentMethod.objects.filter(provider=provider_code, method_ref=method_ref).first()
    if existing is None:
        card = event.card or adapter.describe_method(method_ref)
        has_default = SavedPaymentMethod.objects.filter(
            partner_id=setup.partner_id, is_default=True, status=SavedMethodStatus.ACTIVE
        ).exists()
        existing = SavedPaymentMethod.objects.create(
            partner_id=setup.partner_id,
            provider=provider_code,
            customer_ref=event.customer_ref or setup.customer_ref,
            method_ref=method_ref,
            brand=card.brand[:30],
            last4=card.last4[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            is_default=not has_default,
            created_by=setup.created_by,
        )
        outcome = f"saved {existing.label}"
    else:
        outcome = "method already saved"
    setup.status = CheckoutStatus.PAID
    setup.saved_method = existing
    setup.save(update_fields=["status", "saved_method"])
    return outcome


def method_set_default(*, actor: Actor, method_id: int) -> SavedPaymentMethod:
    actor.require_partner_role("billing")
    with transaction.atomic():
        method = get_scoped(SavedPaymentMethod.objects.select_for_update(), actor, pk=method_id)
        if method.status != SavedMethodStatus.ACTIVE:
            raise Conflict(_("This payment method was removed."), rule="R-INV-4")
        SavedPaymentMethod.objects.filter(partner_id=method.partner_id, is_default=True).exclude(
            pk=method.pk
        ).update(is_default=False)
        method.is_default = True
        method.save(update_fields=["is_default"])
    return method


def method_remove(*, actor: Actor, method_id: int) -> SavedPaymentMethod:
    """Forget a saved method (here and at the provider); automatic charges stop using it."""
    actor.require_partner_role("billing")
    method = get_scoped(SavedPaymentMethod, actor, pk=method_id)
    if method.status == SavedMethodStatus.REMOVED:
        return method
    try:
        saving_provider(method.provider).detach_method(method.method_ref)
    except Exception as exc:  # the provider's side is best effort; the portal stops using it anyway
        log.warning("could not detach a saved method at %s (%s)", method.provider, type(exc).__name__)
    method.status = SavedMethodStatus.REMOVED
    method.is_default = False
    method.save(update_fields=["status", "is_default"])
    return method


def default_method(partner_id: int) -> SavedPaymentMethod | None:
    return SavedPaymentMethod.objects.filter(
        partner_id=partner_id, is_default=True, status=SavedMethodStatus.ACTIVE
    ).first()


# --- automatic charging --------------------------------------------------------------------


def auto_chargeable(invoice: Invoice) -> bool:
    """A renewal or usage invoice (AUTO_CHARGE_SOURCES), still payable, of a partner with a
    default saved method."""
    sources = tuple(settings.AUTO_CHARGE_SOURCES)
    return (
        invoice.kind == InvoiceKind.INVOICE
        and invoice.status in PAYABLE
        and bool(invoice.source_key)
        and str(invoice.source_key).startswith(sources)
        and default_method(invoice.partner_id) is not None
    )


def auto_charge_invoice(*, invoice_id: int, now: datetime | None = None) -> ChargeAttempt | None:
    """Schedule the first attempt of a newly issued invoice, and run it when it falls on the day
    of issue (schedule offset 0). Idempotent: the first attempt exists once per invoice."""
    invoice = Invoice.objects.get(pk=invoice_id)
    if not auto_chargeable(invoice) or invoice.issued_on is None:
        return None
    first = attempt_on(invoice.issued_on, retry_schedule(), 1)
    assert first is not None
    try:
        with transaction.atomic():
            attempt, created = ChargeAttempt.objects.get_or_create(
                invoice=invoice,
                number=1,
                defaults={
                    "partner_id": invoice.partner_id,
                    "scheduled_on": first,
                    "currency": invoice.currency,
                    "reference": "chg_" + secrets.token_urlsafe(18),
                },
            )
    except IntegrityError:
        return ChargeAttempt.objects.get(invoice=invoice, number=1)
    if created and first <= invoice.issued_on:
        return charge_attempt_run(attempt_id=attempt.pk, day=first, now=now)
    return attempt


def charge_attempt_run(*, attempt_id: int, day: date, now: datetime | None = None) -> ChargeAttempt:
    """Run one scheduled attempt: charge the amount due after credits on the default method."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = ChargeAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status != AttemptStatus.SCHEDULED:
            return attempt
        invoice = Invoice.objects.select_for_update().get(pk=attempt.invoice_id)
        method = default_method(attempt.partner_id)
        attempt.attempted_at = now
        if invoice.status not in PAYABLE or invoice.amount_due <= 0:
            attempt.status = AttemptStatus.SKIPPED
            attempt.decline_reason = "nothing due"
        elif method is None:
            attempt.status = AttemptStatus.SKIPPED
            attempt.decline_reason = "no saved payment method"
        else:
            attempt.status = AttemptStatus.PENDING
            attempt.amount = invoice.amount_due
            attempt.saved_method = method
            attempt.method_label = method.label[:80]
            attempt.provider = method.provider
        attempt.save()
    if attempt.status != AttemptStatus.PENDING:
        return attempt
    assert method is not None and attempt.amount is not None
    try:
        result = saving_provider(method.provider).charge_saved(
            reference=attempt.reference,
            customer_ref=method.customer_ref,
            method_ref=method.method_ref,
            amount=attempt.amount,
            currency=attempt.currency,
        )
    except Exception as exc:  # the provider unreachable: a failed attempt, retried on schedule
        log.warning("automatic charge %s: provider error %s", attempt.reference, type(exc).__name__)
        result = ChargeResult(status="failed", decline_reason=f"provider error ({type(exc).__name__})")
    return attempt_settle(reference=attempt.reference, result=result, day=day)


def attempt_settle(*, reference: str, result: ChargeResult, day: date) -> ChargeAttempt:
    """The outcome of a pending attempt, from the provider's answer or its webhook (whichever
    comes first; the other finds the attempt settled and changes nothing). Money the provider
    says it took is always recorded, even for an attempt already counted failed (its answer was
    lost to a network error): it pays the invoice, or becomes account credit if paid meanwhile."""
    with transaction.atomic():
        attempt = ChargeAttempt.objects.select_for_update().get(reference=reference)
        took_money = result.status == "succeeded" and attempt.payment_id is None
        settles = took_money and attempt.status in (AttemptStatus.PENDING, AttemptStatus.FAILED)
        if not settles and (attempt.status != AttemptStatus.PENDING or result.status == "pending"):
            if result.provider_ref and not attempt.provider_ref:
                attempt.provider_ref = result.provider_ref[:120]
                attempt.save(update_fields=["provider_ref"])
            return attempt
        attempt.provider_ref = result.provider_ref[:120]
        if result.status == "succeeded":
            assert attempt.amount is not None
            payment = (
                Payment.objects.filter(provider_ref=result.provider_ref).first()
                if result.provider_ref
                else None
            )
            if payment is None:
                payment = _apply(
                    invoice_id=attempt.invoice_id,
                    amount=attempt.amount,
                    currency=attempt.currency,
                    method=attempt.provider,
                    received_on=day,
                    provider_ref=result.provider_ref or None,
                )
            attempt.status = AttemptStatus.SUCCEEDED
            attempt.decline_reason = ""
            attempt.payment = payment
        else:
            attempt.status = AttemptStatus.FAILED
            attempt.decline_reason = (result.decline_reason or "declined")[:200]
            _schedule_retry(attempt, day)
        attempt.save()
    return attempt


def _schedule_retry(attempt: ChargeAttempt, day: date) -> ChargeAttempt | None:
    invoice = attempt.invoice
    assert invoice.issued_on is not None
    following = next_attempt(invoice.issued_on, retry_schedule(), attempt.number, day)
    if following is None:
        return None
    number, on = following
    retry, _created = ChargeAttempt.objects.get_or_create(
        invoice=invoice,
        number=number,
        defaults={
            "partner_id": attempt.partner_id,
            "scheduled_on": on,
            "currency": attempt.currency,
            "reference": "chg_" + secrets.token_urlsafe(18),
        },
    )
    return retry


def charge_event_apply(provider_code: str, event: ProviderEvent, now: datetime) -> str:
    """A verified webhook of an off-session charge (Stripe's payment_intent.*)."""
    attempt = ChargeAttempt.objects.filter(reference=event.reference, provider=provider_code).first()
    if attempt is None:
        return f"unknown charge {event.reference}"
    status = "succeeded" if event.paid else "failed"
    settled = attempt_settle(
        reference=attempt.reference,
        result=ChargeResult(
            status=status, provider_ref=event.provider_ref, decline_reason=event.decline_reason
        ),
        day=vendor_today(now),
    )
    return f"charge {settled.status} {settled.reference}"


def charges_due(day: date) -> int:
    """The clock's ``auto_charge`` job: every scheduled attempt due on or before ``day``."""
    due = ChargeAttempt.objects.filter(status=AttemptStatus.SCHEDULED, scheduled_on__lte=day).order_by(
        "scheduled_on", "id"
    )
    done = 0
    for attempt_id in list(due.values_list("pk", flat=True)):
        charge_attempt_run(attempt_id=attempt_id, day=day)
        done += 1
    return done
