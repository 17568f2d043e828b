"""Import jobs: a file or an API batch, from reading to rated records (``import_file``, ``import_records``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pbxportal.core.rating.allowance import zone
from pbxportal.core.rating.classify import classify, rules_for
from pbxportal.pbx.models import Pbx
from pbxportal.voice.models import (
    CallRecord,
    ImportJob,
    ImportProblem,
    ImportStatus,
    PbxCdrRules,
)
from pbxportal.voice.pipeline.common import CHUNK_LINES, _size
from pbxportal.voice.pipeline.rate import MonthRated, month_rate, pending_months
from pbxportal.voice.pipeline.reader import (
    Chunk,
    Reader,
    _chunked,
    file_sha256,
    numbered_lines,
    portal_record_problem,
)
from pbxportal.voice.pipeline.store import _Pbxs, store_chunk

# --- Jobs ---------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    job: ImportJob
    months: list[MonthRated]
    seconds: float

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
    pbxs = _Pbxs(pbx)
    touched: set[tuple[int, date]] = set()
    for lines in _chunked(numbered_lines(path), _size("PBXPORTAL_IMPORT_CHUNK_LINES", CHUNK_LINES)):
        chunk = reader.feed(lines)
        touched |= store_chunk(job, chunk, pbxs, resuming=resuming)
        if progress is not None:
            progress(lines[-1][0], len(chunk.lines))
    if resuming:
        touched |= set(
            CallRecord.objects.filter(job_id=job.pk, rated_at__isnull=True)
            .values_list("pbx_id", "month")
            .distinct()
        )
    return _rate_and_finish(job, touched, started)


def _rate_and_finish(job: ImportJob, touched: set[tuple[int, date]], started: float) -> ImportResult:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RATING)
    months = [month_rate(pbx_id, month) for pbx_id, month in sorted(touched)]
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return ImportResult(job=job, months=months, seconds=time.perf_counter() - started)


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
    touched = store_chunk(job, chunk, _Pbxs(pbx), resuming=False)
    return _rate_and_finish(job, touched, started)


def finish_pending(*, month: date | None = None) -> int:
    """Rate every PBX-month with unrated records (the billing clock, R-INV-2); how many were."""
    months = pending_months(month=month)
    for pbx_id, pending in months:
        month_rate(pbx_id, pending)
    return len(months)
