"""Writes of the voice trunk: call-record import and rating, usage invoices and rerating, the live
authorisation of calls, number orders and bundle switches (R-VT-1..10, R-INV-1)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from pbxportal.catalog.models import Family, NumberRequirement, Product
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.models import AuditEvent
from pbxportal.common.tenancy import get_scoped
from pbxportal.common.timeutil import day_start, vendor_today
from pbxportal.core.rating import (
    AllowancePool,
    Call,
    InvalidNumber,
    UnknownDestination,
    calls_to_batch,
    normalise,
    rate_batch,
)
from pbxportal.core.rating.cdr import CdrItem
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, InvoiceLine, LineKind
from pbxportal.invoicing.services import credit_note_issue, invoice_issue
from pbxportal.ops import metrics
from pbxportal.overdue.policy import licence_status
from pbxportal.pbx.models import Pbx, PbxStatus, QuantityChange, SubscriptionStatus
from pbxportal.pbx.services import service_order
from pbxportal.voice import partitions, selectors
from pbxportal.voice.checks import require_bundle_dids
from pbxportal.voice.models import (
    BundleSwitchStatus,
    BundleSwitchTicket,
    CallRecord,
    NumberDocument,
    NumberOrder,
    NumberOrderKind,
    NumberOrderStatus,
    UsageMonth,
)
from pbxportal.voice.rating import (
    MAX_CALL_SECONDS,
    bundle_of,
    bundle_subscription,
    month_rating,
    month_start,
    next_month,
    pool_events,
    rate_table,
    terms_for,
)

IMPORT_CHUNK = 5000
IDENTITY_MAX = 80

# --- Call records: import and rating (R-VT-2..8) -----------------------------------------------


@dataclass
class ImportReport:
    """What an import did: records accepted, duplicates (already there, R-VT-8) and bad lines."""

    accepted: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    months: set[tuple[int, date]] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": [{"line": line, "reason": reason} for line, reason in self.errors],
            "months_rated": len(self.months),
        }


def cdr_import(
    *,
    items: Iterable[CdrItem],
    pbx: Pbx | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store call records and rate the PBX-months they fall in (R-VT-8).

    Every bad line is reported with its number and reason while the good ones are kept. A record
    already stored for its PBX (same identity) is a duplicate and charges nothing again. The
    months touched are re-rated from all their records, so late records keep the pool consumed
    in call start order (R-VT-2).
    """
    report = ImportReport()
    serials: dict[str, Pbx | None] = {pbx.serial: pbx} if pbx else {}
    pending: list[CallRecord] = []
    for line_no, item in items:
        if progress is not None:
            progress(line_no)
        if isinstance(item, str):
            report.errors.append((line_no, item))
            continue
        target = _pbx_of(item, pbx, serials)
        if isinstance(target, str):
            report.errors.append((line_no, target))
            continue
        if len(item.call_id) > IDENTITY_MAX:
            report.errors.append((line_no, f"unique id longer than {IDENTITY_MAX} characters"))
            continue
        pending.append(
            CallRecord(
                pbx=target,
                month=month_start(item.start),
                identity=item.call_id,
                start=item.start,
                caller=item.caller[:80],
                callee=item.callee[:80],
                billsec=item.billsec,
                kind=item.kind,
            )
        )
        if len(pending) >= IMPORT_CHUNK:
            _store(pending, report)
            pending = []
    if pending:
        _store(pending, report)
    for pbx_id, month in sorted(report.months):
        usage_month_rate(pbx_id=pbx_id, month=month)
    return report


def _pbx_of(call: Call, given: Pbx | None, serials: dict[str, Pbx | None]) -> Pbx | str:
    if given is not None and call.pbx != given.serial:
        return f"the record is for PBX {call.pbx!r}, not {given.serial}"
    if call.pbx not in serials:
        serials[call.pbx] = Pbx.objects.select_related("partner").filter(serial=call.pbx).first()
    found = serials[call.pbx]
    return found if found is not None else f"unknown PBX serial {call.pbx!r}"


def _store(records: list[CallRecord], report: ImportReport) -> None:
    unique: dict[tuple[int, date, str], CallRecord] = {}
    for record in records:
        key = (record.pbx_id, record.month, record.identity)
        if key in unique:
            report.duplicates += 1
        else:
            unique[key] = record
    existing: set[tuple[int, date, str]] = set()
    by_pbx: dict[int, list[str]] = defaultdict(list)
    for pbx_id, _, identity in unique:
        by_pbx[pbx_id].append(identity)
    for pbx_id, identities in by_pbx.items():
        existing |= set(
            CallRecord.objects.filter(pbx_id=pbx_id, identity__in=identities).values_list(
                "pbx_id", "month", "identity"
            )
        )
    new = [record for key, record in unique.items() if key not in existing]
    report.duplicates += len(unique) - len(new)
    metrics.RATING_CALLS.labels(outcome="duplicate").inc(len(records) - len(new))
    partitions.ensure_months({record.month for record in new})
    with transaction.atomic():
        # ignore_conflicts: a concurrent import of the same records loses nothing and doubles nothing.
        CallRecord.objects.bulk_create(new, ignore_conflicts=True)
    report.accepted += len(new)
    report.months |= {(record.pbx_id, record.month) for record in new}


def usage_month_rate(*, pbx_id: int, month: date, fresh_rates: bool = False) -> UsageMonth:
    """Rate a PBX-month from all its records, deterministically (R-VT-2..7).

    The vectorised core rates the month in call start order; each record gets its area, billed
    and free seconds, amount (6 decimals) and capped flag, or its error reason (an unknown
    destination is an error, never a zero, R-VT-7). The month's allowance and amount are kept in
    ``UsageMonth`` for the usage page and the live authorisation.
    """
    started = time.perf_counter()
    pbx = Pbx.objects.select_related("partner__price_book", "customer").get(pk=pbx_id)
    rating = month_rating(pbx, month, fresh_rates=fresh_rates)
    records = list(CallRecord.objects.filter(pbx_id=pbx_id, month=month).order_by("id"))
    key = str(pbx_id)
    calls = [
        Call(
            call_id=record.identity,
            pbx=key,
            start=record.start,
            caller=record.caller,
            callee=record.callee,
            billsec=record.billsec,
            kind="sms" if record.kind == "sms" else "voice",
        )
        for record in records
    ]
    contexts = {key: rating.context} if rating.context is not None else {}
    batch = rate_batch(calls_to_batch(calls), contexts=contexts, table=rating.table, terms=rating.terms)
    now = timezone.now()
    region = rating.context.region if rating.context else "IT"
    amount = Decimal(0)
    errors = 0
    for record, rated in zip(records, batch.to_rated_calls(), strict=True):
        record.area = rated.area or ""
        record.billed_seconds = rated.billed_seconds
        record.free_seconds = rated.free_seconds
        record.charged_units = rated.charged_units
        record.amount = rated.amount
        record.capped = rated.capped
        record.error = ""
        if rated.error is not None:
            errors += 1
            record.error = (
                rated.error
                if rating.context is not None
                else "the PBX has no voice trunk (CLASSOUND) this month"
            )[:200]
        record.callee_e164 = _e164(record.callee, region) if rated.error is None else ""
        record.rated_at = now
        amount += rated.amount
    with transaction.atomic():
        CallRecord.objects.bulk_update(
            records,
            [
                "area",
                "billed_seconds",
                "free_seconds",
                "charged_units",
                "amount",
                "capped",
                "error",
                "callee_e164",
                "rated_at",
            ],
            batch_size=2000,
        )
        period = f"{month.year:04d}-{month.month:02d}"
        allowance = batch.allowances.get((key, period))
        usage, _ = UsageMonth.objects.select_for_update().get_or_create(pbx_id=pbx_id, month=month)
        usage.bundle = rating.context.bundle if rating.context else ""
        usage.allowance_seconds = allowance.seconds_total if allowance else 0
        usage.allowance_used = allowance.seconds_used if allowance else 0
        usage.sms_total = allowance.sms_total if allowance else 0
        usage.sms_used = allowance.sms_used if allowance else 0
        usage.calls = len(records)
        usage.errors = errors
        usage.amount = amount
        usage.rated_at = now
        usage.save()
    metrics.RATING_CALLS.labels(outcome="rated").inc(len(records) - errors)
    metrics.RATING_CALLS.labels(outcome="error").inc(errors)
    metrics.RATING_SECONDS.inc(time.perf_counter() - started)
    return usage


def _e164(number: str, region: str) -> str:
    try:
        return normalise(number, region)
    except InvalidNumber:
        return ""


# --- Usage invoices and rerating (R-VT-2..4, R-INV-1) ------------------------------------------


def _label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


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
        base = f"usage:{pbx.pk}:{_label(month)}:{line.area}:{line.kind}"
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
        description=f"Calls {area} {kind} {_label(month)}: {what}{allowance}",
        unit_price=unit_price,
        quantity=quantity,
        amount=line.amount,
        currency=line.currency,
        period_start=month,
        period_end=_next(month),
        pbx_id=pbx.pk,
        charge_key=charge_key,
    )


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def usage_invoice_issue(*, pbx_id: int, month: date, today: date) -> Invoice | None:
    """Invoice a PBX's usage of a month once (R-VT-2..4): source key ``usage:{pbx}:{YYYY-MM}`` and a
    charge key per line make it idempotent (R-INV-2). A month that costs nothing has no invoice."""
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
            source_key=f"usage:{pbx.pk}:{_label(month)}",
        )
        UsageMonth.objects.filter(pk=usage.pk).update(invoice=invoice)
    return invoice


def usage_invoices_due(*, day: date) -> int:
    """On the 1st, invoice the previous month's usage of every PBX (R-VT-2..4, R-CLK-1)."""
    if day.day != 1:
        return 0
    previous = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)
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
    prefix = f"usage:{pbx.pk}:{_label(month)}:"
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for charge_key, amount in InvoiceLine.objects.filter(charge_key__startswith=prefix).values_list(
        "charge_key", "amount"
    ):
        billed[":".join(str(charge_key).split(":")[:5])] += amount
    sequence = Invoice.objects.filter(source_key__startswith=f"rerate:{pbx.pk}:{_label(month)}:").count() + 1
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
            description=f"Rerated calls {area} {kind} {_label(month)} after a price correction",
            unit_price=difference,
            quantity=Decimal(1),
            amount=difference,
            currency=pbx.partner.price_book.currency,
            period_start=month,
            period_end=_next(month),
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
                source_key=f"rerate:{pbx.pk}:{_label(month)}:{sequence}:more",
                reason=f"Rerating of {_label(month)}",
            )
        if less:
            result.credit_note = credit_note_issue(
                invoice=usage.invoice,
                lines=less,
                issued_on=today,
                reason=f"Rerating of {_label(month)} after a price correction",
                source_key=f"rerate:{pbx.pk}:{_label(month)}:{sequence}:less",
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


# --- Live authorisation (R-VT-6) ------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """The answer to a PBX asking whether a call may start, and for how long (R-VT-6)."""

    allowed: bool
    max_seconds: int
    reason: str = ""
    rule: str | None = None
    destination: str = ""
    area: str = ""
    allowance_seconds: int = 0
    credit_seconds: int = 0


@dataclass(frozen=True)
class _PbxState:
    status: str
    partner_id: int
    book_id: int
    region: str
    bundle: str
    pool: AllowancePool | None
    cta2_seconds: int
    licence: str


_states: dict[tuple[int, date], tuple[float, _PbxState]] = {}


def _pbx_state(pbx_id: int, month: date, today: date) -> _PbxState:
    """The PBX's voice facts for the hot path, cached in the process for a few seconds."""
    now = time.monotonic()
    cached = _states.get((pbx_id, month))
    if cached is not None and now - cached[0] < settings.VOICE_PBX_CACHE_SECONDS:
        return cached[1]
    pbx = Pbx.objects.select_related("partner", "customer").get(pk=pbx_id)
    sub = bundle_subscription(pbx_id, month)
    terms = terms_for(sub)
    pool = None
    if sub is not None and bundle_of(sub) == "CTA1":
        pool = AllowancePool.for_period(
            events=pool_events(sub),
            period_start=day_start(month),
            period_end=day_start(next_month(month)),
            minutes_per_user=terms.minutes_per_user,
        )
    state = _PbxState(
        status=pbx.status,
        partner_id=pbx.partner_id,
        book_id=pbx.partner.price_book_id,
        region=pbx.customer.country or "IT",
        bundle=bundle_of(sub) if sub is not None else "",
        pool=pool,
        cta2_seconds=terms.cta2_bundle.seconds,
        licence=licence_status(partner_id=pbx.partner_id, today=today),
    )
    _states[(pbx_id, month)] = (now, state)
    return state


def _refuse(reason: str, rule: str, **extra: Any) -> Authorization:
    return Authorization(allowed=False, max_seconds=0, reason=reason, rule=rule, **extra)


def call_authorize(
    *, pbx_id: int, caller: str, callee: str, at: datetime, usage: tuple[int, Decimal] | None = None
) -> Authorization:
    """How long a call may last (R-VT-6): the remaining allowance of the destination's area (CTA1
    pool with the CTA1 bundle, the CTA2 bundle's minutes) plus what the PBX's remaining monthly
    credit (``VOICE_CREDIT_LIMIT`` less the month's usage) pays at the destination's rate, at most
    14400 s; or a refusal with the reason: PBX not active, services suspended for overdue invoices
    (R-INV-5), no voice trunk, a number that is not one, an unknown destination (R-VT-7).

    ``usage``: the month's (allowance seconds used, amount) when the caller has read it already
    (the agent fast path reads it with the credential, ``selectors.agent_authorization_inputs``).
    """
    month = month_start(at)
    state = _pbx_state(pbx_id, month, vendor_today(at))
    if state.status != PbxStatus.ACTIVE:
        return _refuse(f"the PBX is not active ({state.status})", "R-VT-6")
    if state.licence != "active":
        return _refuse("services are suspended: invoices are overdue", "R-INV-5")
    if not state.bundle:
        return _refuse("the PBX has no voice trunk (CLASSOUND)", "R-CO-2")
    try:
        destination = normalise(callee, state.region)
        row = rate_table(state.book_id).match(destination)
    except InvalidNumber as exc:
        return _refuse(f"not a number: {exc.reason}", "R-VT-7")
    except UnknownDestination:
        return _refuse(f"unknown destination {callee}", "R-VT-7")
    seconds_used, spent = usage if usage is not None else selectors.month_usage(pbx_id=pbx_id, month=month)
    allowance = 0
    if row.area == "CTA1" and state.pool is not None:
        allowance = max(state.pool.seconds_at(at) - seconds_used, 0)
    elif row.area == "CTA2" and state.bundle == "CTA2":
        allowance = max(state.cta2_seconds - seconds_used, 0)
    credit_left = Decimal(settings.VOICE_CREDIT_LIMIT) - spent
    if credit_left <= 0:
        credit = 0
    elif not row.rate_per_minute:
        credit = MAX_CALL_SECONDS
    elif row.area == "CTA1":
        credit = int(credit_left // row.rate_per_minute) * 60  # per started minute (R-VT-3)
    else:
        credit = int(credit_left * 60 // row.rate_per_minute)  # per second (R-VT-4)
    seconds = min(allowance + credit, MAX_CALL_SECONDS)
    facts = {
        "destination": destination,
        "area": row.area,
        "allowance_seconds": allowance,
        "credit_seconds": credit,
    }
    if seconds <= 0:
        return _refuse("the allowance and the monthly credit are used up", "R-VT-6", **facts)
    return Authorization(allowed=True, max_seconds=seconds, **facts)  # type: ignore[arg-type]


# --- Numbers (R-VT-10) ----------------------------------------------------------------------------

NUMBER_TRANSITIONS: dict[str, set[str]] = {
    NumberOrderStatus.DRAFT: {NumberOrderStatus.SUBMITTED},
    NumberOrderStatus.SUBMITTED: {NumberOrderStatus.IN_REVIEW, NumberOrderStatus.REJECTED},
    NumberOrderStatus.IN_REVIEW: {NumberOrderStatus.APPROVED, NumberOrderStatus.REJECTED},
    NumberOrderStatus.APPROVED: set(),
    NumberOrderStatus.REJECTED: set(),
}
REVIEWERS = ("area_manager", "customer_care")
# Accepted upload types, recognised by their first bytes (the name and the browser's claim are not trusted).
DOCUMENT_TYPES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def _audit(actor: Actor | None, order: NumberOrder, action: str, **data: Any) -> None:
    AuditEvent.objects.create(
        actor=actor.user if actor else None,
        partner_id=order.pbx.partner_id,
        action=action,
        object_type="number_order",
        object_id=str(order.pk),
        data={key: str(value) for key, value in data.items()},
    )


def _move(order: NumberOrder, to: str) -> None:
    if to not in NUMBER_TRANSITIONS[order.status]:
        raise Conflict(
            f"A {order.get_status_display().lower()} number order cannot become {NumberOrderStatus(to).label.lower()}.",
            rule="R-VT-10",
            fields={"status": order.status},
        )
    order.status = to


def number_order_create(
    *,
    actor: Actor,
    pbx_id: int,
    country: str,
    number_type: str,
    kind: str,
    address: str = "",
    number: str = "",
) -> NumberOrder:
    """A draft order for a new number or a porting (R-VT-10); the country's requirements are catalog data."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx.objects.select_related("customer"), actor, pk=pbx_id)
    requirement = NumberRequirement.objects.filter(
        country=country.upper(), number_type=number_type, product__isnull=False
    ).first()
    if requirement is None:
        raise ApplicationError(
            f"No {number_type} numbers are offered in {country.upper()}.", fields={"country": "not offered"}
        )
    if kind not in NumberOrderKind.values:
        raise ApplicationError("kind: new or porting.", fields={"kind": "new or porting"})
    ported = ""
    if kind == NumberOrderKind.PORTING:
        ported = _number(number, requirement.country)
    order = NumberOrder.objects.create(
        pbx=pbx,
        requirement=requirement,
        kind=kind,
        address=address.strip(),
        number=ported,
        created_by=actor.user,
    )
    _audit(actor, order, "number_order.created", kind=kind, country=requirement.country)
    return order


def _number(number: str, country: str) -> str:
    try:
        return normalise(number, country)
    except InvalidNumber as exc:
        raise ApplicationError(f"number: {exc.reason}.", fields={"number": exc.reason}) from None


def number_document_upload(
    *, actor: Actor, order_id: int, name: str, upload: UploadedFile | None
) -> NumberDocument:
    """Attach one of the required documents to a draft order: PDF, PNG or JPEG (checked by content)
    up to ``VOICE_DOCUMENT_MAX_BYTES``, stored under MEDIA_ROOT, outside the web root (R-VT-10)."""
    actor.require_partner_role("sales", "technician")
    order = get_scoped(NumberOrder.objects.select_related("requirement", "pbx"), actor, pk=order_id)
    if order.status != NumberOrderStatus.DRAFT:
        raise Conflict(
            "Documents are added to a draft order only.", rule="R-VT-10", fields={"status": order.status}
        )
    if name not in order.required_documents:
        raise ApplicationError(
            f"document: {name!r} is not one this order needs.", fields={"name": "not a required document"}
        )
    if upload is None:
        raise ApplicationError("file: choose the document to upload.", fields={"file": "required"})
    size = upload.size or 0
    if size > settings.VOICE_DOCUMENT_MAX_BYTES or size == 0:
        raise ApplicationError(
            f"file: {size} bytes; a document must be 1 to {settings.VOICE_DOCUMENT_MAX_BYTES} bytes.",
            fields={"file": "size"},
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = next(((mime, suffix) for magic, mime, suffix in DOCUMENT_TYPES if head.startswith(magic)), None)
    if kind is None:
        raise ApplicationError("file: only PDF, PNG or JPEG documents are accepted.", fields={"file": "type"})
    document = NumberDocument(
        order=order,
        name=name,
        original_name=(upload.name or "document")[:200],
        content_type=kind[0],
        size=size,
    )
    document.file.save(f"order-{order.pk}{kind[1]}", upload, save=False)
    document.save()
    _audit(actor, order, "number_order.document_uploaded", name=name, size=size)
    return document


def number_order_submit(*, actor: Actor, order_id: int) -> NumberOrder:
    """The partner submits a complete draft: the address for a new number where the country asks
    for it, the ported number, and every required document (R-VT-10)."""
    actor.require_partner_role("sales", "technician")
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related("requirement", "pbx"),
            actor,
            pk=order_id,
        )
        missing: dict[str, str] = {}
        if order.kind == NumberOrderKind.NEW and order.requirement.address_required and not order.address:
            missing["address"] = "the customer's address is required"
        if order.kind == NumberOrderKind.PORTING and not order.number:
            missing["number"] = "the number to port is required"
        uploaded = set(order.documents.values_list("name", flat=True))
        for name in order.required_documents:
            if name not in uploaded:
                missing[f"document:{name}"] = "missing"
        if missing:
            raise RuleViolation(
                "The order is incomplete: "
                + "; ".join(
                    f"document “{k[9:]}” {v}" if k.startswith("document:") else v for k, v in missing.items()
                )
                + ".",
                rule="R-VT-10",
                fields=missing,
            )
        _move(order, NumberOrderStatus.SUBMITTED)
        order.submitted_at = timezone.now()
        order.save(update_fields=["status", "submitted_at"])
        _audit(actor, order, "number_order.submitted")
    return order


def number_order_review(*, actor: Actor, order_id: int) -> NumberOrder:
    """Staff take a submitted order into review (R-VT-10)."""
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related("pbx"), actor, pk=order_id
        )
        actor.require_staff(*REVIEWERS)  # after the lookup: another partner's id is a 404 (R-TEN-1)
        _move(order, NumberOrderStatus.IN_REVIEW)
        order.decided_by = actor.user
        order.save(update_fields=["status", "decided_by"])
        _audit(actor, order, "number_order.in_review")
    return order


def number_order_approve(*, actor: Actor, order_id: int, number: str = "", today: date) -> NumberOrder:
    """Staff approve an order in review: the number is active and its monthly fee starts that day,
    co-termed with the PBX (a number subscription through ``service_order``, R-VT-10, R-CO-1..3)."""
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related(
                "requirement__product", "pbx__partner__price_book"
            ),
            actor,
            pk=order_id,
        )
        actor.require_staff(*REVIEWERS)
        _move(order, NumberOrderStatus.APPROVED)
        assigned = order.number or _number(number, order.requirement.country)
        product = order.requirement.product
        assert product is not None
        result = service_order(
            actor=actor,
            pbx=order.pbx,
            product_code=product.code,
            quantity=1,
            today=today,
            attributes={"number": assigned},
        )
        order.number = assigned
        order.subscription = result.subscription
        order.decided_by = actor.user
        order.decided_on = today
        order.save(update_fields=["status", "number", "subscription", "decided_by", "decided_on"])
        _audit(actor, order, "number_order.approved", number=assigned)
    return order


def number_order_reject(*, actor: Actor, order_id: int, reason: str, today: date) -> NumberOrder:
    """Staff reject a submitted or reviewed order, with the reason the partner sees (R-VT-10)."""
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related("pbx"), actor, pk=order_id
        )
        actor.require_staff(*REVIEWERS)
        if not reason.strip():
            raise ApplicationError("reason: say why the order is rejected.", fields={"reason": "required"})
        _move(order, NumberOrderStatus.REJECTED)
        order.rejection_reason = reason.strip()[:300]
        order.decided_by = actor.user
        order.decided_on = today
        order.save(update_fields=["status", "rejection_reason", "decided_by", "decided_on"])
        _audit(actor, order, "number_order.rejected", reason=reason)
    return order


# --- Bundle switch CTA1 ↔ CTA2 (R-VT-5) ----------------------------------------------------------


def bundle_switch_request(
    *, actor: Actor, pbx_id: int, to_product_code: str, note: str = "", today: date
) -> BundleSwitchTicket:
    """Open a customer-care ticket switching the PBX's voice bundle (R-VT-5)."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx.objects.select_related("partner"), actor, pk=pbx_id)
    product = Product.objects.filter(code=to_product_code, family=Family.VOICE, active=True).first()
    if product is None or product.attributes.get("bundle") not in ("CTA1", "CTA2"):
        raise ApplicationError(
            f"{to_product_code!r} is not a voice bundle.", fields={"to_product": "not a bundle"}
        )
    current = bundle_subscription(pbx.pk, today.replace(day=1))
    if current is None or current.status != SubscriptionStatus.ACTIVE:
        raise RuleViolation(
            "The PBX has no voice bundle to switch from.", rule="R-VT-5", fields={"pbx": "no bundle"}
        )
    if current.product_id == product.pk:
        raise RuleViolation(
            f"The PBX has {product.name} already.", rule="R-VT-5", fields={"to_product": "same"}
        )
    require_bundle_dids(pbx, product)
    if BundleSwitchTicket.objects.filter(pbx=pbx, status__in=["requested", "approved"]).exists():
        raise Conflict("A bundle switch of this PBX is open already.", rule="R-VT-5")
    ticket = BundleSwitchTicket.objects.create(
        pbx=pbx, to_product=product, note=note[:300], requested_by=actor.user, requested_on=today
    )
    AuditEvent.objects.create(
        actor=actor.user,
        partner_id=pbx.partner_id,
        action="bundle_switch.requested",
        object_type="pbx",
        object_id=str(pbx.pk),
        data={"to": product.code},
    )
    return ticket


def bundle_switch_decide(
    *, actor: Actor, ticket_id: int, approve: bool, note: str = "", today: date
) -> BundleSwitchTicket:
    """Customer care approves a switch from the next month's 1st, or rejects it (R-VT-5)."""
    with transaction.atomic():
        ticket = get_scoped(BundleSwitchTicket.objects.select_for_update(), actor, pk=ticket_id)
        actor.require_staff("customer_care")
        if ticket.status != BundleSwitchStatus.REQUESTED:
            raise Conflict("The ticket was decided already.", rule="R-VT-5")
        ticket.status = BundleSwitchStatus.APPROVED if approve else BundleSwitchStatus.REJECTED
        ticket.effective_on = _next(today.replace(day=1)) if approve else None
        ticket.decided_by = actor.user
        ticket.decision_note = note[:300]
        ticket.save(update_fields=["status", "effective_on", "decided_by", "decision_note"])
    return ticket


def bundle_switches_apply(*, day: date) -> int:
    """On the 1st, apply the approved switches due (R-VT-5, R-CLK-1): the old bundle ends the day
    before, the other one is ordered from the 1st through ``service_order`` (co-termed, prorated).
    A switch the rules now refuse (the DID is gone) is rejected with the reason."""
    done = 0
    for ticket in BundleSwitchTicket.objects.filter(
        status=BundleSwitchStatus.APPROVED, effective_on__lte=day
    ):
        try:
            with transaction.atomic():
                _switch(ticket, day)
            done += 1
        except ApplicationError as exc:
            BundleSwitchTicket.objects.filter(pk=ticket.pk).update(
                status=BundleSwitchStatus.REJECTED, decision_note=f"Not applied: {exc.message}"[:300]
            )
    return done


def _switch(ticket: BundleSwitchTicket, day: date) -> None:
    pbx = Pbx.objects.select_related("partner__price_book", "model").get(pk=ticket.pbx_id)
    for sub in pbx.subscriptions.filter(
        status=SubscriptionStatus.ACTIVE, product__family=Family.VOICE, product__attributes__has_key="bundle"
    ).select_for_update():
        # The trunk goes on with the other bundle: no minimum-commitment charge for the switch.
        sub.status = SubscriptionStatus.CANCELLED
        sub.ended_on = ticket.effective_on or day
        sub.save(update_fields=["status", "ended_on"])
        QuantityChange.objects.create(
            subscription=sub,
            pbx=pbx,
            delta=0,
            quantity_after=sub.quantity,
            effective_on=sub.ended_on,
            kind="bundle_switch",
            note=f"switched to {ticket.to_product.code} (ticket {ticket.pk})",
        )
    service_order(actor=None, pbx=pbx, product_code=ticket.to_product.code, today=ticket.effective_on or day)
    ticket.status = BundleSwitchStatus.APPLIED
    ticket.save(update_fields=["status"])
