"""Call-record readers: Asterisk Master.csv, FreeSWITCH CSV, the portal's CSV (R-VT-8).

Every reader yields ``(line_no, Call)`` for a record to rate, ``(line_no, reason)`` for a
line it cannot read, and goes on to the next line: a bad line never stops an import. Lines
are numbered from 1 as in the file. Records that bill nothing (not answered, no billed
seconds) are skipped silently: they are not errors.

Each physical line is one record. Neither Asterisk nor FreeSWITCH writes line breaks inside
a field, and reading line by line keeps an unterminated quote from swallowing the rest of
the file.

A record's identity (R-VT-8), so that re-ingesting it never charges twice: its unique id
when the file has one (Asterisk ``uniqueid``, FreeSWITCH ``uuid``, the portal's
``call_id``), else ``call_identity`` of PBX, start, caller, callee and duration. Store it
with the PBX: Asterisk unique ids are only unique per Asterisk system.

Asterisk ``cdr_csv`` (``cdr_csv.c``) writes 16 columns (accountcode, src, dst, dcontext,
clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
disposition, amaflags), then ``uniqueid`` if ``loguniqueid``, ``userfield`` if
``loguserfield``, then peeraccount, linkedid and sequence if ``newcdrcolumns``: 16 to 21
columns, detected per line. 17 and 20 columns hold one of uniqueid and userfield: it is
taken as the uniqueid when it looks like one (``[system-]seconds.sequence``). Times are
"YYYY-MM-DD HH:MM:SS" in the server's zone, or UTC with ``usegmtime``; a local time that
falls in a DST change is read with ``fold=0``; calls carry their start in UTC. Only ``ANSWERED`` records with billsec > 0
bill. The PBX is given by the caller or, when not, read from ``accountcode``.

``read_asterisk_master_arrow`` reads the same file with pyarrow for bulk imports and the
benchmark; it hands lines it cannot read in bulk to the line reader above, so both give the
same calls and errors.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pbxportal.core.rating.allowance import zone
from pbxportal.core.rating.rate import Call, CallKind
from pbxportal.core.rating.vectorised import BATCH_SCHEMA, calls_to_batch, local_to_utc_us

__all__ = [
    "ASTERISK_BASE_COLUMNS",
    "FREESWITCH_COLUMNS",
    "PORTAL_COLUMNS",
    "ArrowCdrs",
    "CdrFormat",
    "CdrItem",
    "asterisk_columns",
    "call_identity",
    "parse_asterisk_line",
    "read_asterisk_master",
    "read_asterisk_master_arrow",
    "read_cdr_file",
    "read_freeswitch_csv",
    "read_portal_csv",
]

CdrItem = tuple[int, Call | str]
CdrFormat = Literal["asterisk", "freeswitch", "csv"]

ASTERISK_BASE_COLUMNS: tuple[str, ...] = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
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
)
_NEW_CDR_COLUMNS = ("peeraccount", "linkedid", "sequence")

# The FreeSWITCH mod_cdr_csv default template ("example" in cdr_csv.conf.xml).
FREESWITCH_COLUMNS: tuple[str, ...] = (
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
    "read_codec",
    "write_codec",
)
_FREESWITCH_MIN_COLUMNS = FREESWITCH_COLUMNS.index("uuid") + 1

PORTAL_COLUMNS: tuple[str, ...] = ("call_id", "pbx", "start", "caller", "callee", "billsec", "kind")

_UNIQUEID = re.compile(r"(?:[^\s]+-)?[0-9]+\.[0-9]+")
_LOCAL_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_INTEGER = re.compile(r"[0-9]+")
_LOCAL_TIME_LENGTH = 19


def asterisk_columns(count: int, extra: str | None = None) -> tuple[str, ...] | None:
    """Column names of an Asterisk Master.csv line of ``count`` fields; ``None`` if impossible.

    ``extra`` is field 17 of a 17- or 20-field line, to tell a uniqueid from a userfield.
    """
    one = ("uniqueid",) if extra is None or _UNIQUEID.fullmatch(extra) else ("userfield",)
    layouts: dict[int, tuple[str, ...]] = {
        16: (),
        17: one,
        18: ("uniqueid", "userfield"),
        19: _NEW_CDR_COLUMNS,
        20: (*one, *_NEW_CDR_COLUMNS),
        21: ("uniqueid", "userfield", *_NEW_CDR_COLUMNS),
    }
    tail = layouts.get(count)
    return None if tail is None else ASTERISK_BASE_COLUMNS + tail


# Bounds of a plausible call record: its year and its length (a call of more than 31 days is a
# corrupt record, and a larger number would not fit the column).
EARLIEST_CALL_YEAR = 1990
LATEST_CALL_YEAR = 2999
MAX_CALL_SECONDS = 31 * 86400


def call_identity(pbx: str, start: datetime, caller: str, callee: str, duration: int) -> str:
    """Identity of a record without a unique id (R-VT-8): stable across files and imports."""
    text = "\x1f".join((pbx, start.astimezone(UTC).isoformat(), caller, callee, str(duration)))
    return "cdr-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _fields(line: str) -> list[str] | str:
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error as exc:
        return f"malformed CSV: {exc}"
    return rows[0] if rows else []


def _local_time(value: str, tz_name: str) -> datetime | None:
    match = _LOCAL_TIME.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone(tz_name))
    except ValueError:
        return None


def _integer(record: dict[str, str], name: str) -> int | str:
    value = record[name]
    if not _INTEGER.fullmatch(value):
        return f"{name} is not a non-negative integer: {value!r}"
    if len(value) > 9 or int(value) > MAX_CALL_SECONDS:
        return f"{name} is more than {MAX_CALL_SECONDS} seconds: {value!r}"
    return int(value)


def _implausible_start(start: datetime) -> str | None:
    """A call dated outside the years the billing calendar handles is refused as a record error,
    not carried into month arithmetic (a call in December 9999 has no next month)."""
    if not EARLIEST_CALL_YEAR <= start.astimezone(UTC).year <= LATEST_CALL_YEAR:
        return f"start is outside {EARLIEST_CALL_YEAR}-{LATEST_CALL_YEAR}: {start.isoformat()}"
    return None


def parse_asterisk_line(line: str, *, pbx: str | None, tz_name: str) -> Call | str | None:
    """One Master.csv line: a ``Call``, a reason it cannot be read, or ``None`` (bills nothing)."""
    fields = _fields(line)
    if isinstance(fields, str):
        return fields
    names = asterisk_columns(len(fields), fields[16] if len(fields) in (17, 20) else None)
    if names is None:
        return f"expected 16 to 21 Asterisk cdr_csv columns, got {len(fields)}"
    record = dict(zip(names, fields, strict=True))
    billsec = _integer(record, "billsec")
    duration = _integer(record, "duration")
    if isinstance(billsec, str):
        return billsec
    if isinstance(duration, str):
        return duration
    if record["disposition"] != "ANSWERED" or billsec == 0:
        return None
    return _call(
        record,
        pbx=pbx or record["accountcode"],
        start_field="start",
        caller=record["src"],
        callee=record["dst"],
        billsec=billsec,
        duration=duration,
        unique_id=record.get("uniqueid", ""),
        tz_name=tz_name,
    )


def _call(
    record: dict[str, str],
    *,
    pbx: str,
    start_field: str,
    caller: str,
    callee: str,
    billsec: int,
    duration: int,
    unique_id: str,
    tz_name: str,
) -> Call | str:
    start = _local_time(record[start_field], tz_name)
    if start is None:
        return f"{start_field} is not a 'YYYY-MM-DD HH:MM:SS' time: {record[start_field]!r}"
    if not pbx:
        return "no PBX: accountcode is empty and no PBX was given"
    if problem := _implausible_start(start):
        return problem
    # In UTC: a local time in a DST fold or gap never compares equal to another zone's (PEP 495).
    start = start.astimezone(UTC)
    call_id = unique_id or call_identity(pbx, start, caller, callee, duration)
    return Call(call_id=call_id, pbx=pbx, start=start, caller=caller, callee=callee, billsec=billsec)


def _lines(source: Iterable[str]) -> Iterator[tuple[int, str]]:
    for line_no, raw in enumerate(source, start=1):
        line = raw.rstrip("\r\n")
        if line.strip():
            yield line_no, line


def read_asterisk_master(
    lines: Iterable[str], *, pbx: str | None = None, tz_name: str = "UTC", usegmtime: bool = False
) -> Iterator[CdrItem]:
    """Calls of an Asterisk cdr_csv Master.csv (R-VT-8); see the module doc for the format.

    ``tz_name`` is the Asterisk server's zone; ``usegmtime`` says the file is in UTC.
    """
    tz = "UTC" if usegmtime else tz_name
    zone(tz)
    for line_no, line in _lines(lines):
        parsed = parse_asterisk_line(line, pbx=pbx, tz_name=tz)
        if parsed is not None:
            yield line_no, parsed


def read_freeswitch_csv(
    lines: Iterable[str], *, pbx: str | None = None, tz_name: str = "UTC"
) -> Iterator[CdrItem]:
    """Calls of a FreeSWITCH mod_cdr_csv file with the default template (R-VT-8).

    Columns after ``uuid`` may be missing or extended (templates that add fields at the end).
    Records with billsec 0 bill nothing and are skipped. Times are the server's local time.
    The PBX is given, else read from ``accountcode``.
    """
    zone(tz_name)
    for line_no, line in _lines(lines):
        fields = _fields(line)
        if isinstance(fields, str):
            yield line_no, fields
            continue
        if len(fields) < _FREESWITCH_MIN_COLUMNS:
            yield (
                line_no,
                f"expected at least {_FREESWITCH_MIN_COLUMNS} FreeSWITCH columns, got {len(fields)}",
            )
            continue
        record = dict(zip(FREESWITCH_COLUMNS, fields, strict=False))
        billsec = _integer(record, "billsec")
        duration = _integer(record, "duration")
        if isinstance(billsec, str) or isinstance(duration, str):
            yield line_no, billsec if isinstance(billsec, str) else str(duration)
            continue
        if billsec == 0:
            continue
        yield (
            line_no,
            _call(
                record,
                pbx=pbx or record.get("accountcode", ""),
                start_field="start_stamp",
                caller=record["caller_id_number"],
                callee=record["destination_number"],
                billsec=billsec,
                duration=duration,
                unique_id=record["uuid"],
                tz_name=tz_name,
            ),
        )


def read_portal_csv(lines: Iterable[str]) -> Iterator[CdrItem]:
    """Calls of the portal's own CSV (R-VT-8): a header naming ``PORTAL_COLUMNS``, any order.

    ``start`` is ISO 8601 with a UTC offset; ``kind`` is ``voice`` or ``sms``. A header that
    lacks a column is reported on its line and nothing else can be read.
    """
    header: dict[str, int] | None = None
    for line_no, line in _lines(lines):
        fields = _fields(line)
        if isinstance(fields, str):
            yield line_no, fields
            if header is None:
                return
            continue
        if header is None:
            names = [name.strip() for name in fields]
            missing = [name for name in PORTAL_COLUMNS if name not in names]
            if missing:
                yield line_no, f"header lacks column(s) {', '.join(missing)}"
                return
            header = {name: names.index(name) for name in PORTAL_COLUMNS}
            width = len(names)
            continue
        if len(fields) != width:
            yield line_no, f"expected {width} columns, got {len(fields)}"
            continue
        yield line_no, _portal_call({name: fields[index] for name, index in header.items()})


def _portal_call(record: dict[str, str]) -> Call | str:
    billsec = _integer(record, "billsec")
    if isinstance(billsec, str):
        return billsec
    try:
        start = datetime.fromisoformat(record["start"])
    except ValueError:
        return f"start is not an ISO 8601 time: {record['start']!r}"
    if start.tzinfo is None:
        return f"start has no UTC offset: {record['start']!r}"
    if problem := _implausible_start(start):
        return problem
    kind = record["kind"]
    if kind not in ("voice", "sms"):
        return f"kind must be voice or sms, not {kind!r}"
    if not record["call_id"] or not record["pbx"]:
        return "call_id and pbx must not be empty"
    call_kind: CallKind = "sms" if kind == "sms" else "voice"
    return Call(
        call_id=record["call_id"],
        pbx=record["pbx"],
        start=start,
        caller=record["caller"],
        callee=record["callee"],
        billsec=billsec,
        kind=call_kind,
    )


def read_cdr_file(
    path: str | Path,
    cdr_format: CdrFormat,
    *,
    pbx: str | None = None,
    tz_name: str = "UTC",
    usegmtime: bool = False,
) -> Iterator[CdrItem]:
    """Read a call-record file of ``cdr_format`` line by line (R-VT-8, R-CLI-1 import-cdrs)."""
    with _open(path) as handle:
        if cdr_format == "asterisk":
            yield from read_asterisk_master(handle, pbx=pbx, tz_name=tz_name, usegmtime=usegmtime)
        elif cdr_format == "freeswitch":
            yield from read_freeswitch_csv(handle, pbx=pbx, tz_name=tz_name)
        elif cdr_format == "csv":
            yield from read_portal_csv(handle)
        else:
            raise ValueError(f"unknown call-record format {cdr_format!r}")


def _open(path: str | Path) -> TextIO:
    # Undecodable bytes become U+FFFD: that line may fail, the file still reads.
    return open(path, encoding="utf-8", errors="replace", newline="")


@dataclass(frozen=True, slots=True)
class ArrowCdrs:
    """Calls read in bulk: a ``BATCH_SCHEMA`` table, and ``(line_no, reason)`` errors."""

    batch: pa.Table
    errors: list[tuple[int, str]]


def _detect_width(path: Path) -> int | None:
    counts: Counter[int] = Counter()
    with _open(path) as handle:
        for _, line in zip(range(200), _lines(handle), strict=False):
            fields = _fields(line[1])
            if not isinstance(fields, str) and asterisk_columns(len(fields)) is not None:
                counts[len(fields)] += 1
    return counts.most_common(1)[0][0] if counts else None


def read_asterisk_master_arrow(
    path: str | Path, *, pbx: str | None = None, tz_name: str = "UTC", usegmtime: bool = False
) -> ArrowCdrs:
    """``read_asterisk_master`` in bulk with pyarrow: the same calls, as a batch (R-VT-8).

    The file's usual width is taken from its first lines; pyarrow reads the lines of that
    width, and every other line goes through ``parse_asterisk_line``. Values pyarrow's bulk
    path would read differently from the line reader (a time not exactly
    "YYYY-MM-DD HH:MM:SS", a signed or odd integer, a 17/20-column file) make the whole file
    go through the line reader, so both readers always agree.
    """
    path = Path(path)
    tz = "UTC" if usegmtime else tz_name
    zone(tz)
    width = _detect_width(path)
    if width is None or width in (17, 20):
        return _line_read(path, pbx=pbx, tz_name=tz)
    names = asterisk_columns(width)
    assert names is not None
    odd_rows: list[tuple[int | None, str]] = []

    def keep_aside(row: pacsv.InvalidRow) -> str:
        odd_rows.append((row.number, row.text))
        return "skip"

    wanted = ["accountcode", "src", "dst", "start", "duration", "billsec", "disposition"]
    if "uniqueid" in names:
        wanted.append("uniqueid")
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=list(names)),
            parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={
                    **{name: pa.string() for name in wanted},
                    "duration": pa.int64(),
                    "billsec": pa.int64(),
                },
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return _line_read(path, pbx=pbx, tz_name=tz)
    billsec = table.column("billsec").to_numpy()
    duration = table.column("duration").to_numpy()
    if table.column("billsec").null_count or table.column("duration").null_count:
        return _line_read(path, pbx=pbx, tz_name=tz)
    if billsec.size and (int(billsec.min()) < 0 or int(duration.min()) < 0):
        return _line_read(path, pbx=pbx, tz_name=tz)
    billing = pc.and_(
        pc.equal(table.column("disposition"), "ANSWERED"), pc.greater(table.column("billsec"), 0)
    )
    table = table.filter(billing)
    start_local = _fixed_width_times(table.column("start"))
    if start_local is None:
        return _line_read(path, pbx=pbx, tz_name=tz)
    pbx_column = pa.repeat(pbx, table.num_rows) if pbx else table.column("accountcode")
    if not pbx and pc.any(pc.equal(table.column("accountcode"), "")).as_py():
        return _line_read(path, pbx=pbx, tz_name=tz)
    start_us = local_to_utc_us(start_local, tz)
    call_id = _call_ids(table, pbx_column, start_us, names)
    batch = pa.table(
        {
            "call_id": call_id,
            "pbx": pbx_column,
            "start": pa.array(start_us, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "caller": table.column("src"),
            "callee": table.column("dst"),
            "billsec": table.column("billsec"),
            "kind": pa.repeat("voice", table.num_rows),
        },
        schema=BATCH_SCHEMA,
    )
    if not odd_rows:
        return ArrowCdrs(batch=batch, errors=[])
    calls, errors = _odd_lines(path, odd_rows, pbx=pbx, tz_name=tz)
    return ArrowCdrs(batch=pa.concat_tables([batch, calls_to_batch(calls)]), errors=errors)


def _call_ids(
    table: pa.Table, pbx_column: pa.Array | pa.ChunkedArray, start_us: np.ndarray, names: tuple[str, ...]
) -> pa.Array:
    if "uniqueid" in names:
        unique = table.column("uniqueid")
        if not pc.any(pc.equal(unique, "")).as_py():
            return unique.combine_chunks()
        unique_ids = unique.to_pylist()
    else:
        unique_ids = [""] * table.num_rows
    pbxs = pbx_column.to_pylist()
    callers = table.column("src").to_pylist()
    callees = table.column("dst").to_pylist()
    durations = table.column("duration").to_pylist()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return pa.array(
        [
            unique_id
            or call_identity(pbx_name, epoch + timedelta(microseconds=int(at)), caller, callee, duration)
            for unique_id, pbx_name, at, caller, callee, duration in zip(
                unique_ids, pbxs, start_us.tolist(), callers, callees, durations, strict=True
            )
        ],
        pa.string(),
    )


def _fixed_width_times(column: pa.ChunkedArray) -> np.ndarray | None:
    """Epoch microseconds of strict "YYYY-MM-DD HH:MM:SS" wall-clock times; ``None`` if any is not.

    Parsed straight from the Arrow string buffer, one byte column at a time: as strict as the
    line reader's pattern (pyarrow's own timestamp parser also takes "YYYY-MM-DD" and "T").
    """
    array = column.combine_chunks()
    count = len(array)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + count + 1]
    if (
        offsets[-1] - offsets[0] != count * _LOCAL_TIME_LENGTH
        or (np.diff(offsets) != _LOCAL_TIME_LENGTH).any()
    ):
        return None
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    chars = data.reshape(count, _LOCAL_TIME_LENGTH)

    def number(first: int, width: int) -> np.ndarray | None:
        value = np.zeros(count, dtype=np.int64)
        for position in range(first, first + width):
            digit = chars[:, position] - np.uint8(ord("0"))  # wraps below '0' to >= 10
            if (digit > 9).any():
                return None
            value = value * 10 + digit
        return value

    separators = chars[:, [4, 7, 10, 13, 16]]
    if (separators != np.frombuffer(b"-- ::", dtype=np.uint8)).any():
        return None
    parts = [number(0, 4), number(5, 2), number(8, 2), number(11, 2), number(14, 2), number(17, 2)]
    if any(part is None for part in parts):
        return None
    year, month, day, hour, minute, second = (part for part in parts if part is not None)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    valid_month = (month >= 1) & (month <= 12)
    days_in_month = month_days[np.where(valid_month, month, 0)] + (leap & (month == 2))
    valid = (year >= 1) & valid_month & (day >= 1) & (day <= days_in_month)
    if not (valid & (hour < 24) & (minute < 60) & (second < 60)).all():
        return None
    # Days from the civil date (Howard Hinnant's algorithm), then seconds.
    shifted_year = year - (month <= 2)
    era = shifted_year // 400
    year_of_era = shifted_year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    return (days * 86400 + hour * 3600 + minute * 60 + second) * 1_000_000


def _line_read(path: Path, *, pbx: str | None, tz_name: str) -> ArrowCdrs:
    calls: list[Call] = []
    errors: list[tuple[int, str]] = []
    with _open(path) as handle:
        for line_no, item in read_asterisk_master(handle, pbx=pbx, tz_name=tz_name):
            if isinstance(item, Call):
                calls.append(item)
            else:
                errors.append((line_no, item))
    return ArrowCdrs(batch=calls_to_batch(calls), errors=errors)


def _odd_lines(
    path: Path, odd_rows: list[tuple[int | None, str]], *, pbx: str | None, tz_name: str
) -> tuple[list[Call], list[tuple[int, str]]]:
    # pyarrow numbers rows only when reading on one thread: find the others' lines by text.
    wanted = Counter(text.rstrip("\r\n") for _, text in odd_rows)
    located: list[tuple[int, str]] = []
    with _open(path) as handle:
        for line_no, line in _lines(handle):
            if wanted.get(line, 0) > 0:
                wanted[line] -= 1
                located.append((line_no, line))
    calls: list[Call] = []
    errors: list[tuple[int, str]] = []
    for line_no, line in located:
        parsed = parse_asterisk_line(line, pbx=pbx, tz_name=tz_name)
        if isinstance(parsed, Call):
            calls.append(parsed)
        elif parsed is not None:
            errors.append((line_no, parsed))
    return calls, errors
