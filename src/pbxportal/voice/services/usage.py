"""Usage of a PBX-month: rating from all its records (R-VT-2..7), the usage invoices and rerating
(R-VT-2..4, R-INV-1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from pbxportal.core.periods import month_label, next_month_start
from pbxportal.core.rating import (
    InvalidNumber,
    normalise,
)
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, InvoiceLine, LineKind
from pbxportal.invoicing.services import credit_note_issue, invoice_issue
from pbxportal.pbx.models import Pbx
from pbxportal.voice import pipeline, selectors
from pbxportal.voice.models import (
    CallRecord,
    UsageMonth,
)


def usage_month_rate(*, pbx_id: int, month: date, fresh_rates: bool = False) -> UsageMonth:
    """Rate a PBX-month from all its records, deterministically (R-VT-2..7): the usage pipeline's
    bulk rating (``voice.pipeline.month_rate``, full), e.g. after a price correction."""
    pipeline.month_rate(pbx_id, month, full=True, fresh_rates=fresh_rates)
    return UsageMonth.objects.get(pbx_id=pbx_id, month=month)


def _e164(number: str, region: str) -> str:
    try:
        return normalise(number, region)
    except InvalidNumber:
        return ""


# --- Usage invoices and rerating (R-VT-2..4, R-INV-1) ------------------------------------------


def usage_line_drafts(
    *, pbx: Pbx, month: date, kind: str = LineKind.USAGE, suffix: str = ""
) -> dict[str, LineDraft]:
    """The month's usage lines as invoice lines, by charge key ``usage:{pbx}:{YYYY-MM}:{area}:{kind}``.

    One line per area and kind; its amount is the sum of the calls' amounts rounded once
    (R-CAT-6); the quantity is the billed minutes (or messages) and the description shows the
    allowance used and left (R-VT-2).
    """
    drafts: dict[str, LineDraft] = {}
    for line in selectors.usage_lines(pbx=pbx, month=month):
        base = f"usage:{pbx.pk}:{month_label(month)}:{line.area}:{line.kind}"
        drafts[base] = _draft(pbx, month, line.area, line.kind, line, kind, base + suffix)
    return drafts


def _draft(
    pbx: Pbx, month: date, area: str, kind: str, line: Any, line_kind: str, charge_key: str
) -> LineDraft:
    if kind == "sms":
        quantity = Decimal(line.calls)
        what = f"{line.calls} SMS"
    else:
        quantity = (Decimal(line.billable_seconds) / 60).quantize(Decimal("0.000001"))
        what = f"{line.calls} calls, {line.seconds // 60} min {line.seconds % 60} s, billed {quantity.normalize()} min"
    allowance = ""
    if line.allowance_used is not None:
        unit = "SMS" if kind == "sms" else "min"
        used = line.allowance_used if kind == "sms" else line.allowance_used // 60
        left = line.allowance_left if kind == "sms" else line.allowance_left // 60
        allowance = f"; allowance used {used} {unit}, left {left} {unit}"
    unit_price = (line.amount / quantity).quantize(Decimal("0.000001")) if quantity else Decimal(0)
    return LineDraft(
        kind=line_kind,
        product_code="CLASSOUND-CALLS",
        description=f"Calls {area} {kind} {month_label(month)}: {what}{allowance}",
        unit_price=unit_price,
        quantity=quantity,
        amount=line.amount,
        currency=line.currency,
        period_start=month,
        period_end=next_month_start(month),
        pbx_id=pbx.pk,
        charge_key=charge_key,
    )


def usage_invoice_issue(*, pbx_id: int, month: date, today: date) -> Invoice | None:
    """Invoice a PBX's usage of a month once (R-VT-2..4): source key ``usage:{pbx}:{YYYY-MM}`` and a
    charge key per line make it idempotent (R-INV-2). A month that costs nothing has no invoice."""
    if pipeline.month_pending(pbx_id, month):
        pipeline.month_rate(pbx_id, month)  # a killed import's records are rated first (R-INV-2)
        if pipeline.month_pending(pbx_id, month):
            return None  # never invoice a month with unrated records (R-INV-2)
    usage = UsageMonth.objects.filter(pbx_id=pbx_id, month=month).first()
    if usage is None or usage.invoice_id is not None:
        return None
    pbx = Pbx.objects.select_related("partner__price_book").get(pk=pbx_id)
    drafts = list(usage_line_drafts(pbx=pbx, month=month).values())
    if not any(draft.amount for draft in drafts):
        return None
    with transaction.atomic():
        invoice = invoice_issue(
            partner=pbx.partner,
            lines=drafts,
            issued_on=today,
            pbx_id=pbx.pk,
            source_key=f"usage:{pbx.pk}:{month_label(month)}",
        )
        UsageMonth.objects.filter(pk=usage.pk).update(invoice=invoice)
    return invoice


def usage_invoices_due(*, day: date) -> int:
    """On the 1st, invoice the previous month's usage of every PBX (R-VT-2..4, R-CLK-1)."""
    if day.day != 1:
        return 0
    previous = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)
    pipeline.finish_pending(month=previous)  # R-INV-2: rate what a killed import left unrated
    pbx_ids = UsageMonth.objects.filter(month=previous, invoice__isnull=True).values_list("pbx_id", flat=True)
    return sum(
        usage_invoice_issue(pbx_id=pbx_id, month=previous, today=day) is not None for pbx_id in pbx_ids
    )


@dataclass
class RerateResult:
    pbx_id: int
    invoice: Invoice | None = None
    credit_note: Invoice | None = None
    difference: Decimal = Decimal(0)


def usage_month_rerate(*, pbx_id: int, month: date, today: date) -> RerateResult:
    """Rate a month again with the current prices (R-VT-8 rerating) and bill the difference from what
    was invoiced: more on a new invoice of adjustment lines, less on a credit note of the usage
    invoice. An issued invoice is never edited (R-INV-1); running it again finds no difference."""
    usage_month_rate(pbx_id=pbx_id, month=month, fresh_rates=True)
    result = RerateResult(pbx_id=pbx_id)
    usage = UsageMonth.objects.select_related("invoice").get(pbx_id=pbx_id, month=month)
    if usage.invoice is None:
        return result  # not invoiced yet: the clock invoices the corrected figures
    pbx = Pbx.objects.select_related("partner__price_book").get(pk=pbx_id)
    prefix = f"usage:{pbx.pk}:{month_label(month)}:"
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for charge_key, amount in InvoiceLine.objects.filter(charge_key__startswith=prefix).values_list(
        "charge_key", "amount"
    ):
        billed[":".join(str(charge_key).split(":")[:5])] += amount
    sequence = (
        Invoice.objects.filter(source_key__startswith=f"rerate:{pbx.pk}:{month_label(month)}:").count() + 1
    )
    suffix = f":r{sequence}"
    now_lines = usage_line_drafts(pbx=pbx, month=month, kind=LineKind.ADJUSTMENT, suffix=suffix)
    more: list[LineDraft] = []
    less: list[LineDraft] = []
    for base in sorted(set(billed) | set(now_lines)):
        current = now_lines.get(base)
        difference = (current.amount if current else Decimal(0)) - billed.get(base, Decimal(0))
        if not difference:
            continue
        area, kind = base.split(":")[3:5]
        draft = LineDraft(
            kind=LineKind.ADJUSTMENT if difference > 0 else LineKind.CREDIT,
            product_code="CLASSOUND-CALLS",
            description=f"Rerated calls {area} {kind} {month_label(month)} after a price correction",
            unit_price=difference,
            quantity=Decimal(1),
            amount=difference,
            currency=pbx.partner.price_book.currency,
            period_start=month,
            period_end=next_month_start(month),
            pbx_id=pbx.pk,
            charge_key=base + suffix,
        )
        (more if difference > 0 else less).append(draft)
        result.difference += difference
    with transaction.atomic():
        if more:
            result.invoice = invoice_issue(
                partner=pbx.partner,
                lines=more,
                issued_on=today,
                pbx_id=pbx.pk,
                source_key=f"rerate:{pbx.pk}:{month_label(month)}:{sequence}:more",
                reason=f"Rerating of {month_label(month)}",
            )
        if less:
            result.credit_note = credit_note_issue(
                invoice=usage.invoice,
                lines=less,
                issued_on=today,
                reason=f"Rerating of {month_label(month)} after a price correction",
                source_key=f"rerate:{pbx.pk}:{month_label(month)}:{sequence}:less",
            )
    return result


def month_rerate(*, month: date, today: date, serial: str | None = None) -> list[RerateResult]:
    """``pbxportal rerate --month``: every PBX with records in the month (or one, by serial)."""
    pbx_ids = CallRecord.objects.filter(month=month)
    if serial:
        pbx_ids = pbx_ids.filter(pbx__serial=serial)
    return [
        usage_month_rerate(pbx_id=pbx_id, month=month, today=today)
        for pbx_id in sorted(set(pbx_ids.values_list("pbx_id", flat=True)))
    ]
