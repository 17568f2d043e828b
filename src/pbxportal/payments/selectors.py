"""Reads of payments: a partner's account balance (R-UI-1), its payments, staff lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum

from pbxportal.accounts.models import Partner
from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.invoicing.credits import account_credit
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from pbxportal.overdue.policy import OverdueState, partner_state
from pbxportal.payments.models import ChargeAttempt, Payment, SavedMethodStatus, SavedPaymentMethod


@dataclass(frozen=True)
class Balance:
    currency: str
    due: Decimal
    overdue: Decimal
    paid: Decimal
    credit: Decimal
    state: OverdueState


def _sum(qs: QuerySet[Any], expression: Any) -> Decimal:
    total: Decimal | None = qs.aggregate(total=Sum(expression))["total"]
    return total or Decimal(0)


def account_balance(*, actor: Actor, partner_id: int, today: date) -> Balance:
    """Due (not yet past its date) and overdue (past it): amounts due after payments, credit notes
    and account credit allocated; paid; and credit: the unused account credit (invoicing/credits.py)."""
    partner = get_scoped(Partner.objects.select_related("price_book"), actor, pk=partner_id)
    invoices = Invoice.objects.filter(partner=partner)
    open_ = invoices.filter(kind=InvoiceKind.INVOICE, status__in=[InvoiceStatus.DUE, InvoiceStatus.OVERDUE])
    outstanding = F("total") - F("amount_paid") - F("amount_credited")
    return Balance(
        currency=partner.currency,
        due=_sum(open_.filter(due_on__gte=today), outstanding),
        overdue=_sum(open_.filter(due_on__lt=today), outstanding),
        paid=_sum(Payment.objects.filter(partner=partner), F("amount")),
        credit=account_credit(partner_id=partner.pk),
        state=partner_state(partner_id=partner.pk, today=today),
    )


def open_invoices(*, actor: Actor, partner_id: int) -> QuerySet[Invoice]:
    return (
        scoped(Invoice, actor)
        .filter(
            partner_id=partner_id,
            kind=InvoiceKind.INVOICE,
            status__in=[InvoiceStatus.DUE, InvoiceStatus.OVERDUE],
        )
        .order_by("due_on", "id")
    )


def payment_list(*, actor: Actor, partner_id: int | None = None) -> QuerySet[Payment]:
    qs = scoped(Payment.objects.select_related("invoice", "partner"), actor)
    return qs.filter(partner_id=partner_id) if partner_id else qs


def saved_methods(*, actor: Actor, partner_id: int) -> QuerySet[SavedPaymentMethod]:
    """The partner's saved payment methods still in use, the default first."""
    return scoped(SavedPaymentMethod, actor).filter(partner_id=partner_id, status=SavedMethodStatus.ACTIVE)


def charge_attempts(
    *, actor: Actor, partner_id: int | None = None, invoice_id: int | None = None
) -> QuerySet[ChargeAttempt]:
    """Automatic charge attempts, newest first (of a partner, or of one invoice)."""
    qs = scoped(ChargeAttempt.objects.select_related("invoice"), actor).order_by(
        "-scheduled_on", "-number", "-id"
    )
    if partner_id:
        qs = qs.filter(partner_id=partner_id)
    if invoice_id:
        qs = qs.filter(invoice_id=invoice_id)
    return qs


def invoices_awaiting_payment(*, actor: Actor, limit: int = 50) -> list[Invoice]:
    """The open invoices of every partner the staff member sees, oldest due first: a bank transfer
    is recorded against one of them (the staff dashboard's "offline payments awaited" queue)."""
    actor.require_staff()
    return list(
        scoped(Invoice, actor)
        .filter(kind=InvoiceKind.INVOICE, status__in=[InvoiceStatus.DUE, InvoiceStatus.OVERDUE])
        .exclude(number=None)
        .select_related("partner")
        .order_by("due_on", "id")[:limit]
    )
