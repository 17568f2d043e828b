"""Reads of the overdue stages: the staff list of partners in a stage (R-INV-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F, Sum

from pbxportal.accounts.models import Partner
from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import scoped
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from pbxportal.overdue.policy import OverdueState, partner_state


@dataclass(frozen=True)
class OverdueRow:
    partner: Partner
    state: OverdueState
    amount: Decimal


def overdue_list(*, actor: Actor, today: date) -> list[OverdueRow]:
    unpaid = (
        scoped(Invoice, actor)
        .filter(
            kind=InvoiceKind.INVOICE, status__in=[InvoiceStatus.DUE, InvoiceStatus.OVERDUE], due_on__lt=today
        )
        .values("partner_id")
        .annotate(amount=Sum(F("total") - F("amount_paid") - F("amount_credited")))
    )
    amounts = {row["partner_id"]: row["amount"] for row in unpaid}
    rows = [
        OverdueRow(partner=p, state=partner_state(partner_id=p.pk, today=today), amount=amounts[p.pk])
        for p in Partner.objects.filter(pk__in=amounts).order_by("name")
    ]
    return sorted(rows, key=lambda r: -r.state.days)
