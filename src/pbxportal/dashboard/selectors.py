"""Reads of the dashboards (R-UI-1), each through the scoping layer of its app (R-TEN-1).

A partner user sees only its partner's PBXs, invoices and orders; staff see what their role may
see (an area manager: its partners). Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.formats import date_format
from django.utils.translation import gettext

from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import scoped
from pbxportal.expansions.models import ExpansionOrder
from pbxportal.expansions.models import OrderStatus as ExpansionStatus
from pbxportal.hardware.models import AgreementStatus, HardwareOrder, HwaasAgreement
from pbxportal.hardware.models import OrderStatus as HardwareStatus
from pbxportal.invoicing.models import BillRun, Invoice, InvoiceKind, InvoiceStatus
from pbxportal.overdue.selectors import OverdueRow, overdue_list
from pbxportal.payments.selectors import Balance, account_balance
from pbxportal.pbx.models import CorrectionRequest, CorrectionStatus, Pbx, PbxStatus
from pbxportal.voice.models import NumberOrder, NumberOrderStatus, UsageMonth

EXPIRY_WINDOW_DAYS = 30
LATEST = 5
OPEN_HARDWARE = (
    HardwareStatus.DRAFT,
    HardwareStatus.PLACED,
    HardwareStatus.CONFIRMED,
    HardwareStatus.SHIPPED,
)
OPEN_NUMBERS = (NumberOrderStatus.DRAFT, NumberOrderStatus.SUBMITTED, NumberOrderStatus.IN_REVIEW)
NUMBERS_TO_REVIEW = (NumberOrderStatus.SUBMITTED, NumberOrderStatus.IN_REVIEW)
LIVE_PBX = (PbxStatus.ACTIVE, PbxStatus.PENDING_ACTIVATION)


@dataclass(frozen=True)
class UsageRow:
    pbx: Pbx
    used_seconds: int
    allowance_seconds: int
    amount: Decimal

    @property
    def percent(self) -> int:
        """Share of the allowance used, 0-100 (a PBX without allowance shows 0)."""
        if not self.allowance_seconds:
            return 0
        return min(100, round(100 * self.used_seconds / self.allowance_seconds))

    @property
    def used_minutes(self) -> int:
        return self.used_seconds // 60

    @property
    def allowance_minutes(self) -> int:
        return self.allowance_seconds // 60


@dataclass(frozen=True)
class PartnerDashboard:
    today: date
    expiring: list[Pbx]
    balance: Balance
    overdue_invoices: list[Invoice]
    hardware_orders: list[HardwareOrder]
    number_orders: list[NumberOrder]
    expansion_orders: list[ExpansionOrder]
    corrections: list[CorrectionRequest]
    usage: list[UsageRow]
    latest_invoices: list[Invoice]
    invoices_by_month: list[tuple[str, Decimal]]

    @property
    def open_order_count(self) -> int:
        return (
            len(self.hardware_orders)
            + len(self.number_orders)
            + len(self.expansion_orders)
            + len(self.corrections)
        )


def expiring_pbxs(*, actor: Actor, today: date, days: int = EXPIRY_WINDOW_DAYS) -> QuerySet[Pbx]:
    """PBXs whose term ends within ``days`` from today (today included, the end excluded)."""
    return (
        scoped(Pbx, actor)
        .filter(status__in=LIVE_PBX, expires_on__gte=today, expires_on__lt=today + timedelta(days=days))
        .select_related("customer")
        .order_by("expires_on", "name")
    )


def _open_invoices(actor: Actor) -> QuerySet[Invoice]:
    return scoped(Invoice, actor).filter(
        kind=InvoiceKind.INVOICE, status__in=[InvoiceStatus.DUE, InvoiceStatus.OVERDUE]
    )


def usage_this_month(*, actor: Actor, today: date) -> list[UsageRow]:
    """This month's voice usage of each live PBX against its allowance (R-VT-*: UsageMonth)."""
    month = today.replace(day=1)
    pbxs = list(scoped(Pbx, actor).filter(status__in=LIVE_PBX).select_related("customer").order_by("name"))
    months = {
        u.pbx_id: u for u in scoped(UsageMonth, actor).filter(pbx_id__in=[p.pk for p in pbxs], month=month)
    }
    rows = []
    for pbx in pbxs:
        usage = months.get(pbx.pk)
        if usage is None:
            continue
        rows.append(
            UsageRow(
                pbx=pbx,
                used_seconds=usage.allowance_used,
                allowance_seconds=usage.allowance_seconds,
                amount=Decimal(usage.amount),
            )
        )
    return rows


def invoices_per_month(*, actor: Actor, today: date, months: int = 12) -> list[tuple[str, Decimal]]:
    """Total invoiced per calendar month of issue, the last ``months`` months up to this one
    (credit notes count negative: they are issued documents too)."""
    first = today.replace(day=1)
    starts = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        starts.append(date(year, month + 1, 1))
    totals = {start: Decimal(0) for start in starts}
    rows = (
        scoped(Invoice, actor)
        .filter(issued_on__gte=starts[0], issued_on__lte=today)
        .exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .annotate(month=TruncMonth("issued_on"))
        .values("month")
        .annotate(total=Sum("total"))
    )
    for row in rows:
        month_start = row["month"]
        if month_start in totals:
            totals[month_start] = Decimal(row["total"] or 0)
    # "Dec 2026" / "Dic 2026": the month in the page's language (django.utils.dateformat)
    return [(date_format(start, "M Y"), total) for start, total in totals.items()]


def partner_dashboard(*, actor: Actor, today: date) -> PartnerDashboard:
    partner_id = actor.own_partner_id
    open_invoices = _open_invoices(actor).select_related("partner")
    return PartnerDashboard(
        today=today,
        expiring=list(expiring_pbxs(actor=actor, today=today)),
        balance=account_balance(actor=actor, partner_id=partner_id, today=today),
        overdue_invoices=list(open_invoices.filter(due_on__lt=today).order_by("due_on", "id")[:LATEST]),
        hardware_orders=list(
            scoped(HardwareOrder, actor)
            .filter(status__in=OPEN_HARDWARE)
            .select_related("pbx", "pbx__customer")
            .order_by("-id")
        ),
        number_orders=list(
            scoped(NumberOrder, actor).filter(status__in=OPEN_NUMBERS).select_related("pbx").order_by("-id")
        ),
        expansion_orders=list(
            scoped(ExpansionOrder, actor)
            .filter(status=ExpansionStatus.AWAITING_PAYMENT)
            .select_related("pbx")
            .order_by("-id")
        ),
        corrections=list(
            scoped(CorrectionRequest, actor)
            .filter(status=CorrectionStatus.FILED)
            .select_related("pbx")
            .order_by("-id")
        ),
        usage=usage_this_month(actor=actor, today=today),
        invoices_by_month=invoices_per_month(actor=actor, today=today),
        latest_invoices=list(
            scoped(Invoice, actor).exclude(status=InvoiceStatus.DRAFT).order_by("-id")[:LATEST]
        ),
    )


@dataclass(frozen=True)
class StaffDashboard:
    today: date
    bill_runs: list[BillRun]
    overdue: list[OverdueRow]
    queues: list[dict[str, Any]]


def staff_dashboard(*, actor: Actor, today: date) -> StaffDashboard:
    actor.require_staff()
    queues = [
        {
            "key": "HWaaS agreements to review",
            "label": gettext("HWaaS agreements to review"),
            "count": scoped(HwaasAgreement, actor).filter(status=AgreementStatus.PENDING).count(),
            "url_name": "hardware:staff_agreements",
        },
        {
            "key": "Number documents to review",
            "label": gettext("Number documents to review"),
            "count": scoped(NumberOrder, actor).filter(status__in=NUMBERS_TO_REVIEW).count(),
            "url_name": "voice:staff_number_orders",
        },
        {
            "key": "Corrections to decide",
            "label": gettext("Corrections to decide"),
            "count": scoped(CorrectionRequest, actor).filter(status=CorrectionStatus.FILED).count(),
            "url_name": "pbx:staff_corrections",
        },
        {
            "key": "Offline payments awaited",
            "label": gettext("Offline payments awaited"),
            "count": scoped(ExpansionOrder, actor)
            .filter(status=ExpansionStatus.AWAITING_PAYMENT, payment_method="offline")
            .count(),
            "url_name": "payments:staff_offline",
        },
    ]
    return StaffDashboard(
        today=today,
        bill_runs=list(BillRun.objects.order_by("-day", "-id")[:LATEST]),
        overdue=overdue_list(actor=actor, today=today),
        queues=queues,
    )
