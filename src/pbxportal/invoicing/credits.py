"""Credits that count (R-INV-1, R-INV-4, R-INV-5): every payment, credit note and use of account
credit is recorded as allocations to invoices; what no invoice needs becomes account credit,
applied automatically to the partner's oldest open invoices.

All operations of one partner's ledger run under a lock on the partner's row, so two concurrent
payments on one invoice never both settle it: the second finds nothing due and becomes account
credit. Invariants (tests/invoicing/test_credits_property.py):

- an invoice's amount due = total - amount_paid - amount_credited, never negative;
- allocations + account credit entries sum to payments + credit notes - refunds;
- the account credit balance never goes below zero.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from pbxportal.accounts.models import Partner
from pbxportal.common.errors import ApplicationError
from pbxportal.invoicing.hooks import run_paid_hooks
from pbxportal.invoicing.models import (
    AccountCreditEntry,
    Allocation,
    AllocationSource,
    CreditEntryKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)

OPEN = (InvoiceStatus.DUE, InvoiceStatus.OVERDUE)
STORED = Decimal("0.000001")


def _lock_partner(partner_id: int) -> None:
    Partner.objects.select_for_update().filter(pk=partner_id).values_list("pk", flat=True).first()


def account_credit(*, partner_id: int) -> Decimal:
    """The partner's unused account credit (sum of its ledger). SQLite sums decimals as floats, so
    the sum is brought back to the stored precision (6 places) before anyone compares it."""
    total: Decimal | None = AccountCreditEntry.objects.filter(partner_id=partner_id).aggregate(
        total=Sum("amount")
    )["total"]
    return Decimal(total or 0).quantize(STORED)


def _settle(invoice: Invoice, on: date) -> list[Invoice]:
    """Move an invoice on after an allocation: void when credit notes cover it, paid when nothing
    is due. Returns the invoices that became paid (their paid hooks run)."""
    fields = ["amount_paid", "amount_credited", "status", "paid_on", "updated_at"]
    became_paid = []
    if invoice.amount_credited >= invoice.total:
        invoice.status = InvoiceStatus.VOID
    elif invoice.amount_paid + invoice.amount_credited >= invoice.total and invoice.status in OPEN:
        invoice.status, invoice.paid_on = InvoiceStatus.PAID, on
        became_paid.append(invoice)
    invoice.save(update_fields=fields)
    return became_paid


def _run_paid_hooks(invoices: list[Invoice]) -> None:
    for invoice in invoices:
        run_paid_hooks(invoice)


def payment_allocate(*, payment: Any, invoice_id: int | None, on: date) -> list[Allocation]:
    """A received payment: to its invoice up to what is due (a checkout never asks more, but a
    second concurrent payment finds less), the rest to account credit, then applied onwards."""
    _lock_partner(payment.partner_id)
    allocations = []
    remainder = payment.amount
    paid: list[Invoice] = []
    if invoice_id is not None:
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        part = min(remainder, max(invoice.amount_due, Decimal(0)))
        if part > 0:
            allocations.append(
                Allocation.objects.create(
                    partner_id=payment.partner_id,
                    invoice=invoice,
                    source=AllocationSource.PAYMENT,
                    payment=payment,
                    amount=part,
                    currency=payment.currency,
                )
            )
            invoice.amount_paid += part
            remainder -= part
            paid += _settle(invoice, on)
    if remainder > 0:
        AccountCreditEntry.objects.create(
            partner_id=payment.partner_id,
            kind=CreditEntryKind.OVERPAYMENT,
            amount=remainder,
            currency=payment.currency,
            payment=payment,
        )
    _run_paid_hooks(paid)
    allocations += account_credit_apply(partner_id=payment.partner_id, on=on)
    return allocations


def credit_note_allocate(*, note: Invoice, on: date) -> list[Allocation]:
    """A credit note reduces the amount due of the invoice it credits; a full credit voids it
    (its overdue stage goes with it, R-INV-5); what the invoice does not need is account credit."""
    assert note.kind == InvoiceKind.CREDIT_NOTE and note.credited_invoice_id is not None
    _lock_partner(note.partner_id)
    credit = -note.total
    invoice = Invoice.objects.select_for_update().get(pk=note.credited_invoice_id)
    allocations = []
    part = min(credit, max(invoice.amount_due, Decimal(0)))
    if part > 0:
        allocations.append(
            Allocation.objects.create(
                partner_id=note.partner_id,
                invoice=invoice,
                source=AllocationSource.CREDIT_NOTE,
                credit_note=note,
                amount=part,
                currency=note.currency,
            )
        )
    invoice.amount_credited += part
    fully_credited = -sum(invoice.credit_notes.values_list("total", flat=True), Decimal(0)) >= invoice.total
    if fully_credited and invoice.status != InvoiceStatus.VOID:
        invoice.status = InvoiceStatus.VOID
        invoice.save(update_fields=["amount_credited", "status", "updated_at"])
        paid: list[Invoice] = []
    else:
        paid = _settle(invoice, on)
    if credit - part > 0:
        AccountCreditEntry.objects.create(
            partner_id=note.partner_id,
            kind=CreditEntryKind.CREDIT_NOTE,
            amount=credit - part,
            currency=note.currency,
            credit_note=note,
        )
    _run_paid_hooks(paid)
    return allocations + account_credit_apply(partner_id=note.partner_id, on=on)


def account_credit_apply(*, partner_id: int, on: date) -> list[Allocation]:
    """Apply the partner's account credit to its open invoices, oldest due date first, each use
    recorded (an allocation and a negative ledger entry). Called whenever credit arises and
    whenever an invoice is issued."""
    _lock_partner(partner_id)
    available = account_credit(partner_id=partner_id)
    allocations: list[Allocation] = []
    if available <= 0:
        return allocations
    paid: list[Invoice] = []
    open_invoices = Invoice.objects.select_for_update().filter(
        partner_id=partner_id, kind=InvoiceKind.INVOICE, status__in=OPEN
    )
    for invoice in open_invoices.order_by("due_on", "id"):
        if available <= 0:
            break
        part = min(available, invoice.amount_due)
        if part <= 0:
            continue
        allocations.append(
            Allocation.objects.create(
                partner_id=partner_id,
                invoice=invoice,
                source=AllocationSource.ACCOUNT_CREDIT,
                amount=part,
                currency=invoice.currency,
            )
        )
        AccountCreditEntry.objects.create(
            partner_id=partner_id,
            kind=CreditEntryKind.APPLIED,
            amount=-part,
            currency=invoice.currency,
            invoice=invoice,
        )
        invoice.amount_paid += part
        available -= part
        paid += _settle(invoice, on)
    _run_paid_hooks(paid)
    return allocations


def refund_record(
    *, partner_id: int, amount: Decimal, reference: str, recorded_by: Any = None, reason: str = ""
) -> Any:
    """Staff pay back account credit (a bank transfer to the partner): at most the credit held."""
    _lock_partner(partner_id)
    available = account_credit(partner_id=partner_id)
    if amount <= 0 or amount > available:
        raise ApplicationError(
            f"amount: a refund is positive and at most the account credit of {available}.",
            rule="R-INV-4",
            fields={"amount": "more than the account credit" if amount > 0 else "invalid"},
        )
    partner = Partner.objects.select_related("price_book").get(pk=partner_id)
    return AccountCreditEntry.objects.create(
        partner_id=partner_id,
        kind=CreditEntryKind.REFUND,
        amount=-amount,
        currency=partner.currency,
        reference=reference[:120],
        reason=reason[:300],
        recorded_by=getattr(recorded_by, "user", recorded_by),
    )
