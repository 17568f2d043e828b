"""Batch rating over columns, identical to the reference ``rate.rate_calls`` (R-VT-2 to R-VT-7).

The same rules as ``rate.py``, over numpy arrays, exactly:

- money in integer micro-units (rates have at most 6 decimals, ``tariff.RATE_DECIMALS``):
  per second ``(seconds * rate_micro + 30) // 60`` is rate/60 rounded half up to 6 places,
  as the reference's Decimal quantize; started minutes ``units * rate_micro`` are exact;
- numbers are normalised once per distinct (number, region) with the reference's cached
  ``normalise``; destinations are matched over int64 E.164 numbers, one sorted prefix
  array per prefix length, longest first;
- allowances: calls that draw are sorted per (PBX, month) by start then call id; with ``b``
  the rated seconds, ``S`` their running sum and ``P`` the pool size at each call's start
  (non-decreasing within a month, R-VT-2), the seconds covered up to call ``i`` are
  ``U_i = S_i + min(0, min_{j<=i}(P_j - S_j))``, which unrolls the reference's
  ``U_i = min(P_i, U_{i-1} + b_i)``; a segmented running minimum gives every call's share at
  once, and a call crossing the end of the pool gets exactly the remainder.

Input is an Arrow table of ``BATCH_SCHEMA`` (``calls_to_batch`` builds one from ``Call``s,
``cdr.read_asterisk_master_arrow`` from a Master.csv). Output is a ``RatedBatch`` of
columns; ``to_rated_calls`` and ``usage_lines`` turn it into the reference's objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from pbxportal.core.money import round_line
from pbxportal.core.rating.allowance import AllowancePool, month_bounds, period_label, zone
from pbxportal.core.rating.numbers import InvalidNumber, normalise_checked
from pbxportal.core.rating.rate import (
    AMOUNT_PLACES,
    AllowanceUsage,
    Call,
    CallKind,
    PbxRatingContext,
    RatedCall,
    RatingTerms,
    UsageLine,
    no_context_error,
    no_sms_rate_error,
)
from pbxportal.core.rating.tariff import AREAS, RATE_DECIMALS, RateTable, UnknownDestination

__all__ = [
    "BATCH_SCHEMA",
    "RatedBatch",
    "calls_to_batch",
    "local_to_utc_us",
    "rate_batch",
    "to_epoch_us",
]

I64 = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BATCH_SCHEMA = pa.schema(
    [
        ("call_id", pa.string()),
        ("pbx", pa.string()),
        ("start", pa.timestamp("us", tz="UTC")),
        ("caller", pa.string()),
        ("callee", pa.string()),
        ("billsec", pa.int64()),
        ("kind", pa.string()),
    ]
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_HOUR = 3_600_000_000
_MICRO = 10**RATE_DECIMALS
# Offsets inside one (PBX, month) group fit in 2**42 us (50 days); groups go above that.
_GROUP_SPAN = 1 << 42
_MAX_GROUPS = 1 << 20

# Error codes, in the order the reference checks them.
_OK, _NO_CONTEXT, _INVALID_NUMBER, _UNKNOWN, _NO_SMS_RATE = 0, 1, 2, 3, 4
_UNITS = ("minute", "second", "sms")
_QUANTUM = Decimal(1).scaleb(-AMOUNT_PLACES)


def to_epoch_us(at: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime, exactly."""
    return (at - _EPOCH) // timedelta(microseconds=1)


def _from_epoch_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def calls_to_batch(calls: Iterable[Call]) -> pa.Table:
    """An Arrow table of ``BATCH_SCHEMA`` holding ``calls`` in order."""
    items = list(calls)
    return pa.table(
        {
            "call_id": pa.array([call.call_id for call in items], pa.string()),
            "pbx": pa.array([call.pbx for call in items], pa.string()),
            "start": pa.array([to_epoch_us(call.start) for call in items], pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "caller": pa.array([call.caller for call in items], pa.string()),
            "callee": pa.array([call.callee for call in items], pa.string()),
            "billsec": pa.array([call.billsec for call in items], pa.int64()),
            "kind": pa.array([call.kind for call in items], pa.string()),
        },
        schema=BATCH_SCHEMA,
    )


def local_to_utc_us(local_us: I64, zone_name: str) -> I64:
    """UTC epoch microseconds of wall-clock times (as epoch microseconds) in ``zone_name``.

    Same reading as ``datetime(..., tzinfo=ZoneInfo(zone))`` (``fold=0``): an ambiguous time
    takes the earlier offset, a time in a gap the offset before the gap. Offsets are looked
    up once per hour of the span; the rare hour holding a transition is converted call by
    call with zoneinfo.
    """
    if zone_name == "UTC" or local_us.size == 0:
        return local_us
    tz = zone(zone_name)
    hours = local_us // _US_PER_HOUR
    first = int(hours.min())
    span = int(hours.max()) - first + 1
    if span > 10_000_000:
        raise ValueError(f"call times span {span} hours: split the batch")
    offsets = np.empty(span, dtype=np.int64)
    mixed: list[int] = []
    for step in range(span):
        # Aware + timedelta is wall-clock arithmetic in the zone, fold=0.
        start = datetime(1970, 1, 1, tzinfo=tz) + timedelta(hours=first + step)
        before = start.utcoffset()
        after = (start + timedelta(microseconds=_US_PER_HOUR - 1)).utcoffset()
        assert before is not None and after is not None
        offsets[step] = before // timedelta(microseconds=1)
        if before != after:
            mixed.append(step)
    utc = local_us - offsets[hours - first]
    for step in mixed:
        for row in np.flatnonzero(hours == first + step):
            utc[row] = to_epoch_us(
                datetime(1970, 1, 1, tzinfo=tz) + timedelta(microseconds=int(local_us[row]))
            )
    return utc


@dataclass(frozen=True, slots=True)
class _Destinations:
    """Destinations resolved per distinct (number, region)."""

    tariff_index: npt.NDArray[np.int64]  # -1 where none
    error: npt.NDArray[np.int8]
    e164: list[str | None]
    message: list[str | None]


class _PrefixIndex:
    """The rate table as one sorted int64 prefix array per prefix length, longest first."""

    def __init__(self, table: RateTable) -> None:
        self.rows = table.rows
        by_length: dict[int, list[tuple[int, int]]] = {}
        for index, row in enumerate(self.rows):
            by_length.setdefault(len(row.prefix), []).append((int(row.prefix), index))
        self.levels: list[tuple[int, I64, I64]] = []
        for length in sorted(by_length, reverse=True):
            pairs = sorted(by_length[length])
            self.levels.append(
                (
                    length,
                    np.array([prefix for prefix, _ in pairs], dtype=np.int64),
                    np.array([index for _, index in pairs], dtype=np.int64),
                )
            )

    def match(self, numbers: I64, digits: I64) -> I64:
        """Row index of the longest prefix of each number (``digits`` long); -1 where none."""
        found = np.full(numbers.size, -1, dtype=np.int64)
        for length, prefixes, indices in self.levels:
            todo = np.flatnonzero((found < 0) & (digits >= length))
            if todo.size == 0:
                continue
            heads = numbers[todo] // np.power(10, digits[todo] - length)
            at = np.minimum(np.searchsorted(prefixes, heads), prefixes.size - 1)
            hit = prefixes[at] == heads
            found[todo[hit]] = indices[at[hit]]
        return found


def _resolve(texts: list[str], regions: list[str], index: _PrefixIndex) -> _Destinations:
    count = len(texts)
    error = np.zeros(count, dtype=np.int8)
    e164: list[str | None] = [None] * count
    message: list[str | None] = [None] * count
    numbers = np.zeros(count, dtype=np.int64)
    digits = np.zeros(count, dtype=np.int64)
    for position, (text, region) in enumerate(zip(texts, regions, strict=True)):
        normalised, reason = normalise_checked(text, region)
        if normalised is None:
            error[position] = _INVALID_NUMBER
            message[position] = str(InvalidNumber(text, reason))
            continue
        e164[position] = normalised
        numbers[position] = int(normalised[1:])
        digits[position] = len(normalised) - 1
    tariff_index = index.match(numbers, digits)
    tariff_index[error != _OK] = -1
    for unknown in np.flatnonzero((error == _OK) & (tariff_index < 0)).tolist():
        error[unknown] = _UNKNOWN
        number = e164[unknown]
        assert number is not None
        message[unknown] = str(UnknownDestination(number))
    return _Destinations(tariff_index, error, e164, message)


@dataclass(frozen=True)
class RatedBatch:
    """Rated calls as columns, in the input's order (R-VT-2 to R-VT-7).

    ``amount_micro`` is the amount in millionths of the currency; ``unit`` indexes
    ``("minute", "second", "sms")`` (-1 for error records); ``area`` is 1..6 (0 for errors).
    """

    call_id: pa.Array
    pbx: npt.NDArray[np.int32]
    pbx_names: list[str]
    kind_is_sms: BoolArray
    period: npt.NDArray[np.int64]
    area: npt.NDArray[np.int8]
    billed_seconds: I64
    free_seconds: I64
    charged_units: I64
    amount_micro: I64
    capped: BoolArray
    unit: npt.NDArray[np.int8]
    currency: npt.NDArray[np.int16]
    currency_names: list[str]
    error: npt.NDArray[np.int8]
    error_messages: dict[int, str]
    allowances: dict[tuple[str, str], AllowanceUsage]

    def __len__(self) -> int:
        return int(self.area.size)

    def to_rated_calls(self) -> list[RatedCall]:
        """The reference's ``RatedCall`` objects, in input order."""
        call_ids = self.call_id.to_pylist()
        rated = []
        for row in range(len(self)):
            failed = self.error[row] != _OK
            kind: CallKind = "sms" if self.kind_is_sms[row] else "voice"
            rated.append(
                RatedCall(
                    call_id=call_ids[row],
                    area=None if failed else AREAS[self.area[row] - 1],
                    billed_seconds=int(self.billed_seconds[row]),
                    free_seconds=int(self.free_seconds[row]),
                    charged_units=int(self.charged_units[row]),
                    amount=Decimal(int(self.amount_micro[row])).scaleb(-AMOUNT_PLACES).quantize(_QUANTUM),
                    capped=bool(self.capped[row]),
                    error=self.error_messages[row] if failed else None,
                    pbx=self.pbx_names[self.pbx[row]],
                    period=period_label(int(self.period[row])),
                    kind=kind,
                    unit=None if failed else _UNITS[self.unit[row]],
                    currency=None if failed else self.currency_names[self.currency[row]],
                )
            )
        return rated

    def usage_lines(self) -> list[UsageLine]:
        """``rate.summarise`` of these calls, aggregated over the columns."""
        ok = np.flatnonzero(self.error == _OK)
        periods = self.period[ok]
        first_period = int(periods.min()) if ok.size else 0
        n_periods = int(periods.max()) - first_period + 1 if ok.size else 1
        n_currencies = max(len(self.currency_names), 1)
        key = (
            (
                (self.pbx[ok].astype(np.int64) * n_periods + (periods - first_period)) * len(AREAS)
                + (self.area[ok].astype(np.int64) - 1)
            )
            * 2
            + self.kind_is_sms[ok]
        ) * n_currencies + self.currency[ok]
        keys, inverse = _dense_codes(key.astype(np.int64))
        billable = np.where(self.unit[ok] == 0, self.charged_units[ok] * 60, self.charged_units[ok])
        sums = np.stack(
            [
                np.bincount(inverse, minlength=keys.size).astype(np.int64),
                _group_sum(inverse, self.billed_seconds[ok], keys.size),
                _group_sum(inverse, billable, keys.size),
                _group_sum(inverse, self.amount_micro[ok], keys.size),
            ]
        )
        lines = []
        for position, value in enumerate(keys.tolist()):
            value, currency = divmod(value, n_currencies)
            value, is_sms = divmod(value, 2)
            value, area = divmod(value, len(AREAS))
            pbx, period_offset = divmod(value, n_periods)
            pbx_name = self.pbx_names[pbx]
            period = period_label(first_period + period_offset)
            kind: CallKind = "sms" if is_sms else "voice"
            currency_name = self.currency_names[currency]
            used, left = _line_allowance(self.allowances.get((pbx_name, period)), AREAS[area], kind)
            lines.append(
                UsageLine(
                    pbx=pbx_name,
                    period=period,
                    area=AREAS[area],
                    kind=kind,
                    currency=currency_name,
                    calls=int(sums[0, position]),
                    seconds=int(sums[1, position]),
                    billable_seconds=int(sums[2, position]),
                    amount=round_line(Decimal(int(sums[3, position])).scaleb(-AMOUNT_PLACES), currency_name),
                    allowance_used=used,
                    allowance_left=left,
                )
            )
        return sorted(lines, key=lambda line: (line.pbx, line.period, line.area, line.kind, line.currency))


def _line_allowance(usage: AllowanceUsage | None, area: str, kind: str) -> tuple[int | None, int | None]:
    if usage is None:
        return None, None
    if kind == "voice" and area == usage.bundle:
        return usage.seconds_used, usage.seconds_left
    if kind == "sms" and area == "CTA2" and usage.bundle == "CTA2":
        return usage.sms_used, usage.sms_left
    return None, None


def _as_array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _month_numbers(start_us: I64, zone_name: str) -> I64:
    """Month number (``year * 12 + month - 1``) of each instant in the zone."""
    if start_us.size == 0:
        return np.zeros(0, dtype=np.int64)
    tz = zone(zone_name)
    low = _from_epoch_us(int(start_us.min())).astimezone(tz)
    high = _from_epoch_us(int(start_us.max())).astimezone(tz)
    first = low.year * 12 + low.month - 1
    last = high.year * 12 + high.month - 1
    bounds = np.array(
        [to_epoch_us(month_bounds(number, zone_name)[0]) for number in range(first, last + 2)], dtype=np.int64
    )
    return first + np.searchsorted(bounds, start_us, side="right") - 1


def _dense_codes(keys: I64) -> tuple[I64, I64]:
    """``np.unique(keys, return_inverse=True)``, by a presence table when the keys are dense."""
    if keys.size == 0:
        return keys.copy(), np.zeros(0, dtype=np.int64)
    low = int(keys.min())
    span = int(keys.max()) - low + 1
    if span > max(4 * keys.size, 1 << 16):
        distinct, codes = np.unique(keys, return_inverse=True)
        return distinct, codes.reshape(-1).astype(np.int64)
    present = np.zeros(span, dtype=bool)
    present[keys - low] = True
    code_of = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present).astype(np.int64) + low, code_of[keys - low]


def _group_sum(codes: I64, values: I64, count: int) -> I64:
    """Exact int64 sums of ``values`` per code."""
    if values.size and int(np.abs(values).max()) * values.size < 1 << 53:
        # Every partial sum is an integer below 2**53: float64 adds it exactly.
        return np.bincount(codes, weights=values, minlength=count).astype(np.int64)
    sums = np.zeros(count, dtype=np.int64)
    np.add.at(sums, codes, values)
    return sums


def _segments(groups: I64) -> tuple[I64, I64]:
    """Start offsets of runs of equal values in ``groups`` (sorted), and each row's run number."""
    starts = np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))
    run = np.cumsum(np.concatenate(([False], groups[1:] != groups[:-1]))).astype(np.int64)
    return starts, run


def _draw_order(keys: I64, rows: I64, call_ids: pa.Array) -> I64:
    """``rows`` sorted by key (group then start), ties by call id then input order."""
    order = np.argsort(keys)
    ordered_keys = keys[order]
    ordered = rows[order]
    ties = np.flatnonzero(ordered_keys[1:] == ordered_keys[:-1])
    # Each run of consecutive tie positions is one set of calls sharing a group and start.
    for run in np.split(ties, np.flatnonzero(np.diff(ties) != 1) + 1) if ties.size else ():
        first, last = int(run[0]), int(run[-1]) + 1
        chunk = ordered[first : last + 1]
        names = call_ids.take(pa.array(chunk)).to_pylist()
        # The sort was not stable: the input position (``rows`` ascend) breaks equal ids.
        ordered[first : last + 1] = chunk[sorted(range(chunk.size), key=lambda at: (names[at], chunk[at]))]
    return ordered


def _covered(pool: I64, seconds: I64, groups: I64) -> I64:
    """Seconds each call gets from its group's pool, calls in draw order (see module doc)."""
    if seconds.size == 0:
        return seconds.copy()
    starts, run = _segments(groups)
    total = np.cumsum(seconds)
    before_run = np.concatenate(([0], total[starts[1:] - 1]))
    running = total - before_run[run]
    slack = pool - running
    spread = int(slack.max()) - int(slack.min()) + 1
    if spread * (int(run[-1]) + 1) >= 1 << 62:
        raise OverflowError("allowance sums too large for int64 segmented minimum")
    shifted = slack - run * spread
    lowest = np.minimum.accumulate(shifted) + run * spread
    used = running + np.minimum(lowest, 0)
    used_before = np.concatenate(([0], used[:-1]))
    used_before[starts] = 0
    return used - used_before


@dataclass(frozen=True, slots=True)
class _Groups:
    """Allowance groups, one per (PBX, month) with a context, and their CTA1 pools.

    ``row`` is each call's group (-1 without context); ``start`` each group's first instant;
    the pools' steps are keyed ``group * _GROUP_SPAN + microseconds into the month``.
    """

    row: I64
    pbx: I64
    period: I64
    start: I64
    seconds_total: I64
    step_keys: I64
    step_sizes: I64

    @property
    def size(self) -> int:
        return int(self.pbx.size)

    def keys(self, rows: I64, start_us: I64) -> I64:
        """Sort keys of calls: their group, then their start."""
        group = self.row[rows]
        return group * _GROUP_SPAN + (start_us[rows] - self.start[group])


def _allowance_groups(
    pbx: npt.NDArray[np.int32],
    period: I64,
    row_has_context: BoolArray,
    pbx_contexts: list[PbxRatingContext | None],
    terms: RatingTerms,
) -> _Groups:
    with_context = np.flatnonzero(row_has_context)
    first_period = int(period[with_context].min()) if with_context.size else 0
    n_periods = int(period[with_context].max()) - first_period + 1 if with_context.size else 1
    keys, codes = _dense_codes(
        pbx[with_context].astype(np.int64) * n_periods + (period[with_context] - first_period)
    )
    if keys.size > _MAX_GROUPS:
        raise ValueError(f"{keys.size} (PBX, month) groups in one batch: split it")
    row = np.full(pbx.size, -1, dtype=np.int64)
    row[with_context] = codes
    group_pbx = keys // n_periods
    group_period = keys % n_periods + first_period
    start = np.zeros(keys.size, dtype=np.int64)
    total = np.zeros(keys.size, dtype=np.int64)
    step_keys: list[int] = []
    step_sizes: list[int] = []
    for index, (pbx_code, number) in enumerate(zip(group_pbx.tolist(), group_period.tolist(), strict=True)):
        context = pbx_contexts[pbx_code]
        assert context is not None
        begin, end = month_bounds(number, context.zone)
        start[index] = to_epoch_us(begin)
        if context.bundle == "CTA2":
            total[index] = terms.cta2_bundle.seconds
            continue
        pool = AllowancePool.for_period(
            events=context.pool_events,
            period_start=begin,
            period_end=end,
            minutes_per_user=terms.minutes_per_user,
        )
        for at, size in pool.steps:
            step_keys.append(index * _GROUP_SPAN + to_epoch_us(at) - int(start[index]))
            step_sizes.append(size)
        total[index] = pool.final_seconds
    return _Groups(
        row=row,
        pbx=group_pbx,
        period=group_period,
        start=start,
        seconds_total=total,
        step_keys=np.array(step_keys, dtype=np.int64),
        step_sizes=np.array(step_sizes, dtype=np.int64),
    )


def _draw_seconds(
    groups: _Groups,
    rows: I64,
    start_us: I64,
    billed: I64,
    row_is_cta2: BoolArray,
    call_id: pa.Array,
    terms: RatingTerms,
    initial: I64 | None = None,
) -> tuple[I64, I64]:
    """Free seconds of each call (the CTA1 pool or the CTA2 bundle), and the use per group.

    ``initial``: seconds each group had used before this batch (its new use is returned)."""
    free = np.zeros(billed.size, dtype=np.int64)
    if rows.size == 0:
        return free, np.zeros(groups.size, dtype=np.int64)
    ordered = _draw_order(groups.keys(rows, start_us), rows, call_id)
    pool = np.full(ordered.size, terms.cta2_bundle.seconds, dtype=np.int64)
    cta1 = np.flatnonzero(~row_is_cta2[ordered])
    if cta1.size:
        at = groups.keys(ordered[cta1], start_us)
        pool[cta1] = groups.step_sizes[np.searchsorted(groups.step_keys, at, side="right") - 1]
    ordered_groups = groups.row[ordered]
    seconds = billed[ordered]
    if initial is not None and initial.any():
        # Continue each group from the seconds it had used already (incremental rating, R-VT-2):
        # a virtual first draw of that many seconds against a pool of exactly that size.
        starts, _ = _segments(ordered_groups)
        before = initial[ordered_groups[starts]]
        pool = np.insert(pool, starts, before)
        seconds = np.insert(seconds, starts, before)
        augmented_groups = np.insert(ordered_groups, starts, ordered_groups[starts])
        virtual = starts + np.arange(starts.size)
        covered = np.delete(_covered(pool, seconds, augmented_groups), virtual)
    else:
        covered = _covered(pool, seconds, ordered_groups)
    free[ordered] = covered
    return free, _group_sum(ordered_groups, covered, groups.size)


def _draw_sms(
    groups: _Groups,
    rows: I64,
    start_us: I64,
    call_id: pa.Array,
    terms: RatingTerms,
    initial: I64 | None = None,
) -> tuple[I64, I64]:
    """Free SMS (0 or 1) of each call from the CTA2 bundle, and the use per group."""
    free = np.zeros(start_us.size, dtype=np.int64)
    if rows.size == 0:
        return free, np.zeros(groups.size, dtype=np.int64)
    ordered = _draw_order(groups.keys(rows, start_us), rows, call_id)
    ordered_groups = groups.row[ordered]
    starts, run = _segments(ordered_groups)
    left = terms.cta2_bundle.sms - (initial[ordered_groups] if initial is not None else 0)
    covered = (np.arange(ordered.size) - starts[run] < left).astype(np.int64)
    free[ordered] = covered
    return free, _group_sum(ordered_groups, covered, groups.size)


def rate_batch(
    batch: pa.Table,
    *,
    contexts: Mapping[str, PbxRatingContext],
    table: RateTable,
    terms: RatingTerms,
    initial: Mapping[tuple[str, str], tuple[int, int]] | None = None,
) -> RatedBatch:
    """Rate a batch of calls; identical to ``rate.rate_calls`` on the same calls (R-VT-2..7).

    ``initial`` continues (PBX, ``YYYY-MM``) months from the (allowance seconds, SMS) they had
    used before the batch (incremental rating: the batch holds the calls after those); the
    allowances returned are the totals including it.
    """
    count = batch.num_rows
    call_id = _as_array(batch.column("call_id"))
    pbx_encoded = pc.dictionary_encode(_as_array(batch.column("pbx")))
    pbx = pbx_encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    pbx_names: list[str] = pbx_encoded.dictionary.to_pylist()
    start_us = _as_array(batch.column("start")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    billsec = _as_array(batch.column("billsec")).to_numpy(zero_copy_only=False).astype(np.int64)
    kind = _as_array(batch.column("kind"))
    is_sms = pc.equal(kind, "sms").to_numpy(zero_copy_only=False)
    if batch.column("start").null_count or batch.column("billsec").null_count:
        raise ValueError("start and billsec must not be null")
    if not pc.all(pc.is_in(kind, pa.array(["voice", "sms"])), min_count=0).as_py():
        raise ValueError("kind must be 'voice' or 'sms'")
    if count and int(billsec.min()) < 0:
        raise ValueError("billsec must not be negative")

    # Per PBX: its context, region and zone.
    pbx_contexts = [contexts.get(name) for name in pbx_names]
    has_context = np.array([context is not None for context in pbx_contexts], dtype=bool)
    is_cta2 = np.array(
        [context is not None and context.bundle == "CTA2" for context in pbx_contexts], dtype=bool
    )
    region_names = sorted({context.region for context in pbx_contexts if context is not None}) or ["ZZ"]
    pbx_region = np.array(
        [region_names.index(context.region) if context else 0 for context in pbx_contexts], dtype=np.int64
    )
    zone_names = sorted({context.zone for context in pbx_contexts if context is not None} | {"UTC"})
    pbx_zone = np.array(
        [zone_names.index(context.zone if context else "UTC") for context in pbx_contexts], dtype=np.int64
    )

    row_zone = pbx_zone[pbx] if count else np.zeros(0, dtype=np.int64)
    period = np.zeros(count, dtype=np.int64)
    for index, zone_name in enumerate(zone_names):
        rows = np.flatnonzero(row_zone == index) if len(zone_names) > 1 else np.arange(count)
        if rows.size:
            period[rows] = _month_numbers(start_us[rows], zone_name)

    # Destinations, once per distinct (callee, region).
    callee = pc.dictionary_encode(_as_array(batch.column("callee")))
    callee_index = callee.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    callee_texts: list[str] = callee.dictionary.to_pylist()
    prefix_index = _PrefixIndex(table)
    if len(region_names) == 1:
        destinations = _resolve(callee_texts, region_names * len(callee_texts), prefix_index)
        destination = callee_index
    else:
        combined = callee_index * len(region_names) + pbx_region[pbx]
        distinct, destination = _dense_codes(combined)
        destinations = _resolve(
            [callee_texts[value // len(region_names)] for value in distinct.tolist()],
            [region_names[value % len(region_names)] for value in distinct.tolist()],
            prefix_index,
        )
    rows_of_table = prefix_index.rows
    tariff = destinations.tariff_index[destination] if count else np.zeros(0, dtype=np.int64)
    error = destinations.error[destination] if count else np.zeros(0, dtype=np.int8)
    row_has_context = has_context[pbx] if count else np.zeros(0, dtype=bool)
    error[~row_has_context] = _NO_CONTEXT

    sms_rates = np.array(
        [-1 if row.rate_per_sms is None else int(row.rate_per_sms * _MICRO) for row in rows_of_table] or [0],
        dtype=np.int64,
    )
    minute_rates = np.array(
        [int(row.rate_per_minute * _MICRO) for row in rows_of_table] or [0], dtype=np.int64
    )
    areas = np.array([AREAS.index(row.area) + 1 for row in rows_of_table] or [0], dtype=np.int8)
    currency_names = sorted({row.currency for row in rows_of_table})
    currencies = np.array(
        [currency_names.index(row.currency) for row in rows_of_table] or [0], dtype=np.int16
    )
    if int(minute_rates.max()) * terms.max_call_seconds >= 1 << 62:
        raise OverflowError("rates too large for int64 micro-units")

    safe_tariff = np.maximum(tariff, 0)
    error[(error == _OK) & is_sms & (sms_rates[safe_tariff] < 0)] = _NO_SMS_RATE
    ok = error == _OK
    area = np.where(ok, areas[safe_tariff], 0).astype(np.int8)
    voice = ok & ~is_sms
    billed = np.where(voice, np.minimum(billsec, terms.max_call_seconds), 0)
    capped = voice & (billsec > terms.max_call_seconds)

    groups = _allowance_groups(pbx, period, row_has_context, pbx_contexts, terms)
    row_is_cta2 = is_cta2[pbx] if count else np.zeros(0, dtype=bool)
    draws_seconds = np.flatnonzero(voice & (((area == 1) & ~row_is_cta2) | ((area == 2) & row_is_cta2)))
    initial_seconds = np.zeros(groups.size, dtype=np.int64)
    initial_sms = np.zeros(groups.size, dtype=np.int64)
    for index, (pbx_code, number) in enumerate(zip(groups.pbx.tolist(), groups.period.tolist(), strict=True)):
        before = (initial or {}).get((pbx_names[pbx_code], period_label(number)))
        if before is not None:
            initial_seconds[index], initial_sms[index] = before
    free, seconds_used = _draw_seconds(
        groups, draws_seconds, start_us, billed, row_is_cta2, call_id, terms, initial_seconds
    )
    seconds_used = seconds_used + initial_seconds
    draws_sms = np.flatnonzero(ok & is_sms & (area == 2) & row_is_cta2)
    free_sms, sms_used = _draw_sms(groups, draws_sms, start_us, call_id, terms, initial_sms)
    sms_used = sms_used + initial_sms

    rate = minute_rates[safe_tariff]
    cta1_voice = voice & (area == 1)
    remaining = billed - free
    units = np.where(cta1_voice, (remaining + 59) // 60, remaining)
    amount = np.where(cta1_voice, units * rate, (units * rate + 30) // 60)
    sms_units = 1 - free_sms
    units = np.where(is_sms, sms_units, units)
    amount = np.where(is_sms, sms_units * sms_rates[safe_tariff], amount)
    units[~ok] = 0
    amount[~ok] = 0
    unit = np.where(is_sms, 2, np.where(area == 1, 0, 1)).astype(np.int8)
    unit[~ok] = -1

    messages: dict[int, str] = {}
    for row in np.flatnonzero(~ok).tolist():
        code = error[row]
        if code == _NO_CONTEXT:
            messages[row] = no_context_error(pbx_names[pbx[row]])
        elif code == _NO_SMS_RATE:
            number = destinations.e164[destination[row]]
            assert number is not None
            messages[row] = no_sms_rate_error(number)
        else:
            text = destinations.message[destination[row]]
            assert text is not None
            messages[row] = text

    allowances: dict[tuple[str, str], AllowanceUsage] = {}
    for index, (pbx_code, number) in enumerate(zip(groups.pbx.tolist(), groups.period.tolist(), strict=True)):
        context = pbx_contexts[pbx_code]
        assert context is not None
        key = (pbx_names[pbx_code], period_label(number))
        allowances[key] = AllowanceUsage(
            pbx=key[0],
            period=key[1],
            bundle=context.bundle,
            seconds_total=int(groups.seconds_total[index]),
            seconds_used=int(seconds_used[index]),
            sms_total=terms.cta2_bundle.sms if context.bundle == "CTA2" else 0,
            sms_used=int(sms_used[index]),
        )
    return RatedBatch(
        call_id=call_id,
        pbx=pbx,
        pbx_names=pbx_names,
        kind_is_sms=is_sms,
        period=period,
        area=area,
        billed_seconds=billed,
        free_seconds=free,
        charged_units=units,
        amount_micro=amount,
        capped=capped,
        unit=unit,
        currency=np.where(ok, currencies[safe_tariff], 0).astype(np.int16),
        currency_names=currency_names,
        error=error,
        error_messages=messages,
        allowances=dict(sorted(allowances.items())),
    )
