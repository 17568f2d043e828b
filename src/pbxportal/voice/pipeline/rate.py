"""Rating PBX-months incrementally from their state (``month_rate``; late records, resumed jobs)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from pbxportal.core.rating import InvalidNumber, normalise
from pbxportal.core.rating.vectorised import BATCH_SCHEMA, rate_batch
from pbxportal.ops import metrics
from pbxportal.pbx.models import Pbx
from pbxportal.voice.models import (
    CallRecord,
    ImportJob,
    ImportProblem,
    UsageMonth,
)
from pbxportal.voice.pipeline.common import _QUOTED, RATE_CHUNK, _as_utc, _db_time, _kill_point, _size
from pbxportal.voice.pipeline.store import _copy_rows
from pbxportal.voice.rating import month_rating

# --- Rating: incremental, per PBX-month -----------------------------------------------------------


@dataclass
class MonthRated:
    pbx_id: int
    month: date
    rated: int = 0
    chunks: int = 0
    late_from: datetime | None = None


def _usage_locked(pbx_id: int, month: date) -> UsageMonth:
    UsageMonth.objects.get_or_create(pbx_id=pbx_id, month=month)
    return UsageMonth.objects.select_for_update().get(pbx_id=pbx_id, month=month)


def first_unrated(pbx_id: int, month: date) -> datetime | None:
    """Start of the earliest unrated record of a PBX-month (index ``call_record_unrated``)."""
    return (
        CallRecord.objects.filter(pbx_id=pbx_id, month=month, rated_at__isnull=True)
        .order_by("start")
        .values_list("start", flat=True)
        .first()
    )


def month_pending(pbx_id: int, month: date) -> bool:
    """Whether a PBX-month has records not rated (or after its rating state): R-INV-2 waits for them."""
    if first_unrated(pbx_id, month) is not None:
        return True
    usage = UsageMonth.objects.filter(pbx_id=pbx_id, month=month).first()
    records = CallRecord.objects.filter(pbx_id=pbx_id, month=month)
    if usage is None or usage.rated_through is None:
        return records.exists() and (usage is None or usage.rated_at is None)
    return records.filter(start__gt=usage.rated_through).exists()


def _state_before(usage: UsageMonth, before: datetime | None) -> None:
    """Roll the month's state back to the records starting before ``before`` (None: to nothing)."""
    records = CallRecord.objects.filter(pbx_id=usage.pbx_id, month=usage.month)
    if before is None:
        usage.rated_through = None
        usage.allowance_used = usage.sms_used = usage.calls = usage.errors = 0
        usage.amount = Decimal(0)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(CASE WHEN error <> '' THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(amount), 0),"
            " coalesce(sum(CASE WHEN kind = 'voice' THEN free_seconds ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN kind = 'sms' AND error = '' AND charged_units = 0 THEN 1 ELSE 0 END), 0),"
            " max(start)"
            " FROM voice_callrecord WHERE pbx_id = %s AND month = %s AND start < %s",
            [usage.pbx_id, usage.month, _db_time(before)],
        )
        calls, errors, amount, used, sms, last = cursor.fetchone()
    del records
    usage.calls, usage.errors = int(calls), int(errors)
    usage.amount = Decimal(str(amount))
    usage.allowance_used, usage.sms_used = int(used), int(sms)
    usage.rated_through = _as_utc(last) if last is not None else None


_FETCH = (
    "SELECT id, identity, start, caller, callee, billsec, kind, job_id, line, rated_at IS NULL"
    " FROM voice_callrecord WHERE pbx_id = %s AND month = %s{after} ORDER BY start, identity{collate}{limit}"
)


def _fetch(usage: UsageMonth, limit: int) -> list[tuple[Any, ...]]:
    """The next records after the state, in rating order, whole starts only (no tie split)."""
    after = " AND start > %s" if usage.rated_through is not None else ""
    params: list[Any] = [usage.pbx_id, usage.month]
    if usage.rated_through is not None:
        params.append(_db_time(usage.rated_through))
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT start FROM voice_callrecord WHERE pbx_id = %s AND month = %s{after}"
            f" ORDER BY start LIMIT 1 OFFSET {limit - 1}",
            params,
        )
        cutoff = cursor.fetchone()
        sql = _FETCH.format(after=after + (" AND start <= %s" if cutoff else ""), collate=collate, limit="")
        cursor.execute(sql, params + ([cutoff[0]] if cutoff else []))
        return list(cursor.fetchall())


def month_rate(
    pbx_id: int, month: date, *, full: bool = False, fresh_rates: bool = False, chunk: int | None = None
) -> MonthRated:
    """Rate a PBX-month's pending records incrementally (R-VT-2..7); ``full`` rates it all again.

    Each chunk is one transaction holding the month's ``UsageMonth`` lock: the records' ratings,
    the state through the chunk's last start and the jobs' counts commit together.
    """
    result = MonthRated(pbx_id=pbx_id, month=month)
    chunk = chunk or _size("PBXPORTAL_RATE_CHUNK", RATE_CHUNK)
    pbx = Pbx.objects.select_related("partner__price_book", "customer").get(pk=pbx_id)
    rating = month_rating(pbx, month, fresh_rates=fresh_rates)
    first = True
    while True:
        with transaction.atomic():
            usage = _usage_locked(pbx_id, month)
            if first:
                first = False
                if full:
                    _state_before(usage, None)
                    result.late_from = datetime.min.replace(tzinfo=UTC)
                else:
                    earliest = first_unrated(pbx_id, month)
                    if (
                        earliest is not None
                        and usage.rated_through is not None
                        and earliest <= usage.rated_through
                    ):
                        # A late record: the month is rated again from its start only.
                        result.late_from = earliest
                        _state_before(usage, earliest)
            records = _fetch(usage, chunk)
            if not records:
                if usage.rated_at is None or full:
                    _finish_usage(usage, rating, None)
                return result
            _kill_point("rating")
            through = usage.rated_through
            _rate_chunk(usage, records, rating)
            if through is not None and usage.rated_through is not None and usage.rated_through <= through:
                raise RuntimeError(f"rating of PBX {pbx_id} {month} made no progress")
            result.rated += len(records)
            result.chunks += 1


def _rate_from_state(usage: UsageMonth, key: str, batch: pa.Table, rating: Any) -> tuple[Any, Any]:
    """Rate ``batch`` of one PBX-month from the month's state so far (allowance and SMS used):
    the one call of the vectorised core for both the re-rate path and the slices (R-VT-5..7).
    Returns the rated batch and the month's allowance after it."""
    period = f"{usage.month.year:04d}-{usage.month.month:02d}"
    contexts = {key: rating.context} if rating.context is not None else {}
    rated = rate_batch(
        batch,
        contexts=contexts,
        table=rating.table,
        terms=rating.terms,
        initial={(key, period): (usage.allowance_used, usage.sms_used)},
    )
    return rated, rated.allowances.get((key, period))


def _rate_chunk(usage: UsageMonth, records: list[tuple[Any, ...]], rating: Any) -> None:
    started = time.perf_counter()
    key = str(usage.pbx_id)
    starts = [_as_utc(row[2]) for row in records]
    batch = pa.table(
        {
            "call_id": pa.array([row[1] for row in records], pa.string()),
            "pbx": pa.array([key] * len(records), pa.string()),
            "start": pa.array(starts, pa.timestamp("us", tz="UTC")),
            "caller": pa.array([row[3] for row in records], pa.string()),
            "callee": pa.array([row[4] for row in records], pa.string()),
            "billsec": pa.array([row[5] for row in records], pa.int64()),
            "kind": pa.array([row[6] for row in records], pa.string()),
        },
        schema=BATCH_SCHEMA,
    )
    rated, allowance = _rate_from_state(usage, key, batch, rating)
    region = rating.context.region if rating.context else "IT"
    areas = ("", "CTA1", "CTA2", "CTA3", "CTA4", "CTA5", "CTA6")
    no_trunk = "the PBX has no voice trunk (CLASSOUND) this month"
    now = timezone.now()
    e164: dict[str, str] = {}
    out: list[tuple[Any, ...]] = []
    problems: list[ImportProblem] = []
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    reasons: dict[int, Counter[str]] = defaultdict(Counter)
    area_codes = rated.area.tolist()
    billed = rated.billed_seconds.tolist()
    free = rated.free_seconds.tolist()
    units = rated.charged_units.tolist()
    amounts = rated.amount_micro.tolist()
    capped = rated.capped.tolist()
    failed = (rated.error != 0).tolist()
    for at, row in enumerate(records):
        error = ""
        number = ""
        if failed[at]:
            error = (rated.error_messages[at] if rating.context is not None else no_trunk)[:200]
        else:
            callee = row[4]
            number = e164.get(callee, "\x00")
            if number == "\x00":
                try:
                    number = normalise(callee, region)
                except InvalidNumber:
                    number = ""
                e164[callee] = number
        micro = amounts[at]
        out.append(
            (
                row[0],
                areas[area_codes[at]],
                billed[at],
                free[at],
                units[at],
                f"{micro // 1_000_000}.{micro % 1_000_000:06d}",
                capped[at],
                error,
                number,
            )
        )
        job_id = row[7]
        if job_id is not None and row[9]:  # first rating of a job's record
            tally = counts[job_id]
            if error:
                reasons[job_id][_reason_key(error)] += 1
                problems.append(ImportProblem(job_id=job_id, line=row[8], kind="rating", reason=error[:300]))
            else:
                tally["rated"] += 1
                tally["charged" if micro else "free"] += 1
    _kill_point("writeback")
    _write_back(usage, out, now)
    for job_id, tally in counts.items():
        ImportJob.objects.filter(pk=job_id).update(
            rated=F("rated") + tally["rated"],
            free=F("free") + tally["free"],
            charged=F("charged") + tally["charged"],
        )
    for job_id, by_reason in reasons.items():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is not None:
            merged = Counter({str(k): int(v) for k, v in job.rating_errors.items()}) + by_reason
            ImportJob.objects.filter(pk=job_id).update(rating_errors=dict(sorted(merged.items())))
    ImportProblem.objects.bulk_create(problems, batch_size=5000)
    errors = int(np.count_nonzero(rated.error))
    usage.calls += len(records)
    usage.errors += errors
    usage.amount += Decimal(int(rated.amount_micro.sum())).scaleb(-6)
    usage.allowance_used = allowance.seconds_used if allowance else 0
    usage.sms_used = allowance.sms_used if allowance else 0
    usage.rated_through = max(starts)
    _finish_usage(usage, rating, allowance)
    metrics.RATING_CALLS.labels(outcome="rated").inc(len(records) - errors)
    metrics.RATING_CALLS.labels(outcome="error").inc(errors)
    metrics.RATING_SECONDS.inc(time.perf_counter() - started)


def _reason_key(error: str) -> str:
    """Rating errors grouped by reason: the message without the number it names
    ("invalid number '+3314…': too long" → "invalid number: too long")."""
    for marker in ("unknown destination", "no voice trunk", "no SMS rate"):
        if marker in error:
            return marker
    return " ".join(_QUOTED.sub("", error).split())[:80]


def _finish_usage(usage: UsageMonth, rating: Any, allowance: Any) -> None:
    usage.bundle = rating.context.bundle if rating.context else ""
    if allowance is not None:
        usage.allowance_seconds = allowance.seconds_total
        usage.sms_total = allowance.sms_total
    elif rating.context is None:
        usage.allowance_seconds = usage.sms_total = 0
    usage.rated_at = timezone.now()
    usage.save()


_RESULT_COLUMNS = (
    "id",
    "area",
    "billed_seconds",
    "free_seconds",
    "charged_units",
    "amount",
    "capped",
    "error",
    "callee_e164",
)


def _write_back(usage: UsageMonth, out: list[tuple[Any, ...]], now: datetime) -> None:
    """Ratings back into the records in bulk: COPY into staging and one UPDATE … FROM (PostgreSQL)."""
    sets = (
        "area = s.area, billed_seconds = s.billed_seconds, free_seconds = s.free_seconds,"
        " charged_units = s.charged_units, amount = s.amount, capped = s.capped, error = s.error,"
        " callee_e164 = s.callee_e164, rated_at = %s"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS voice_rated_stage (id bigint, area varchar(5), billed_seconds"
                " integer, free_seconds integer, charged_units integer, amount numeric(18, 6), capped boolean,"
                " error varchar(200), callee_e164 varchar(20)) ON COMMIT DELETE ROWS"
            )
            cursor.execute("TRUNCATE voice_rated_stage")
            _copy_rows(cursor.cursor, "voice_rated_stage", _RESULT_COLUMNS, out)
            cursor.execute(
                f"UPDATE voice_callrecord c SET {sets} FROM voice_rated_stage s"
                " WHERE c.id = s.id AND c.month = %s AND c.pbx_id = %s",
                [now, usage.month, usage.pbx_id],
            )
        else:
            cursor.executemany(
                "UPDATE voice_callrecord SET area = %s, billed_seconds = %s, free_seconds = %s,"
                " charged_units = %s, amount = %s, capped = %s, error = %s, callee_e164 = %s, rated_at = %s"
                " WHERE id = %s",
                [(*row[1:], _db_time(now), row[0]) for row in out],
            )


def pending_months(*, month: date | None = None) -> list[tuple[int, date]]:
    """PBX-months with unrated records (the billing clock rates them before invoicing, R-INV-2)."""
    records = CallRecord.objects.filter(rated_at__isnull=True)
    if month is not None:
        records = records.filter(month=month)
    return sorted(set(records.values_list("pbx_id", "month").distinct()))


_AREAS = pa.array(["", "CTA1", "CTA2", "CTA3", "CTA4", "CTA5", "CTA6"], pa.string())
_NO_TRUNK = "the PBX has no voice trunk (CLASSOUND) this month"


class Numbers:
    """Callees in E.164 ('' when not a valid number) per region, kept as Arrow arrays across an
    import's slices: a slice's callees are looked up vectorised (``index_in``), and only the ones
    not seen before are normalised in Python."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[pa.Array, pa.Array]] = {}

    def of(self, callees: pa.Array | pa.ChunkedArray, region: str) -> pa.Array:
        callees = callees.combine_chunks() if isinstance(callees, pa.ChunkedArray) else callees
        empty = pa.array([], pa.string())
        texts, numbers = self.known.get(region, (empty, empty))
        at = pc.index_in(callees, value_set=texts)
        if at.null_count:
            missing = pc.unique(callees.filter(pc.is_null(at))).to_pylist()
            found = []
            for text in missing:
                try:
                    found.append(normalise(text, region))
                except InvalidNumber:
                    found.append("")
            texts = pa.concat_arrays([texts, pa.array(missing, pa.string())])
            numbers = pa.concat_arrays([numbers, pa.array(found, pa.string())])
            self.known[region] = (texts, numbers)
            at = pc.index_in(callees, value_set=texts)
        return numbers.take(at)


@dataclass
class SliceOutcome:
    """What ``rate_slice`` calls of one PBX-month leave for ``apply_rated`` (the database part)."""

    rated: int = 0
    charged: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    problems: list[ImportProblem] = field(default_factory=list)
    allowance: Any = None


def rate_records(
    usage: UsageMonth, records: pa.Table, rating: Any, *, job_id: int, e164: Numbers
) -> pa.Table:
    """Rate new records of a month (all after its ``rated_through``) in memory from its state,
    then save the state and count the job's figures (``rate_slice`` + ``apply_rated``)."""
    outcome = SliceOutcome()
    result = rate_slice(usage, records, rating, job_id=job_id, e164=e164, outcome=outcome)
    apply_rated(usage, rating, outcome, job_id=job_id)
    return result


def rate_slice(
    usage: UsageMonth,
    records: pa.Table,
    rating: Any,
    *,
    job_id: int,
    e164: Numbers,
    outcome: SliceOutcome,
) -> pa.Table:
    """Rate new records of a month (all after its ``rated_through``, in draw order: start, then
    identity) in memory from its state; no database access, so it may run while a ``COPY`` is
    streaming on the connection.

    Advances the month's state in memory (``apply_rated`` saves it and counts the job's
    rated/free/charged and rating errors, in the caller's transaction). Returns the rating
    columns, row for row: area, billed_seconds, free_seconds, charged_units, amount, capped,
    error, callee_e164 (amount in millionths). ``e164`` keeps normalised numbers across slices.
    """
    started = time.perf_counter()
    key = str(usage.pbx_id)
    count = records.num_rows
    batch = pa.table(
        {
            "call_id": records.column("identity"),
            "pbx": pa.array(np.full(count, key, dtype=object), pa.string()),
            "start": records.column("start"),
            "caller": records.column("caller"),
            "callee": records.column("callee"),
            "billsec": records.column("billsec"),
            "kind": records.column("kind"),
        },
        schema=BATCH_SCHEMA,
    )
    rated, allowance = _rate_from_state(usage, key, batch, rating)
    region = rating.context.region if rating.context else "IT"
    failed = rated.error != 0
    errors = np.full(count, "", dtype=object)
    reasons: Counter[str] = Counter()
    problems: list[ImportProblem] = []
    lines = records.column("line").to_numpy()
    for row in np.flatnonzero(failed).tolist():
        error = (rated.error_messages[row] if rating.context is not None else _NO_TRUNK)[:200]
        errors[row] = error
        reasons[_reason_key(error)] += 1
        problems.append(ImportProblem(job_id=job_id, line=int(lines[row]), kind="rating", reason=error[:300]))
    callee_e164 = pc.if_else(pa.array(failed), "", e164.of(records.column("callee"), region))
    micro = rated.amount_micro
    result = pa.table(
        {
            "area": _AREAS.take(pa.array(rated.area.astype(np.int32))),
            "billed_seconds": pa.array(rated.billed_seconds),
            "free_seconds": pa.array(rated.free_seconds),
            "charged_units": pa.array(rated.charged_units),
            "amount": pa.array(micro, pa.int64()),  # millionths (store.insert_rated)
            "capped": pa.array(rated.capped),
            "error": pa.array(errors, pa.string()),
            "callee_e164": callee_e164,
        }
    )
    good = ~failed
    outcome.charged += int(np.count_nonzero(good & (micro != 0)))
    outcome.rated += int(np.count_nonzero(good))
    outcome.reasons.update(reasons)
    outcome.problems += problems
    error_count = int(np.count_nonzero(failed))
    usage.calls += count
    usage.errors += error_count
    usage.amount += Decimal(int(micro.sum())).scaleb(-6)
    if allowance is not None:
        outcome.allowance = allowance
        usage.allowance_used, usage.sms_used = allowance.seconds_used, allowance.sms_used
    elif rating.context is None:
        usage.allowance_used = usage.sms_used = 0
    last = pc.max(records.column("start")).as_py()
    usage.rated_through = _as_utc(last)
    result = result.replace_schema_metadata(
        {"errors": str(error_count), "seconds": str(time.perf_counter() - started)}
    )
    return result


def apply_rated(usage: UsageMonth, rating: Any, outcome: SliceOutcome, *, job_id: int) -> None:
    """Save the month's state ``rate_slice`` advanced and count the job's rated/free/charged and
    rating errors (the caller's transaction commits them with the records)."""
    ImportJob.objects.filter(pk=job_id).update(
        rated=F("rated") + outcome.rated,
        free=F("free") + outcome.rated - outcome.charged,
        charged=F("charged") + outcome.charged,
    )
    if outcome.reasons:
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is not None:
            merged = Counter({str(k): int(v) for k, v in job.rating_errors.items()}) + outcome.reasons
            ImportJob.objects.filter(pk=job_id).update(rating_errors=dict(sorted(merged.items())))
        ImportProblem.objects.bulk_create(outcome.problems, batch_size=5000)
    _finish_usage(usage, rating, outcome.allowance)


def count_rated(ratings: pa.Table) -> None:
    """The rating metrics of ``rate_records``' result, once it is committed with its records."""
    meta = ratings.schema.metadata or {}
    errors = int(meta.get(b"errors", 0))
    metrics.RATING_CALLS.labels(outcome="rated").inc(ratings.num_rows - errors)
    metrics.RATING_CALLS.labels(outcome="error").inc(errors)
    metrics.RATING_SECONDS.inc(float(meta.get(b"seconds", 0)))
