"""Reading call-record files line by line: records, skips and bad lines (Asterisk, FreeSWITCH, the
portal CSV when a line is not plain; ``voice.pipeline.bulk`` reads plain portal CSV lines in bulk)."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pbxportal.core.rating.allowance import zone
from pbxportal.core.rating.cdr import (
    EARLIEST_CALL_YEAR,
    FREESWITCH_COLUMNS,
    LATEST_CALL_YEAR,
    MAX_CALL_SECONDS,
    PORTAL_COLUMNS,
    _implausible_start,
    asterisk_columns,
    call_identity,
)
from pbxportal.core.rating.classify import ClassifyRules, classify, rules_for
from pbxportal.voice.pipeline.common import _EPOCH, _INTEGER_CHARS, CDR_CUSTOM_COLUMNS, IDENTITY_MAX

RECORDS = pa.schema(
    [
        ("line", pa.int64()),
        ("identity", pa.string()),
        ("pbx", pa.string()),
        ("start", pa.timestamp("us", tz="UTC")),
        ("caller", pa.string()),
        ("callee", pa.string()),
        ("billsec", pa.int64()),
        ("kind", pa.string()),
    ]
)

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
    parts: list[pa.Table] = field(default_factory=list)  # records read in bulk (``RECORDS``)

    @property
    def records(self) -> int:
        return len(self.lines) + sum(part.num_rows for part in self.parts)

    def merge(self, other: Chunk) -> None:
        """Add another chunk's records, counts and bad lines to this one."""
        self.parts.extend(other.parts)
        if other.lines:
            self.parts.append(other.line_table())
        self.rows += other.rows
        self.not_answered += other.not_answered
        self.skipped.update(other.skipped)
        self.bad.extend(other.bad)

    def line_table(self) -> pa.Table:
        return pa.table(
            {
                "line": pa.array(self.lines, pa.int64()),
                "identity": pa.array(self.identity, pa.string()),
                "pbx": pa.array(self.pbx, pa.string()),
                "start": pa.array(self.start, pa.timestamp("us", tz="UTC")),
                "caller": pa.array(self.caller, pa.string()),
                "callee": pa.array(self.callee, pa.string()),
                "billsec": pa.array(self.billsec, pa.int64()),
                "kind": pa.array(self.kind, pa.string()),
            },
            schema=RECORDS,
        )

    def table(self) -> pa.Table:
        """Every record of the chunk as one ``RECORDS`` table, in line order."""
        parts = [*self.parts, self.line_table()] if self.lines else list(self.parts)
        if not parts:
            return RECORDS.empty_table()
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            table = table.take(pc.sort_indices(table.column("line")))
        return table

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
    # A year the billing calendar does not handle is a bad line, never a crash of the import.
    try:
        problem = _implausible_start(start)
    except OverflowError:
        problem = f"start is outside {EARLIEST_CALL_YEAR}-{LATEST_CALL_YEAR}: {record['start']!r}"
    if problem:
        return problem
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
