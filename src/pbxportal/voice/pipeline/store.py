"""Storing records: unrated (``store_chunk``) or rated in the same transaction (``store_rated``)."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from pbxportal.common.timeutil import vendor_tz
from pbxportal.core.rating.classify import FEATURE, INBOUND, INTERNAL
from pbxportal.ops import metrics
from pbxportal.pbx.models import Pbx
from pbxportal.voice import partitions
from pbxportal.voice.models import (
    CallRecord,
    ImportJob,
    ImportProblem,
)
from pbxportal.voice.pipeline import pgbinary
from pbxportal.voice.pipeline.common import _db_time, _kill_point
from pbxportal.voice.pipeline.reader import Chunk

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
            'CREATE TEMP TABLE IF NOT EXISTS voice_import_stage (pbx_id bigint, month date, identity varchar(80) COLLATE "C",'
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


# --- The fast path: records stored rated (jobs.store_and_rate) -------------------------------------

# In the binary COPY's order: fixed-width fields first (``pgbinary.encode_rows``).
_RATED_FIELDS = (
    ("pbx_id", "int8"),
    ("month", "date"),
    ("start", "timestamptz"),
    ("billsec", "int4"),
    ("job_id", "int8"),
    ("line", "int4"),
    ("billed_seconds", "int4"),
    ("free_seconds", "int4"),
    ("charged_units", "int4"),
    ("amount", "micro"),
    ("capped", "bool"),
    ("rated_at", "timestamptz"),
    ("imported_at", "timestamptz"),
    ("identity", "text"),
    ("caller", "text"),
    ("callee", "text"),
    ("kind", "text"),
    ("area", "text"),
    ("error", "text"),
    ("callee_e164", "text"),
)
_RATED_COLUMNS = tuple(name for name, _ in _RATED_FIELDS)


def month_has_records(pbx_id: int, month: date) -> bool:
    return CallRecord.objects.filter(pbx_id=pbx_id, month=month).exists()


def stored_identities(pbx_id: int, month: date, identities: pa.Array) -> dict[str, int | None]:
    """Which of these identities the PBX-month holds already, with the job that stored each."""
    found: dict[str, int | None] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                'CREATE TEMP TABLE IF NOT EXISTS voice_import_keys (identity varchar(80) COLLATE "C") ON COMMIT DELETE ROWS'
            )
            cursor.execute("TRUNCATE voice_import_keys")
            buffer = io.BytesIO()
            pacsv.write_csv(
                pa.table({"identity": identities}), buffer, pacsv.WriteOptions(include_header=False)
            )
            with cursor.cursor.copy("COPY voice_import_keys (identity) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            cursor.execute(
                "SELECT c.identity, c.job_id FROM voice_import_keys k JOIN voice_callrecord c"
                " ON c.pbx_id = %s AND c.month = %s AND c.identity = k.identity",
                [pbx_id, month],
            )
            found.update(cursor.fetchall())
            return found
        names = identities.to_pylist()
        for at in range(0, len(names), 500):
            part = names[at : at + 500]
            cursor.execute(
                "SELECT identity, job_id FROM voice_callrecord WHERE pbx_id = %s AND month = %s"
                f" AND identity IN ({', '.join(['%s'] * len(part))})",
                [pbx_id, month, *part],
            )
            found.update(cursor.fetchall())
    return found


@contextmanager
def rated_copy() -> Iterator[Callable[[pa.Table], None]]:
    """A function that stores rated records (as ``insert_rated``), all in one binary ``COPY``
    sent by psycopg's writer thread (``QueuedLibpqWriter``): the caller rates the next records
    while the server stores these. The connection is the COPY's until the block ends."""
    if connection.vendor != "postgresql":
        yield insert_rated
        return
    with connection.cursor() as cursor:
        raw = cursor.cursor
        sql = f"COPY voice_callrecord ({', '.join(_RATED_COLUMNS)}) FROM STDIN (FORMAT binary)"
        with raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
            copy.write(pgbinary.HEADER)

            def send(table: pa.Table) -> None:
                copy.write(
                    memoryview(pgbinary.encode_rows(table.select(list(_RATED_COLUMNS)), _RATED_FIELDS))
                )

            yield send
            copy.write(pgbinary.TRAILER)


def insert_rated(table: pa.Table) -> None:
    """Rated records (``_RATED_FIELDS``; amount in millionths) in one binary ``COPY`` built from
    Arrow (``pgbinary``: the server copies the values instead of parsing text); SQLite:
    ``executemany``."""
    table = table.select(list(_RATED_COLUMNS))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = pgbinary.encode_rows(table, _RATED_FIELDS)
            with cursor.cursor.copy(
                f"COPY voice_callrecord ({', '.join(_RATED_COLUMNS)}) FROM STDIN (FORMAT binary)"
            ) as copy:
                copy.write(pgbinary.HEADER)
                copy.write(memoryview(rows))
                copy.write(pgbinary.TRAILER)
            return
        amount = _RATED_COLUMNS.index("amount")
        rows = [
            tuple(
                Decimal(value).scaleb(-6)
                if at == amount
                else _db_time(value)
                if isinstance(value, datetime)
                else value
                for at, value in enumerate(row)
            )
            for row in zip(*(table.column(name).to_pylist() for name in _RATED_COLUMNS), strict=True)
        ]
        cursor.executemany(
            f"INSERT INTO voice_callrecord ({', '.join(_RATED_COLUMNS)})"
            f" VALUES ({', '.join(['%s'] * len(_RATED_COLUMNS))})",
            rows,
        )
