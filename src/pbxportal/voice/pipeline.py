"""The usage pipeline: call records from a file or an API batch to rated records, at carrier
volume, durable, incremental and crash-safe (R-VT-2..8, R-INV-2; docs/usage-pipeline.md).

An import is an ``ImportJob``. It runs in two phases, each committed chunk by chunk:

1. **storing** — the file is read in chunks of ``CHUNK_LINES`` lines (memory bounded by a
   chunk); each line is a record to rate, a record that is counted and skipped (not answered,
   inbound, internal, feature code: ``core.rating.classify``) or a bad line (kept as an
   ``ImportProblem`` with its number and reason). Records go into the call-record table in
   bulk: on PostgreSQL ``COPY`` into a temporary staging table and one
   ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (a record already stored is a duplicate,
   R-VT-8); on SQLite ``executemany`` of ``INSERT OR IGNORE``. They are stored unrated.
2. **rating** — every PBX-month with work is rated incrementally (``month_rate``): the
   ``UsageMonth`` holds the state (allowance and SMS used, totals) through ``rated_through``,
   the start of the last rated call. Records after it are rated from that state alone, in
   chunks in start order, by the vectorised core; a late record (starting at or before
   ``rated_through``) first rolls the state back to just before its start, from the records.
   Results go back in bulk (``COPY`` into staging and one ``UPDATE … FROM``), in the same
   transaction as the state and the job's counts.

Because each chunk commits records with their state, a killed import leaves either unrated
records or records after ``rated_through``: re-running the import resumes its job (same file,
same PBX), and the billing clock rates such a month before its usage invoice (R-INV-2).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from pbxportal.common.timeutil import vendor_tz
from pbxportal.core.rating import InvalidNumber, normalise
from pbxportal.core.rating.allowance import zone
from pbxportal.core.rating.cdr import (
    FREESWITCH_COLUMNS,
    MAX_CALL_SECONDS,
    PORTAL_COLUMNS,
    asterisk_columns,
    call_identity,
)
from pbxportal.core.rating.classify import FEATURE, INBOUND, INTERNAL, ClassifyRules, classify, rules_for
from pbxportal.core.rating.vectorised import BATCH_SCHEMA, rate_batch
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
from pbxportal.voice.rating import month_rating

CHUNK_LINES = 100_000
RATE_CHUNK = 250_000
IDENTITY_MAX = 80
KILL_ENV = "PBXPORTAL_IMPORT_KILL_AT"  # test hook: storing | rating | writeback

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The "Master.csv" mapping of Asterisk's sample cdr_custom.conf (clid first, 19 columns).
CDR_CUSTOM_COLUMNS = (
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "userfield",
    "sequence",
)
_INTEGER_CHARS = frozenset("0123456789")
_QUOTED = re.compile(r" ?'[^']*'")


_kill_hits: Counter[str] = Counter()


def _kill_point(name: str) -> None:
    """Crash-safety tests: SIGKILL this process the n-th time it reaches ``name`` when
    ``PBXPORTAL_IMPORT_KILL_AT=name[:n]`` (storing, rating or writeback) says so."""
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _kill_hits[name] += 1
    if _kill_hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _size(name: str, default: int) -> int:
    """Chunk sizes: ``PBXPORTAL_IMPORT_CHUNK_LINES`` / ``PBXPORTAL_RATE_CHUNK`` override the defaults."""
    return max(int(os.environ.get(name, default)), 1)


# --- Reading: lines to records, skips and bad lines ---------------------------------------------


@dataclass
class Chunk:
    """One chunk of a file: records to store (as columns), skip counts and bad lines."""

    lines: list[int] = field(default_factory=list)
    identity: list[str] = field(default_factory=list)
    pbx: list[str] = field(default_factory=list)
    start: list[datetime] = field(default_factory=list)
    caller: list[str] = field(default_factory=list)
    callee: list[str] = field(default_factory=list)
    billsec: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    rows: int = 0
    not_answered: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    bad: list[tuple[int, str]] = field(default_factory=list)

    def add(
        self,
        line: int,
        identity: str,
        pbx: str,
        start: datetime,
        caller: str,
        callee: str,
        billsec: int,
        kind: str,
    ) -> None:
        self.lines.append(line)
        self.identity.append(identity)
        self.pbx.append(pbx)
        self.start.append(start)
        self.caller.append(caller[:80])
        self.callee.append(callee[:80])
        self.billsec.append(billsec)
        self.kind.append(kind)


def _fields(line: str) -> list[str] | str:
    try:
        return next(csv.reader((line,), strict=True), [])
    except csv.Error as exc:
        return f"malformed CSV: {exc}"


def _int(value: str, name: str) -> int | str:
    if value and _INTEGER_CHARS.issuperset(value):
        return _seconds_problem(value, name) or int(value)
    return f"{name} is not a non-negative integer: {value!r}"


def _seconds_problem(value: str | int, name: str) -> str | None:
    """A call longer than the core accepts (``MAX_CALL_SECONDS``, 31 days) is a bad line, never a
    number the database cannot hold (R-API-1); checked on the digits before converting them."""
    digits = str(value).lstrip("0")
    if len(digits) > len(str(MAX_CALL_SECONDS)) or (digits and int(digits) > MAX_CALL_SECONDS):
        return f"{name} is beyond {MAX_CALL_SECONDS} seconds (31 days): {str(value)[:20]!r}"
    return None


class _Times:
    """Local "YYYY-MM-DD HH:MM:SS" times of one zone to UTC, cached per distinct text."""

    def __init__(self, tz_name: str) -> None:
        self.tz = zone(tz_name)
        self.cache: dict[str, datetime | None] = {}

    def __call__(self, value: str) -> datetime | None:
        found = self.cache.get(value, _EPOCH)
        if found is not _EPOCH:
            return found
        parsed: datetime | None = None
        if len(value) == 19 and value[4] == "-" and value[7] == "-" and value[10] == " ":
            try:
                parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=self.tz).astimezone(UTC)
            except ValueError:
                parsed = None
        if len(self.cache) > 200_000:
            self.cache.clear()
        self.cache[value] = parsed
        return parsed


class Reader:
    """Reads the lines of one format into ``Chunk``s (see module doc)."""

    def __init__(
        self, cdr_format: str, *, pbx: str | None, tz_name: str, rules: ClassifyRules | None = None
    ) -> None:
        if cdr_format not in ("asterisk", "freeswitch", "csv"):
            raise ValueError(f"unknown call-record format {cdr_format!r}")
        self.format = cdr_format
        self.pbx = pbx
        self.times = _Times(tz_name)
        self.rules = rules or rules_for(cdr_format)
        self.header: dict[str, int] | None = None
        self.width = 0
        self.header_error: str | None = None

    def feed(self, numbered: Iterable[tuple[int, str]]) -> Chunk:
        chunk = Chunk()
        handle = {"asterisk": self._asterisk, "freeswitch": self._freeswitch, "csv": self._portal}[
            self.format
        ]
        for line_no, line in numbered:
            if self.format == "csv" and self.header is None:
                self._portal_header(line_no, line, chunk)
                continue
            chunk.rows += 1
            fields = _fields(line)
            if isinstance(fields, str):
                chunk.bad.append((line_no, fields))
                continue
            handle(line_no, fields, chunk)
        return chunk

    def _skip_or_bad(self, chunk: Chunk, line_no: int, record: dict[str, str]) -> bool:
        skip = classify(record, self.format, self.rules)
        if skip is not None:
            chunk.skipped[skip[0]] += 1
            return True
        return False

    def _add(
        self,
        chunk: Chunk,
        line_no: int,
        *,
        pbx: str,
        start_text: str,
        start_name: str,
        caller: str,
        callee: str,
        billsec: int,
        duration: int,
        unique_id: str,
    ) -> None:
        start = self.times(start_text)
        if start is None:
            chunk.bad.append((line_no, f"{start_name} is not a 'YYYY-MM-DD HH:MM:SS' time: {start_text!r}"))
            return
        if not pbx:
            chunk.bad.append((line_no, "no PBX: accountcode is empty and no PBX was given"))
            return
        identity = unique_id or call_identity(pbx, start, caller, callee, duration)
        if len(identity) > IDENTITY_MAX:
            chunk.bad.append((line_no, f"unique id longer than {IDENTITY_MAX} characters"))
            return
        if not callee:
            chunk.bad.append((line_no, "no destination number"))
            return
        chunk.add(line_no, identity, pbx, start, caller, callee, billsec, "voice")

    def _asterisk(self, line_no: int, fields: list[str], chunk: Chunk) -> None:
        if len(fields) == len(CDR_CUSTOM_COLUMNS) and self.times(fields[8]) is not None:
            names: tuple[str, ...] | None = CDR_CUSTOM_COLUMNS
        else:
            names = asterisk_columns(len(fields), fields[16] if len(fields) in (17, 20) else None)
        if names is None:
            chunk.bad.append((line_no, f"expected 16 to 21 Asterisk cdr_csv columns, got {len(fields)}"))
            return
        record = dict(zip(names, fields, strict=True))
        billsec = _int(record["billsec"], "billsec")
        duration = _int(record["duration"], "duration")
        if isinstance(billsec, str) or isinstance(duration, str):
            chunk.bad.append((line_no, billsec if isinstance(billsec, str) else str(duration)))
            return
        if record["disposition"] != "ANSWERED" or billsec == 0:
            chunk.not_answered += 1
            return
        if self._skip_or_bad(chunk, line_no, record):
            return
        self._add(
            chunk,
            line_no,
            pbx=self.pbx or record["accountcode"],
            start_text=record["start"],
            start_name="start",
            caller=record["src"],
            callee=record["dst"],
            billsec=billsec,
            duration=duration,
            unique_id=record.get("uniqueid", ""),
        )

    def _freeswitch(self, line_no: int, fields: list[str], chunk: Chunk) -> None:
        minimum = FREESWITCH_COLUMNS.index("uuid") + 1
        if len(fields) < minimum:
            chunk.bad.append((line_no, f"expected at least {minimum} FreeSWITCH columns, got {len(fields)}"))
            return
        record = dict(zip(FREESWITCH_COLUMNS, fields, strict=False))
        # Templates that add the leg's direction write it after the default columns.
        for value in fields[len(FREESWITCH_COLUMNS) :]:
            if value.lower() in ("inbound", "outbound"):
                record["direction"] = value
        billsec = _int(record["billsec"], "billsec")
        duration = _int(record["duration"], "duration")
        if isinstance(billsec, str) or isinstance(duration, str):
            chunk.bad.append((line_no, billsec if isinstance(billsec, str) else str(duration)))
            return
        if billsec == 0:
            chunk.not_answered += 1
            return
        if self._skip_or_bad(chunk, line_no, record):
            return
        self._add(
            chunk,
            line_no,
            pbx=self.pbx or record.get("accountcode", ""),
            start_text=record["start_stamp"],
            start_name="start_stamp",
            caller=record["caller_id_number"],
            callee=record["destination_number"],
            billsec=billsec,
            duration=duration,
            unique_id=record["uuid"],
        )

    def _portal_header(self, line_no: int, line: str, chunk: Chunk) -> None:
        fields = _fields(line)
        names = [name.strip() for name in fields] if isinstance(fields, list) else []
        missing = [name for name in PORTAL_COLUMNS if name not in names]
        if isinstance(fields, str) or missing:
            reason = fields if isinstance(fields, str) else f"header lacks column(s) {', '.join(missing)}"
            self.header_error = reason
            chunk.bad.append((line_no, reason))
            chunk.rows += 1
            self.header = {}
            return
        self.header = {name: names.index(name) for name in (*PORTAL_COLUMNS, "direction") if name in names}
        self.width = len(names)

    def _portal(self, line_no: int, fields: list[str], chunk: Chunk) -> None:
        if self.header_error is not None:
            chunk.bad.append((line_no, f"not read: {self.header_error}"))
            return
        assert self.header is not None
        if len(fields) != self.width:
            chunk.bad.append((line_no, f"expected {self.width} columns, got {len(fields)}"))
            return
        record = {name: fields[index] for name, index in self.header.items()}
        problem = portal_record_problem(record)
        if problem is not None:
            chunk.bad.append((line_no, problem))
            return
        billsec = int(record["billsec"])
        if record["kind"] == "voice" and billsec == 0:
            chunk.not_answered += 1
            return
        if self._skip_or_bad(chunk, line_no, record):
            return
        pbx = self.pbx or record["pbx"]
        if self.pbx and record["pbx"] and record["pbx"] != self.pbx:
            chunk.bad.append((line_no, f"the record is for PBX {record['pbx']!r}, not {self.pbx}"))
            return
        start = datetime.fromisoformat(record["start"]).astimezone(UTC)
        chunk.add(
            line_no,
            record["call_id"],
            pbx,
            start,
            record["caller"],
            record["callee"],
            billsec,
            record["kind"],
        )


def portal_record_problem(record: dict[str, Any]) -> str | None:
    """Why a portal CSV / API record cannot be read, or ``None`` (R-VT-8)."""
    for name in ("call_id", "start", "callee", "billsec"):
        if record.get(name) in (None, ""):
            return f"{name}: required"
    for name in ("call_id", "start", "callee", "caller", "kind"):
        if record.get(name) is not None and not isinstance(record[name], str):
            return f"{name}: must be a string"
    billsec = record["billsec"]
    if isinstance(billsec, bool) or not (
        isinstance(billsec, int) or (isinstance(billsec, str) and _INTEGER_CHARS.issuperset(billsec))
    ):
        return f"billsec is not a non-negative integer: {billsec!r}"
    if problem := _seconds_problem(billsec, "billsec"):
        return problem
    if int(billsec) < 0:
        return f"billsec is not a non-negative integer: {billsec!r}"
    try:
        start = datetime.fromisoformat(record["start"])
    except ValueError:
        return f"start is not an ISO 8601 time: {record['start']!r}"
    if start.tzinfo is None:
        return f"start has no UTC offset: {record['start']!r}"
    kind = record.get("kind") or "voice"
    record["kind"] = kind
    if kind not in ("voice", "sms"):
        return f"kind must be voice or sms, not {kind!r}"
    if len(record["call_id"]) > IDENTITY_MAX:
        return f"call_id longer than {IDENTITY_MAX} characters"
    record.setdefault("caller", "")
    if record["caller"] is None:
        record["caller"] = ""
    return None


def numbered_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a file with their 1-based numbers; undecodable bytes become U+FFFD."""
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if line.strip():
                yield line_no, line


def _chunked(items: Iterator[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- Storing ------------------------------------------------------------------------------------

_STAGE_COLUMNS = (
    "pbx_id",
    "month",
    "identity",
    "start",
    "caller",
    "callee",
    "billsec",
    "kind",
    "job_id",
    "line",
)


class _Pbxs:
    """PBX serials to ids, each looked up once."""

    def __init__(self, given: Pbx | None) -> None:
        self.given = given
        self.ids: dict[str, int | None] = {given.serial: given.pk} if given else {}

    def __call__(self, serial: str) -> int | None:
        if serial not in self.ids:
            self.ids[serial] = Pbx.objects.filter(serial=serial).values_list("pk", flat=True).first()
        return self.ids[serial]


def _month_of(start: datetime, tz: Any, cache: dict[tuple[int, int, int], date]) -> date:
    local = start.astimezone(tz)
    return date(local.year, local.month, 1)


def store_chunk(job: ImportJob, chunk: Chunk, pbxs: _Pbxs, *, resuming: bool) -> set[tuple[int, date]]:
    """Store a chunk's records unrated; count stored and duplicates on the job; keep its bad lines."""
    tz = vendor_tz()
    rows: list[tuple[Any, ...]] = []
    bad = list(chunk.bad)
    cache: dict[tuple[int, int, int], date] = {}
    for at in range(len(chunk.lines)):
        pbx_id = pbxs(chunk.pbx[at])
        if pbx_id is None:
            bad.append((chunk.lines[at], f"unknown PBX serial {chunk.pbx[at]!r}"))
            continue
        start = chunk.start[at]
        rows.append(
            (
                pbx_id,
                _month_of(start, tz, cache),
                chunk.identity[at],
                start,
                chunk.caller[at],
                chunk.callee[at],
                chunk.billsec[at],
                chunk.kind[at],
                job.pk,
                chunk.lines[at],
            )
        )
    months = {(row[0], row[1]) for row in rows}
    partitions.ensure_months({month for _, month in months})
    with transaction.atomic():
        inserted, own = _insert(rows, job_id=job.pk, resuming=resuming)
        _kill_point("storing")
        ImportProblem.objects.bulk_create(
            [ImportProblem(job=job, line=line, kind="line", reason=reason[:300]) for line, reason in bad],
            batch_size=5000,
        )
        ImportJob.objects.filter(pk=job.pk).update(
            rows=F("rows") + chunk.rows,
            stored=F("stored") + inserted + own,
            duplicates=F("duplicates") + len(rows) - inserted - own,
            not_answered=F("not_answered") + chunk.not_answered,
            skipped_inbound=F("skipped_inbound") + chunk.skipped[INBOUND],
            skipped_internal=F("skipped_internal") + chunk.skipped[INTERNAL],
            skipped_feature=F("skipped_feature") + chunk.skipped[FEATURE],
            bad_lines=F("bad_lines") + len(bad),
        )
    metrics.RATING_CALLS.labels(outcome="duplicate").inc(len(rows) - inserted - own)
    return months if inserted or resuming else set()


def _copy_rows(cursor: Any, table: str, columns: Iterable[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """``COPY table FROM STDIN``, rows adapted by psycopg (its C copy path with psycopg[binary])."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert(rows: list[tuple[Any, ...]], *, job_id: int, resuming: bool) -> tuple[int, int]:
    """Insert rows unrated, ignoring those stored already: (rows inserted, rows this job had stored)."""
    if not rows:
        return 0, 0
    now = timezone.now()
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            before = CallRecord.objects.count()
            cursor.executemany(
                "INSERT OR IGNORE INTO voice_callrecord (pbx_id, month, identity, start, caller, callee, billsec,"
                " kind, job_id, line, callee_e164, area, billed_seconds, free_seconds, charged_units, amount,"
                " capped, error, rated_at, imported_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', '', 0, 0, 0, 0, 0, '', NULL, %s)",
                [(*row[:3], _db_time(row[3]), *row[4:], _db_time(now)) for row in rows],
            )
            inserted = CallRecord.objects.count() - before
            own = 0
            if resuming:
                own = _own_sqlite(rows, job_id, inserted)
        return inserted, own
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS voice_import_stage (pbx_id bigint, month date, identity varchar(80),"
            " start timestamptz, caller varchar(80), callee varchar(80), billsec integer, kind varchar(5),"
            " job_id bigint, line integer) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE voice_import_stage")  # inside an outer transaction it still holds rows
        _copy_rows(cursor.cursor, "voice_import_stage", _STAGE_COLUMNS, rows)
        cursor.execute(
            "INSERT INTO voice_callrecord (pbx_id, month, identity, start, caller, callee, billsec, kind, job_id,"
            " line, callee_e164, area, billed_seconds, free_seconds, charged_units, amount, capped, error,"
            " rated_at, imported_at)"
            " SELECT pbx_id, month, identity, start, caller, callee, billsec, kind, job_id, line, '', '', 0, 0, 0,"
            " 0, false, '', NULL, %s FROM voice_import_stage"
            " ON CONFLICT (pbx_id, month, identity) DO NOTHING",
            [now],
        )
        inserted = cursor.rowcount
        own = 0
        if resuming and inserted < len(rows):
            cursor.execute(
                "SELECT count(*) FROM voice_import_stage s JOIN voice_callrecord c ON c.pbx_id = s.pbx_id"
                " AND c.month = s.month AND c.identity = s.identity WHERE c.job_id = %s AND c.imported_at < %s",
                [job_id, now],
            )
            own = int(cursor.fetchone()[0])
    return inserted, own


def _own_sqlite(rows: list[tuple[Any, ...]], job_id: int, inserted: int) -> int:
    identities = defaultdict(list)
    for row in rows:
        identities[(row[0], row[1])].append(row[2])
    total = 0
    for (pbx_id, month), names in identities.items():
        total += CallRecord.objects.filter(
            pbx_id=pbx_id, month=month, identity__in=names, job_id=job_id
        ).count()
    return max(total - inserted, 0)


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


def _db_time(value: datetime) -> Any:
    """A datetime as the database stores it (SQLite: Django's naive UTC text)."""
    if connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


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
    period = f"{usage.month.year:04d}-{usage.month.month:02d}"
    contexts = {key: rating.context} if rating.context is not None else {}
    rated = rate_batch(
        batch,
        contexts=contexts,
        table=rating.table,
        terms=rating.terms,
        initial={(key, period): (usage.allowance_used, usage.sms_used)},
    )
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
    allowance = rated.allowances.get((key, period))
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
