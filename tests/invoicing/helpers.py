"""Builders for documents issued straight through the invoicing services (tax, credits)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pbxportal.accounts.models import Partner
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, LineKind
from pbxportal.invoicing.services import credit_note_issue, invoice_issue

DAY = date(2025, 3, 10)


def line(amount: str, currency: str = "EUR", description: str = "UC-Business users") -> LineDraft:
    value = Decimal(amount)
    return LineDraft(
        kind=LineKind.ONE_OFF,
        product_code="UC-BUS",
        description=description,
        unit_price=value,
        quantity=Decimal(1),
        amount=value,
        currency=currency,
    )


def issue(partner: Partner, *amounts: str, on: date = DAY) -> Invoice:
    return invoice_issue(partner=partner, lines=[line(a, partner.currency) for a in amounts], issued_on=on)


def credit(invoice: Invoice, *amounts: str, on: date = DAY) -> Invoice:
    return credit_note_issue(
        invoice=invoice,
        lines=[line(f"-{a}", invoice.currency) for a in amounts],
        issued_on=on,
        reason="correction",
    )
