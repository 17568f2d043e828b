"""Import jobs: a file or an API batch, from reading to rated records (``import_file``, ``import_records``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from pbxportal.core.rating.allowance import zone
from pbxportal.core.rating.classify import FEATURE, INBOUND, INTERNAL, classify, rules_for
from pbxportal.core.rating.vectorised import _month_numbers
from pbxportal.ops import metrics
from pbxportal.pbx.models import Pbx
from pbxportal.voice import partitions
from pbxportal.voice.models import (
    CallRecord,
    ImportJob,
    ImportProblem,
    ImportStatus,
    PbxCdrRules,
    UsageMonth,
)
from pbxportal.voice.pipeline.bulk import read_portal
from pbxportal.voice.pipeline.common import CHUNK_LINES, RATE_SLICE, _kill_point, _size
from pbxportal.voice.pipeline.rate import (
    MonthRated,
    Numbers,
    SliceOutcome,
    _usage_locked,
    apply_rated,
    count_rated,
    first_unrated,
    month_rate,
    pending_months,
    rate_slice,
)
from pbxportal.voice.pipeline.reader import (
    Chunk,
    Reader,
    _chunked,
    file_sha256,
    numbered_lines,
    portal_record_problem,
)
from pbxportal.voice.pipeline.store import _insert, _Pbxs, month_has_records, rated_copy, stored_identities
from pbxportal.voice.rating import month_rating

# --- Jobs ---------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    job: ImportJob
    months: list[MonthRated]
    seconds: float
    pbx_ids: frozenset[int] = frozenset()  # PBXs of the records stored or found stored

    @property
    def exit_code(self) -> int:
        """0: every row accounted for, no error; 1: some lines/records failed; 2: nothing imported."""
        job = self.job
        if job.status == ImportStatus.FAILED:
            return 2
        if job.rows and job.bad_lines == job.rows:
            return 2
        return 1 if job.errors else 0


def job_for_file(
    *, path: str | Path, sha256: str, cdr_format: str, pbx: Pbx | None, source: str = "cli", name: str = ""
) -> tuple[ImportJob, bool]:
    """The job of this file for this PBX: an unfinished one is resumed, else a new one."""
    unfinished = (
        ImportJob.objects.filter(sha256=sha256, pbx=pbx, format=cdr_format)
        .exclude(status=ImportStatus.DONE)
        .order_by("-id")
        .first()
    )
    if unfinished is not None:
        with transaction.atomic():
            # The file is read again from line 1: its storing counts and bad lines are recounted.
            ImportProblem.objects.filter(job=unfinished, kind="line").delete()
            ImportJob.objects.filter(pk=unfinished.pk).update(
                status=ImportStatus.STORING,
                rows=0,
                stored=0,
                duplicates=0,
                not_answered=0,
                skipped_inbound=0,
                skipped_internal=0,
                skipped_feature=0,
                bad_lines=0,
                message="resumed",
            )
        unfinished.refresh_from_db()
        return unfinished, True
    job = ImportJob.objects.create(
        pbx=pbx,
        partner_id=pbx.partner_id if pbx else None,
        file_name=(name or Path(path).name)[:255],
        sha256=sha256,
        format=cdr_format,
        source=source,
    )
    return job, False


def import_file(
    path: str | Path,
    *,
    cdr_format: str,
    pbx: Pbx | None = None,
    tz_name: str | None = None,
    usegmtime: bool = False,
    source: str = "cli",
    name: str = "",
    progress: Callable[[int, int], None] | None = None,
    job: ImportJob | None = None,
) -> ImportResult:
    """Import a call-record file as a durable job (module doc): store, then rate what it touched."""
    started = time.perf_counter()
    tz = "UTC" if usegmtime else (tz_name or settings.VENDOR_TIMEZONE)
    zone(tz)
    overrides = None
    if pbx is not None:
        overrides = PbxCdrRules.objects.filter(pbx=pbx).values_list("rules", flat=True).first()
    reader = Reader(
        cdr_format, pbx=pbx.serial if pbx else None, tz_name=tz, rules=rules_for(cdr_format, overrides)
    )
    resuming = False
    if job is None:
        job, resuming = job_for_file(
            path=path, sha256=file_sha256(path), cdr_format=cdr_format, pbx=pbx, source=source, name=name
        )
    run = _Run(job, _Pbxs(pbx), resuming=resuming)
    size = _size("PBXPORTAL_IMPORT_CHUNK_LINES", CHUNK_LINES)
    chunks: Iterator[tuple[int, Chunk]]
    if cdr_format == "csv":
        chunks = read_portal(path, reader, size)
    else:
        chunks = ((lines[-1][0], reader.feed(lines)) for lines in _chunked(numbered_lines(path), size))
    for last_line, chunk in _ahead(chunks):
        store_and_rate(run, chunk)
        if progress is not None:
            progress(last_line, chunk.records)
    if resuming:
        run.touched |= set(
            CallRecord.objects.filter(job_id=job.pk, rated_at__isnull=True)
            .values_list("pbx_id", "month")
            .distinct()
        )
    return _rate_and_finish(run, started)


def _rate_and_finish(run: _Run, started: float) -> ImportResult:
    job = run.job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RATING)
    months = {(m.pbx_id, m.month): m for m in run.rated.values()}
    for pbx_id, month in sorted(run.touched):
        months[(pbx_id, month)] = month_rate(pbx_id, month)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return ImportResult(
        job=job,
        months=[months[key] for key in sorted(months)],
        seconds=time.perf_counter() - started,
        pbx_ids=frozenset(run.pbx_ids),
    )


def _ahead(items: Iterator[tuple[int, Chunk]]) -> Iterator[tuple[int, Chunk]]:
    """The next chunk is read in a thread while this one is stored: reading (pyarrow, numpy)
    and the database's work on the COPY overlap on the two cores."""
    with ThreadPoolExecutor(1, thread_name_prefix="import-read") as pool:
        future = pool.submit(next, items, None)
        while (item := future.result()) is not None:
            future = pool.submit(next, items, None)
            yield item


class _Run:
    """One import's state across its chunks: PBX ids, month ratings, normalised numbers."""

    def __init__(self, job: ImportJob, pbxs: _Pbxs, *, resuming: bool) -> None:
        self.job = job
        self.pbxs = pbxs
        self.resuming = resuming
        self.touched: set[tuple[int, date]] = set()  # months left for ``month_rate``
        self.rated: dict[tuple[int, date], MonthRated] = {}  # months rated as stored
        self.ratings: dict[tuple[int, date], Any] = {}
        self.e164 = Numbers()
        self.conflicted = False  # a stored record met: look identities up from now on
        self.pbx_ids: set[int] = set()  # PBXs of the records stored or found stored

    def rating(self, pbx_id: int, month: date) -> Any:
        if (pbx_id, month) not in self.ratings:
            pbx = Pbx.objects.select_related("partner__price_book", "customer").get(pk=pbx_id)
            self.ratings[(pbx_id, month)] = month_rating(pbx, month)
        return self.ratings[(pbx_id, month)]


def _months(starts: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[date]]:
    """Month code of each start (vendor zone) and the months of the codes."""
    start_us = (
        starts.cast(pa.int64()).to_numpy(zero_copy_only=False) if len(starts) else np.zeros(0, np.int64)
    )
    numbers = _month_numbers(start_us, settings.VENDOR_TIMEZONE)
    distinct, codes = np.unique(numbers, return_inverse=True)
    return codes, [date(int(n) // 12, int(n) % 12 + 1, 1) for n in distinct.tolist()]


def store_and_rate(run: _Run, chunk: Chunk) -> None:
    """Store a chunk and rate it as stored where the months allow, in ONE transaction (module doc).

    Per PBX-month: the records the month holds already are duplicates (or, when resuming, this
    job's own: stored); the others, when they all start after the month's ``rated_through``
    and the month has no unrated records, are rated in memory from its state and stored rated;
    else stored unrated and the month rated afterwards (``month_rate``).
    """
    job = run.job
    table = chunk.table()
    bad = list(chunk.bad)
    if table.num_rows:
        serials = pc.dictionary_encode(table.column("pbx").combine_chunks())
        ids = [run.pbxs(serial) for serial in serials.dictionary.to_pylist()]
        known = np.array([pbx_id is not None for pbx_id in ids] or [True], dtype=bool)
        indices = serials.indices.to_numpy(zero_copy_only=False)
        row_known = known[indices]
        if not row_known.all():
            lines = table.column("line").to_numpy()
            names = serials.dictionary.to_pylist()
            for row in np.flatnonzero(~row_known).tolist():
                bad.append((int(lines[row]), f"unknown PBX serial {names[indices[row]]!r}"))
            table = table.filter(pa.array(row_known))
            indices = indices[row_known]
        pbx_codes = np.array([pbx_id or 0 for pbx_id in ids], dtype=np.int64)[indices]
        month_codes, months = _months(table.column("start"))
        group_keys = pbx_codes * len(months) + month_codes
    else:
        months, group_keys = [], np.zeros(0, dtype=np.int64)
    groups = sorted(
        ((int(key) // len(months), months[int(key) % len(months)]), key) for key in np.unique(group_keys)
    )
    partitions.ensure_months({month for (_, month), _ in groups})
    stored = duplicates = 0
    now = timezone.now()
    with transaction.atomic():
        for (pbx_id, month), key in groups:
            run.pbx_ids.add(pbx_id)
            records = table.filter(pa.array(group_keys == key))
            usage = _usage_locked(pbx_id, month)
            if not (run.resuming or run.conflicted):
                # Optimistic: no record of the group is stored yet (the usual case), so no
                # lookup of its identities; a unique violation undoes the group (savepoint) and
                # it is stored again with the lookup, as is the rest of the run.
                try:
                    with transaction.atomic():
                        counts = _store_group(run, usage, records, now, lookup=False)
                except (IntegrityError, psycopg.IntegrityError):
                    run.conflicted = True
                    usage.refresh_from_db()
                else:
                    stored, duplicates = stored + counts[0], duplicates + counts[1]
                    continue
            counts = _store_group(run, usage, records, now, lookup=True)
            stored, duplicates = stored + counts[0], duplicates + counts[1]
        _kill_point("storing")
        bad.sort()
        ImportProblem.objects.bulk_create(
            [ImportProblem(job=job, line=line, kind="line", reason=reason[:300]) for line, reason in bad],
            batch_size=5000,
        )
        ImportJob.objects.filter(pk=job.pk).update(
            rows=F("rows") + chunk.rows,
            stored=F("stored") + stored,
            duplicates=F("duplicates") + duplicates,
            not_answered=F("not_answered") + chunk.not_answered,
            skipped_inbound=F("skipped_inbound") + chunk.skipped[INBOUND],
            skipped_internal=F("skipped_internal") + chunk.skipped[INTERNAL],
            skipped_feature=F("skipped_feature") + chunk.skipped[FEATURE],
            bad_lines=F("bad_lines") + len(bad),
        )
    metrics.RATING_CALLS.labels(outcome="duplicate").inc(duplicates)


def _store_group(
    run: _Run, usage: UsageMonth, records: pa.Table, now: datetime, *, lookup: bool
) -> tuple[int, int]:
    """Store (and rate as stored, when the month allows) one PBX-month's records of a chunk:
    (stored, duplicates). ``lookup``: leave out the records the month holds already; without
    it a stored one makes the insert fail (``IntegrityError``)."""
    job = run.job
    pbx_id, month = usage.pbx_id, usage.month
    fresh, own = _fresh(run, records, pbx_id, month, lookup=lookup)
    if not fresh.num_rows:
        return own, records.num_rows - own
    earliest = pc.min(fresh.column("start")).as_py()
    late = usage.rated_through is not None and earliest <= usage.rated_through
    legacy = usage.rated_through is None and month_has_records(pbx_id, month)
    if late or legacy or first_unrated(pbx_id, month) is not None:
        inserted, _ = _insert(_unrated_rows(fresh, pbx_id, month, job.pk), job_id=job.pk, resuming=False)
        run.touched.add((pbx_id, month))
        return inserted + own, records.num_rows - inserted - own
    _kill_point("rating")
    rating = run.rating(pbx_id, month)
    # In draw order (start, then identity: ``rate_batch``'s), so that rating slice after slice
    # from the state the previous one left equals rating the whole group at once.
    fresh = fresh.take(pc.sort_indices(fresh, [("start", "ascending"), ("identity", "ascending")]))
    count = fresh.num_rows
    at = pa.scalar(now, pa.timestamp("us", tz="UTC"))
    outcome = SliceOutcome()
    step = _size("PBXPORTAL_IMPORT_RATE_SLICE", RATE_SLICE)
    slices = []
    # The COPY streams from a writer thread while the next slice is rated here: the database's
    # work on slice k overlaps the rating of slice k+1 (``rate_slice`` touches no database).
    with rated_copy() as send:
        for first in range(0, count, step):
            part = fresh.slice(first, step)
            size = part.num_rows
            ratings = rate_slice(usage, part, rating, job_id=job.pk, e164=run.e164, outcome=outcome)
            columns = {
                "pbx_id": pa.array(np.full(size, pbx_id, dtype=np.int64)),
                "month": pa.repeat(pa.scalar(month, pa.date32()), size),
                "job_id": pa.array(np.full(size, job.pk, dtype=np.int64)),
                "rated_at": pa.repeat(at, size),
                "imported_at": pa.repeat(at, size),
            }
            whole = part
            for name, column in (*columns.items(), *zip(ratings.column_names, ratings.columns, strict=True)):
                whole = whole.append_column(name, column)
            send(whole)
            slices.append(ratings)
    apply_rated(usage, rating, outcome, job_id=job.pk)
    _kill_point("writeback")
    for ratings in slices:
        count_rated(ratings)
    done = run.rated.setdefault((pbx_id, month), MonthRated(pbx_id=pbx_id, month=month))
    done.rated += count
    done.chunks += 1
    return count + own, records.num_rows - count - own


def _fresh(run: _Run, records: pa.Table, pbx_id: int, month: date, *, lookup: bool) -> tuple[pa.Table, int]:
    """The records not stored yet (first of a repeated identity), and how many of the others
    this resumed job had stored itself (they count as stored, not as duplicates)."""
    identity = records.column("identity").combine_chunks()
    if pc.count_distinct(identity).as_py() < len(identity):
        first = (
            pa.table({"identity": identity, "at": pa.array(np.arange(len(identity)))})
            .group_by("identity")
            .aggregate([("at", "min")])
            .column("at_min")
            .to_numpy()
        )
        keep = np.zeros(len(identity), dtype=bool)
        keep[first] = True
        records = records.filter(pa.array(keep))
        identity = records.column("identity").combine_chunks()
    if not lookup or not month_has_records(pbx_id, month):
        return records, 0
    found = stored_identities(pbx_id, month, identity)
    if not found:
        return records, 0
    own = sum(1 for job_id in found.values() if job_id == run.job.pk) if run.resuming else 0
    repeated = pc.is_in(identity, value_set=pa.array(list(found), pa.string()))
    return records.filter(pc.invert(repeated)), own


def _unrated_rows(records: pa.Table, pbx_id: int, month: date, job_id: int) -> list[tuple[Any, ...]]:
    return [
        (pbx_id, month, identity, start, caller, callee, billsec, kind, job_id, line)
        for line, identity, _, start, caller, callee, billsec, kind in zip(
            *(column.to_pylist() for column in records.columns), strict=True
        )
    ]


def import_records(
    records: list[Any], *, pbx: Pbx, name: str = "api batch", source: str = "api"
) -> ImportResult:
    """An API batch (R-VT-8): each record validated on its own, 1-based positions as line numbers."""
    started = time.perf_counter()
    body = repr(records).encode()
    job = ImportJob.objects.create(
        pbx=pbx,
        partner_id=pbx.partner_id,
        file_name=name,
        sha256=hashlib.sha256(body).hexdigest(),
        format="api",
        source=source,
    )
    reader = Reader("csv", pbx=pbx.serial, tz_name="UTC")
    chunk = Chunk()
    for position, raw in enumerate(records, start=1):
        chunk.rows += 1
        if not isinstance(raw, dict):
            chunk.bad.append((position, "a record must be an object"))
            continue
        record = dict(raw)
        problem = portal_record_problem(record)
        if problem is not None:
            chunk.bad.append((position, problem))
            continue
        record = {key: str(value) if value is not None else "" for key, value in record.items()}
        billsec = int(record["billsec"])
        if record["kind"] == "voice" and billsec == 0:
            chunk.not_answered += 1
            continue
        skip = classify(record, "csv", reader.rules)
        if skip is not None:
            chunk.skipped[skip[0]] += 1
            continue
        start = datetime.fromisoformat(record["start"]).astimezone(UTC)
        chunk.add(
            position,
            record["call_id"],
            pbx.serial,
            start,
            record["caller"],
            record["callee"],
            billsec,
            record["kind"],
        )
    run = _Run(job, _Pbxs(pbx), resuming=False)
    store_and_rate(run, chunk)
    return _rate_and_finish(run, started)


def finish_pending(*, month: date | None = None) -> int:
    """Rate every PBX-month with unrated records (the billing clock, R-INV-2); how many were."""
    months = pending_months(month=month)
    for pbx_id, pending in months:
        month_rate(pbx_id, pending)
    return len(months)
