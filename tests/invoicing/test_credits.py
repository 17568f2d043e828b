"""Credits that count (R-INV-1, R-INV-4, R-INV-5): credit notes reduce what is due, a full credit
voids the invoice and clears its overdue stage, overpayments become account credit applied to the
oldest open invoices, every allocation recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxportal.accounts.models import Partner
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError
from pbxportal.invoicing.credits import account_credit, refund_record
from pbxportal.invoicing.models import (
    AccountCreditEntry,
    Allocation,
    AllocationSource,
    CreditEntryKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from pbxportal.overdue.policy import partner_state
from pbxportal.payments.models import Method, Payment
from pbxportal.payments.selectors import account_balance
from pbxportal.payments.services import _apply
from tests.invoicing.helpers import DAY, credit, issue


def pay(invoice: Invoice, amount: str) -> Payment:
    return _apply(
        invoice_id=invoice.pk,
        amount=Decimal(amount),
        currency=invoice.currency,
        method=Method.BANK_TRANSFER,
        received_on=DAY,
    )


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def test_a_partial_credit_reduces_the_amount_due(partner_a: Partner) -> None:
    # given a 3-licence invoice of 237.60 / when a correction credits 2 licences
    invoice = issue(partner_a, "237.60")
    note = credit(invoice, "158.40")
    # then 79.20 is due, recorded as an allocation of the credit note
    invoice = fresh(invoice)
    assert invoice.amount_due == Decimal("79.20") and invoice.status == InvoiceStatus.DUE
    [allocation] = Allocation.objects.filter(invoice=invoice)
    assert (allocation.source, allocation.credit_note_id, allocation.amount) == (
        AllocationSource.CREDIT_NOTE,
        note.pk,
        Decimal("158.40"),
    )


@pytest.mark.overdue_policy
def test_a_full_credit_voids_the_invoice_and_clears_its_overdue_stage(partner_a: Partner) -> None:
    # given an invoice 40 days past due: the partner is in an overdue stage
    invoice = issue(partner_a, "79.20")
    late = invoice.due_on + timedelta(days=40)
    assert partner_state(partner_id=partner_a.pk, today=late).stage is not None
    # when it is fully credited
    credit(invoice, "79.20", on=late)
    # then it is void, nothing is due and the stage is gone
    invoice = fresh(invoice)
    assert invoice.status == InvoiceStatus.VOID and invoice.amount_due == 0
    assert partner_state(partner_id=partner_a.pk, today=late).stage is None


def test_an_overpayment_becomes_credit_and_pays_the_next_invoice(partner_a: Partner, make_user: Any) -> None:
    # given an invoice of 79.20 paid with 100.00
    first = issue(partner_a, "79.20")
    payment = pay(first, "100.00")
    # then it is paid and 20.80 is account credit
    assert fresh(first).status == InvoiceStatus.PAID
    assert account_credit(partner_id=partner_a.pk) == Decimal("20.80")
    assert AccountCreditEntry.objects.get(kind=CreditEntryKind.OVERPAYMENT).payment_id == payment.pk
    # when the next invoice of 50.00 is issued
    second = issue(partner_a, "50.00")
    # then the credit pays 20.80 of it at once, recorded as an allocation
    second = fresh(second)
    assert second.amount_paid == Decimal("20.80") and second.amount_due == Decimal("29.20")
    assert Allocation.objects.get(invoice=second).source == AllocationSource.ACCOUNT_CREDIT
    assert account_credit(partner_id=partner_a.pk) == 0
    balance = account_balance(actor=Actor(user=make_user(partner_a)), partner_id=partner_a.pk, today=DAY)
    assert balance.credit == 0 and balance.due == Decimal("29.20")


def test_a_second_payment_of_the_same_invoice_becomes_account_credit(partner_a: Partner) -> None:
    # given two checkouts of the whole 79.20, both completed (the second one concurrently)
    invoice = issue(partner_a, "79.20")
    pay(invoice, "79.20")
    pay(invoice, "79.20")
    # then the invoice is paid once: 79.20, and 79.20 is account credit, never 158.40 on the invoice
    invoice = fresh(invoice)
    assert invoice.amount_paid == Decimal("79.20") and invoice.status == InvoiceStatus.PAID
    assert account_credit(partner_id=partner_a.pk) == Decimal("79.20")


def test_unallocated_credit_goes_to_the_oldest_open_invoice(partner_a: Partner) -> None:
    # given a paid invoice and two open ones
    paid = issue(partner_a, "100.00")
    pay(paid, "100.00")
    older = issue(partner_a, "30.00")
    newer = issue(partner_a, "30.00", on=DAY + timedelta(days=1))
    # when the paid invoice is credited in part
    credit(paid, "40.00")
    # then the credit pays the older open invoice, and 10.00 of the newer
    assert fresh(older).status == InvoiceStatus.PAID
    assert fresh(newer).amount_due == Decimal("20.00")
    assert fresh(paid).status == InvoiceStatus.PAID


def test_staff_record_a_refund_of_account_credit(partner_a: Partner) -> None:
    invoice = issue(partner_a, "10.00")
    pay(invoice, "25.00")
    with pytest.raises(ApplicationError):
        refund_record(partner_id=partner_a.pk, amount=Decimal("15.01"), reference="too much")
    refund_record(partner_id=partner_a.pk, amount=Decimal("15.00"), reference="SEPA 2025-03-11")
    assert account_credit(partner_id=partner_a.pk) == 0


# --- property: any sequence of invoices, credit notes, payments and refunds -------------------

operation = st.one_of(
    st.tuples(st.just("invoice"), st.integers(1, 50_000)),
    st.tuples(st.just("credit"), st.integers(0, 10), st.integers(1, 100)),
    st.tuples(st.just("pay"), st.integers(0, 10), st.integers(1, 60_000)),
    st.tuples(st.just("refund"), st.integers(1, 100)),
)


def _sum(qs: Any, field: str = "amount") -> Decimal:
    return Decimal(qs.aggregate(total=Sum(field))["total"] or 0).quantize(Decimal("0.000001"))


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(operation, min_size=1, max_size=12))
def test_amounts_due_never_negative_and_allocations_sum_to_payments_plus_credits(
    make_partner: Callable[..., Partner], operations: list[tuple[Any, ...]]
) -> None:
    partner = make_partner()
    invoices: list[Invoice] = []
    refunds = Decimal(0)
    for op in operations:
        if op[0] == "invoice":
            invoices.append(issue(partner, str(Decimal(op[1]) / 100)))
        elif op[0] == "credit" and invoices:
            target = fresh(invoices[op[1] % len(invoices)])
            room = target.total + _sum(target.credit_notes.all(), "total")
            amount = (room * op[2] / 100).quantize(Decimal("0.01"))
            if amount > 0:
                credit(target, str(amount))
        elif op[0] == "pay" and invoices:
            pay(invoices[op[1] % len(invoices)], str(Decimal(op[2]) / 100))
        elif op[0] == "refund":
            held = account_credit(partner_id=partner.pk)
            amount = (held * op[1] / 100).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
            if amount > 0:
                refund_record(partner_id=partner.pk, amount=amount, reference="refund")
                refunds += amount
        # then, after every step:
        for invoice in Invoice.objects.filter(partner=partner, kind=InvoiceKind.INVOICE):
            assert invoice.amount_due >= 0
            assert invoice.total - invoice.amount_paid - invoice.amount_credited >= 0
            assert invoice.amount_paid == _sum(
                invoice.allocations.exclude(source=AllocationSource.CREDIT_NOTE)
            )
            assert invoice.amount_credited == _sum(
                invoice.allocations.filter(source=AllocationSource.CREDIT_NOTE)
            )
            if invoice.status == InvoiceStatus.PAID:
                assert invoice.amount_due == 0
        assert account_credit(partner_id=partner.pk) >= 0
        payments = _sum(Payment.objects.filter(partner=partner))
        notes = -_sum(Invoice.objects.filter(partner=partner, kind=InvoiceKind.CREDIT_NOTE), "total")
        allocated = _sum(
            Allocation.objects.filter(partner=partner).exclude(source=AllocationSource.ACCOUNT_CREDIT)
        )
        added = _sum(AccountCreditEntry.objects.filter(partner=partner, amount__gt=0))
        assert allocated + added == payments + notes
        # account credit used = allocations from account credit; what is left = added - used - refunds
        used = _sum(Allocation.objects.filter(partner=partner, source=AllocationSource.ACCOUNT_CREDIT))
        assert account_credit(partner_id=partner.pk) == added - used - refunds
