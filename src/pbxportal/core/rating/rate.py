"""Reference call rating: one call at a time, in start order (R-VT-2 to R-VT-7, R-CAT-6).

This is the readable statement of the rules; ``vectorised.rate_batch`` must give identical
results and a property test holds it to that.

Per PBX and calendar month (``allowance.py``), calls are consumed in start order (ties by
call id, then input order):

- a CTA1 voice call draws the CTA1 pool when the PBX holds the CTA1 bundle (R-VT-2); what the
  pool does not cover is charged per started minute of that call at the CTA1 rate (R-VT-3),
  so a call crossing the end of the pool is split exactly: covered seconds free, the
  remainder ``ceil(remaining / 60) * rate``;
- a CTA2..CTA6 voice call is charged per second from the first second at rate / 60 (R-VT-4);
  with the CTA2 bundle, CTA2 calls draw its minutes first and CTA2 SMS its messages (R-VT-5);
- an SMS is charged one message at the destination's SMS rate when no bundle covers it;
- a call over ``max_call_seconds`` (14400) is rated as that and flagged ``capped`` (R-VT-6);
- a number that does not normalise, an unknown destination (R-VT-7), an SMS to a destination
  without an SMS rate and a PBX without rating context give an error record with the reason:
  never a zero charge, and they draw no allowance.

Per-call amounts are Decimals quantized to 6 places half up, never rounded to cents;
``summarise`` rounds each usage line once to the currency's minor unit (R-CAT-6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pbxportal.core.money import round_line
from pbxportal.core.rating.allowance import (
    AllowancePool,
    Cta2Bundle,
    UserCountEvent,
    month_bounds,
    month_number,
    period_label,
    zone,
)
from pbxportal.core.rating.numbers import InvalidNumber, normalise
from pbxportal.core.rating.tariff import RateTable, TariffRow, UnknownDestination

__all__ = [
    "AMOUNT_PLACES",
    "AllowanceUsage",
    "Bundle",
    "Call",
    "CallKind",
    "PbxRatingContext",
    "RatedCall",
    "RatingRun",
    "RatingTerms",
    "UsageLine",
    "no_context_error",
    "no_sms_rate_error",
    "per_second_amount",
    "per_unit_amount",
    "rate_calls",
    "summarise",
]

CallKind = Literal["voice", "sms"]
Bundle = Literal["CTA1", "CTA2"]
AMOUNT_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-AMOUNT_PLACES)


@dataclass(frozen=True, slots=True)
class Call:
    """A call record to rate (R-VT-8). ``callee`` is E.164 or as dialled from the PBX's country.

    ``billsec`` is the answered time in seconds (ignored for an SMS).
    """

    call_id: str
    pbx: str
    start: datetime
    caller: str
    callee: str
    billsec: int
    kind: CallKind = "voice"

    def __post_init__(self) -> None:
        if not self.call_id:
            raise ValueError("call_id must not be empty")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError(f"start must be timezone-aware, not naive {self.start!r}")
        if isinstance(self.billsec, bool) or not isinstance(self.billsec, int) or self.billsec < 0:
            raise ValueError(f"billsec must be a non-negative int, not {self.billsec!r}")
        if self.kind not in ("voice", "sms"):
            raise ValueError(f"kind must be 'voice' or 'sms', not {self.kind!r}")


@dataclass(frozen=True, slots=True)
class PbxRatingContext:
    """What rating needs to know of a PBX (R-VT-2, R-VT-5, R-VT-7).

    ``bundle``: the voice bundle it holds (CTA1 pool or CTA2 bundle, never both).
    ``pool_events``: its counted users over time (``(at, counted_users)``), sizing the pool.
    ``region``: its country (ISO alpha-2) for national dialling.
    ``zone``: the time zone of its allowance months (IANA name).
    """

    bundle: Bundle
    pool_events: tuple[UserCountEvent, ...]
    region: str
    zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.bundle not in ("CTA1", "CTA2"):
            raise ValueError(f"bundle must be 'CTA1' or 'CTA2', not {self.bundle!r}")
        for at, users in self.pool_events:
            if at.tzinfo is None or at.utcoffset() is None:
                raise ValueError(f"pool event time must be timezone-aware, not {at!r}")
            if isinstance(users, bool) or not isinstance(users, int) or users < 0:
                raise ValueError(f"counted users must be a non-negative int, not {users!r}")
        zone(self.zone)  # an unknown zone fails here, not in the middle of a run
        object.__setattr__(self, "pool_events", tuple(sorted(self.pool_events, key=lambda event: event[0])))
        object.__setattr__(self, "region", self.region.upper())


@dataclass(frozen=True, slots=True)
class RatingTerms:
    """Catalog data of the voice trunk (R-VT-2, R-VT-5, R-VT-6): passed in, never hard-coded."""

    minutes_per_user: int
    cta2_bundle: Cta2Bundle
    max_call_seconds: int = 14400

    def __post_init__(self) -> None:
        if self.minutes_per_user < 0 or self.max_call_seconds <= 0:
            raise ValueError("minutes_per_user must be >= 0 and max_call_seconds > 0")


@dataclass(frozen=True, slots=True)
class RatedCall:
    """The rating of one call (R-VT-3 to R-VT-7).

    ``billed_seconds``: the rated duration (``billsec`` capped at 14400; 0 for an SMS).
    ``free_seconds``: the part an allowance covered. ``charged_units``: what was charged, in
    ``unit`` (``minute`` per started minute in CTA1, ``second`` in CTA2..CTA6, ``sms``).
    ``amount``: 6 decimals, not rounded to the currency. An error record has ``error`` set,
    no area and zero everything.
    """

    call_id: str
    area: str | None
    billed_seconds: int
    free_seconds: int
    charged_units: int
    amount: Decimal
    capped: bool
    error: str | None
    pbx: str = ""
    period: str = ""
    kind: CallKind = "voice"
    unit: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class AllowanceUsage:
    """A PBX's allowance for one month after rating (R-VT-2, R-VT-5): size and use."""

    pbx: str
    period: str
    bundle: Bundle
    seconds_total: int
    seconds_used: int
    sms_total: int
    sms_used: int

    @property
    def seconds_left(self) -> int:
        return self.seconds_total - self.seconds_used

    @property
    def sms_left(self) -> int:
        return self.sms_total - self.sms_used


@dataclass(frozen=True, slots=True)
class RatingRun:
    """Rated calls in input order, and the allowances they drew per ``(pbx, period)``."""

    calls: tuple[RatedCall, ...]
    allowances: Mapping[tuple[str, str], AllowanceUsage] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One usage line of a PBX's month (R-CAT-6, R-INV-1): per area and kind (voice or SMS).

    ``seconds``: rated seconds; ``billable_seconds``: the seconds charged (started minutes
    count 60); ``amount``: the sum of the calls' amounts rounded once to the currency's minor
    unit, half up. ``allowance_used``/``allowance_left``: seconds (voice) or messages (SMS) of
    the allowance this line draws, ``None`` where it draws none.
    """

    pbx: str
    period: str
    area: str
    kind: CallKind
    currency: str
    calls: int
    seconds: int
    billable_seconds: int
    amount: Decimal
    allowance_used: int | None
    allowance_left: int | None


def no_context_error(pbx: str) -> str:
    """Error of a call whose PBX has no rating context."""
    return f"no rating context for PBX {pbx!r}"


def no_sms_rate_error(e164: str) -> str:
    """Error of an SMS to a destination without an SMS rate."""
    return f"no SMS rate for destination {e164}"


def per_second_amount(seconds: int, rate_per_minute: Decimal) -> Decimal:
    """``seconds * rate / 60``, 6 decimals half up (R-VT-4, R-CAT-6)."""
    return (seconds * rate_per_minute / 60).quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def per_unit_amount(units: int, rate: Decimal) -> Decimal:
    """``units * rate`` at 6 decimals (started minutes, R-VT-3, or messages)."""
    return (units * rate).quantize(_QUANTUM, rounding=ROUND_HALF_UP)


class _Month:
    """Running allowance state of one PBX in one month."""

    __slots__ = ("bundle", "pool", "seconds_used", "sms_used")

    def __init__(self, bundle: Bundle, pool: AllowancePool | None) -> None:
        self.bundle = bundle
        self.pool = pool
        self.seconds_used = 0
        self.sms_used = 0


def rate_calls(
    calls: Iterable[Call],
    *,
    contexts: Mapping[str, PbxRatingContext],
    table: RateTable,
    terms: RatingTerms,
) -> RatingRun:
    """Rate ``calls`` (any PBXs, any months) with their PBX's context (R-VT-2 to R-VT-7)."""
    indexed = list(enumerate(calls))
    rated: list[RatedCall | None] = [None] * len(indexed)
    months: dict[tuple[str, int], _Month] = {}
    # Compared in UTC: aware datetimes of different zones in a DST fold never compare equal.
    for index, call in sorted(indexed, key=lambda item: (item[1].start.astimezone(UTC), item[1].call_id)):
        rated[index] = _rate_one(call, contexts, table, terms, months)
    allowances: dict[tuple[str, str], AllowanceUsage] = {}
    for (pbx, number), month in sorted(months.items()):
        period = period_label(number)
        if month.bundle == "CTA1":
            assert month.pool is not None
            total, sms_total = month.pool.final_seconds, 0
        else:
            total, sms_total = terms.cta2_bundle.seconds, terms.cta2_bundle.sms
        allowances[(pbx, period)] = AllowanceUsage(
            pbx, period, month.bundle, total, month.seconds_used, sms_total, month.sms_used
        )
    return RatingRun(calls=tuple(call for call in rated if call is not None), allowances=allowances)


def _rate_one(
    call: Call,
    contexts: Mapping[str, PbxRatingContext],
    table: RateTable,
    terms: RatingTerms,
    months: dict[tuple[str, int], _Month],
) -> RatedCall:
    context = contexts.get(call.pbx)
    if context is None:
        return _error(call, period_label(month_number(call.start, "UTC")), no_context_error(call.pbx))
    number = month_number(call.start, context.zone)
    period = period_label(number)
    month = months.get((call.pbx, number))
    if month is None:
        pool = None
        if context.bundle == "CTA1":
            start, end = month_bounds(number, context.zone)
            pool = AllowancePool.for_period(
                events=context.pool_events,
                period_start=start,
                period_end=end,
                minutes_per_user=terms.minutes_per_user,
            )
        month = months[(call.pbx, number)] = _Month(context.bundle, pool)
    try:
        e164 = normalise(call.callee, context.region)
        row = table.match(e164)
    except (InvalidNumber, UnknownDestination) as exc:
        return _error(call, period, str(exc))
    if call.kind == "sms":
        return _rate_sms(call, period, e164, row, month, terms)
    return _rate_voice(call, period, row, month, terms)


def _rate_sms(
    call: Call, period: str, e164: str, row: TariffRow, month: _Month, terms: RatingTerms
) -> RatedCall:
    if row.rate_per_sms is None:
        return _error(call, period, no_sms_rate_error(e164))
    covered = 0
    if month.bundle == "CTA2" and row.area == "CTA2" and month.sms_used < terms.cta2_bundle.sms:
        covered = 1
        month.sms_used += 1
    units = 1 - covered
    return RatedCall(
        call_id=call.call_id,
        area=row.area,
        billed_seconds=0,
        free_seconds=0,
        charged_units=units,
        amount=per_unit_amount(units, row.rate_per_sms),
        capped=False,
        error=None,
        pbx=call.pbx,
        period=period,
        kind="sms",
        unit="sms",
        currency=row.currency,
    )


def _rate_voice(call: Call, period: str, row: TariffRow, month: _Month, terms: RatingTerms) -> RatedCall:
    billed = min(call.billsec, terms.max_call_seconds)
    available = 0
    if row.area == "CTA1" and month.bundle == "CTA1":
        assert month.pool is not None
        available = month.pool.seconds_at(call.start) - month.seconds_used
    elif row.area == "CTA2" and month.bundle == "CTA2":
        available = terms.cta2_bundle.seconds - month.seconds_used
    covered = max(0, min(billed, available))
    month.seconds_used += covered
    remaining = billed - covered
    if row.area == "CTA1":
        unit, units = "minute", -(-remaining // 60)
        amount = per_unit_amount(units, row.rate_per_minute)
    else:
        unit, units = "second", remaining
        amount = per_second_amount(units, row.rate_per_minute)
    return RatedCall(
        call_id=call.call_id,
        area=row.area,
        billed_seconds=billed,
        free_seconds=covered,
        charged_units=units,
        amount=amount,
        capped=call.billsec > terms.max_call_seconds,
        error=None,
        pbx=call.pbx,
        period=period,
        kind="voice",
        unit=unit,
        currency=row.currency,
    )


def _error(call: Call, period: str, reason: str) -> RatedCall:
    return RatedCall(
        call_id=call.call_id,
        area=None,
        billed_seconds=0,
        free_seconds=0,
        charged_units=0,
        amount=Decimal(0).quantize(_QUANTUM),
        capped=False,
        error=reason,
        pbx=call.pbx,
        period=period,
        kind=call.kind,
    )


def summarise(
    rated: Iterable[RatedCall],
    allowances: Iterable[AllowanceUsage] | Mapping[tuple[str, str], AllowanceUsage] = (),
) -> list[UsageLine]:
    """Usage lines per PBX, month, area, kind and currency; error records left out (R-CAT-6).

    Amounts are summed exactly and rounded once per line to the currency's minor unit, half
    up. A line of the area an allowance covers (CTA1 voice with the CTA1 bundle, CTA2 voice
    and SMS with the CTA2 bundle) shows that allowance's use and what is left.
    """
    usages = allowances.values() if isinstance(allowances, Mapping) else allowances
    by_month = {(usage.pbx, usage.period): usage for usage in usages}
    totals: dict[tuple[str, str, str, CallKind, str], _LineTotal] = {}
    for call in rated:
        if call.error is not None or call.area is None or call.currency is None:
            continue
        key = (call.pbx, call.period, call.area, call.kind, call.currency)
        total = totals.get(key)
        if total is None:
            total = totals[key] = _LineTotal()
        total.calls += 1
        total.seconds += call.billed_seconds
        total.billable_seconds += call.charged_units * 60 if call.unit == "minute" else call.charged_units
        total.amount += call.amount
    lines = []
    for (pbx, period, area, kind, currency), total in sorted(totals.items()):
        used, left = _allowance_of_line(by_month.get((pbx, period)), area, kind)
        lines.append(
            UsageLine(
                pbx=pbx,
                period=period,
                area=area,
                kind=kind,
                currency=currency,
                calls=total.calls,
                seconds=total.seconds,
                billable_seconds=total.billable_seconds,
                amount=round_line(total.amount, currency),
                allowance_used=used,
                allowance_left=left,
            )
        )
    return lines


@dataclass(slots=True)
class _LineTotal:
    calls: int = 0
    seconds: int = 0
    billable_seconds: int = 0
    amount: Decimal = Decimal(0)


def _allowance_of_line(usage: AllowanceUsage | None, area: str, kind: str) -> tuple[int | None, int | None]:
    if usage is None:
        return None, None
    if kind == "voice" and area == usage.bundle:
        return usage.seconds_used, usage.seconds_left
    if kind == "sms" and area == "CTA2" and usage.bundle == "CTA2":
        return usage.sms_used, usage.sms_left
    return None, None
