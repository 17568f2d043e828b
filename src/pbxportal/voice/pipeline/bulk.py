"""Reading the portal CSV in bulk: plain lines with pyarrow compute, the rest line by line.

A chunk of ``CHUNK_LINES`` physical lines is cut from the file at a newline (so no UTF-8
sequence is split) and viewed as one Arrow string array, one value per line, without copying
(line numbers are positions: exact, whatever pyarrow's CSV reader would skip). A line is
*plain* when it has exactly the header's number of fields, no quote and no control character:
it is split into fields by ``split_pattern`` and checked vectorised (required fields, billsec
digits and bound, the ISO 8601 start with its UTC offset parsed in numpy, kind, direction, the
PBX). A line that is not plain, or that a vectorised check refuses, is handed to the line
reader (``reader.Reader``), which gives the same record, skip or precise bad-line reason as
before: both paths agree by construction (``tests/voice/test_pipeline_bulk.py``).

A chunk holding a lone carriage return (the line reader splits lines on it too) or bytes
that are not UTF-8 is read line by line whole.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pbxportal.core.rating.cdr import EARLIEST_CALL_YEAR, LATEST_CALL_YEAR, MAX_CALL_SECONDS
from pbxportal.core.rating.classify import FEATURE, INBOUND, INTERNAL
from pbxportal.voice.pipeline.common import IDENTITY_MAX
from pbxportal.voice.pipeline.reader import RECORDS, Chunk, Reader

_BLOCK = 1 << 22
_START = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$"
_START_LENGTH = 25
_DUMMY_START = "2000-01-01T00:00:00+00:00"
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def line_blocks(path: str | Path, lines: int) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, bytes) of consecutive blocks of ``lines`` physical lines."""
    first = 1
    buffer = b""
    with open(path, "rb") as handle:
        for data in iter(lambda: handle.read(_BLOCK), b""):
            buffer += data
            ends = np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8) == 10)
            taken = position = 0
            while ends.size - taken >= lines:
                end = int(ends[taken + lines - 1]) + 1
                yield first, buffer[position:end]
                first += lines
                taken += lines
                position = end
            buffer = buffer[position:]
    if buffer:
        yield first, buffer


def _by_line(reader: Reader, first: int, text: str) -> tuple[Chunk, int]:
    """A block through the line reader, numbered as ``numbered_lines`` numbers it."""
    numbered = []
    count = 0
    for count, raw in enumerate(io.StringIO(text, newline=""), start=1):
        line = raw.rstrip("\r\n")
        if line.strip():
            numbered.append((first + count - 1, line))
    return reader.feed(numbered), count


def read_portal(path: str | Path, reader: Reader, lines: int) -> Iterator[tuple[int, Chunk]]:
    """(last line number, chunk) of a portal CSV file, chunk by chunk (module doc)."""
    shift = 0  # lines the line reader found beyond the newlines (lone carriage returns)
    for first, block in line_blocks(path, lines):
        first += shift
        if block.count(b"\r") != block.count(b"\r\n"):
            chunk, count = _by_line(reader, first, block.decode("utf-8", errors="replace"))
            shift += count - (block.count(b"\n") + (0 if block.endswith(b"\n") else 1))
            yield first + count - 1, chunk
            continue
        chunk, count = _bulk(reader, first, block)
        yield first + count - 1, chunk


def _line_array(block: bytes) -> pa.StringArray | None:
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    count = ends.size + (0 if block.endswith(b"\n") else 1)
    offsets = np.empty(count + 1, dtype=np.int32)
    offsets[0] = 0
    offsets[1 : ends.size + 1] = ends + 1
    offsets[-1] = len(block)
    array = pa.StringArray.from_buffers(count, pa.py_buffer(offsets.tobytes()), pa.py_buffer(block))
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return array


def _bulk(reader: Reader, first: int, block: bytes) -> tuple[Chunk, int]:
    array = _line_array(block)
    if array is None:
        return _by_line(reader, first, block.decode("utf-8", errors="replace"))
    count = len(array)
    text = pc.utf8_rtrim(array, characters="\r\n")
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
    chunk = Chunk()
    at = 0
    if reader.header is None:
        filled = np.flatnonzero(~blank)
        if filled.size == 0:
            return chunk, count
        at = int(filled[0]) + 1
        chunk.merge(reader.feed([(first + at - 1, text[at - 1].as_py())]))
    if reader.header_error is not None or not reader.header:
        rest = [(first + n, text[n].as_py()) for n in range(at, count) if not blank[n]]
        chunk.merge(reader.feed(rest))
        return chunk, count
    width = reader.width
    plain_pattern = r'^[^",\x00-\x1f\x7f]*(?:,[^",\x00-\x1f\x7f]*){' + str(width - 1) + "}$"
    candidates = np.arange(at, count)
    candidates = candidates[~blank[at:]]
    lines = text.take(pa.array(candidates))
    plain = pc.match_substring_regex(lines, plain_pattern).to_numpy(zero_copy_only=False)
    rows = candidates[plain]
    fields = _fields(lines.filter(pa.array(plain)), width, reader.header)
    ok, values = _check(fields, reader)
    odd = np.concatenate([candidates[~plain], rows[~ok]])
    odd.sort()
    if odd.size:
        chunk.merge(reader.feed([(first + int(n), text[int(n)].as_py()) for n in odd]))
    _accept(
        chunk, reader, first + rows[ok], {name: value.filter(pa.array(ok)) for name, value in values.items()}
    )
    chunk.rows += int(ok.sum())
    return chunk, count


def _fields(lines: pa.Array, width: int, header: dict[str, int]) -> dict[str, pa.Array]:
    flat = pc.split_pattern(lines, ",").flatten()
    base = np.arange(len(lines), dtype=np.int64) * width
    return {name: flat.take(pa.array(base + index)) for name, index in header.items()}


def _check(fields: dict[str, pa.Array], reader: Reader) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Rows every vectorised check accepts, and their values (start as UTC microseconds)."""

    def numpy(array: pa.Array) -> np.ndarray:
        return array.to_numpy(zero_copy_only=False)

    call_id, start, callee, billsec = (fields[name] for name in ("call_id", "start", "callee", "billsec"))
    kind = fields["kind"]
    ok = numpy(pc.greater(pc.binary_length(call_id), 0))
    ok &= numpy(pc.less_equal(pc.utf8_length(call_id), IDENTITY_MAX))
    ok &= numpy(pc.greater(pc.binary_length(callee), 0))
    for name in ("caller", "callee"):  # longer ones are cut by the line reader
        ok &= numpy(pc.less_equal(pc.utf8_length(fields[name]), 80))
    digits = numpy(pc.match_substring_regex(billsec, r"^[0-9]{1,7}$"))
    seconds = numpy(pc.if_else(pa.array(digits), billsec, "0").cast(pa.int64()))
    ok &= digits & (seconds <= MAX_CALL_SECONDS)
    ok &= numpy(pc.is_in(kind, pa.array(["", "voice", "sms"])))
    if "direction" in fields:
        ok &= numpy(pc.match_substring_regex(fields["direction"], r"^[\x20-\x7e]*$"))
    if reader.pbx:
        pbx = fields["pbx"]
        ok &= numpy(pc.or_(pc.equal(pbx, ""), pc.equal(pbx, reader.pbx)))
    shaped = numpy(pc.match_substring_regex(start, _START))
    utc_us, valid = _iso_times(pc.if_else(pa.array(shaped), start, _DUMMY_START))
    ok &= shaped & valid
    values = dict(fields)
    values["billsec"] = pa.array(seconds)
    values["start"] = pa.array(utc_us)
    return ok, values


def _iso_times(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTC microseconds of "YYYY-MM-DDTHH:MM:SS+HH:MM" texts, and which ones are valid times."""
    array = pa.array(column) if not isinstance(column, pa.Array) else column
    count = len(array)
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + count + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    chars = data.reshape(count, _START_LENGTH).astype(np.int64) - ord("0")

    def number(first: int, width: int) -> np.ndarray:
        value = np.zeros(count, dtype=np.int64)
        for position in range(first, first + width):
            value = value * 10 + chars[:, position]
        return value

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute, second = number(11, 2), number(14, 2), number(17, 2)
    offset_hour, offset_minute = number(20, 2), number(23, 2)
    sign = np.where(chars[:, 19] == ord("-") - ord("0"), -1, 1)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    good_month = (month >= 1) & (month <= 12)
    days_in_month = _MONTH_DAYS[np.where(good_month, month, 0)] + (leap & (month == 2))
    # Years near the bounds go to the line reader, which checks them in UTC.
    valid = (
        (year > EARLIEST_CALL_YEAR)
        & (year < LATEST_CALL_YEAR)
        & good_month
        & (day >= 1)
        & (day <= days_in_month)
    )
    valid &= (hour < 24) & (minute < 60) & (second < 60) & (offset_hour < 24) & (offset_minute < 60)
    shifted_year = year - (month <= 2)
    era = shifted_year // 400
    year_of_era = shifted_year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    local = days * 86400 + hour * 3600 + minute * 60 + second
    utc = local - sign * (offset_hour * 3600 + offset_minute * 60)
    return utc * 1_000_000, valid


def _accept(chunk: Chunk, reader: Reader, lines: np.ndarray, values: dict[str, pa.Array]) -> None:
    """Plain rows the checks accepted: not answered, skipped (``classify`` rules) or records."""
    kind = pc.if_else(pc.equal(values["kind"], ""), "voice", values["kind"])
    billsec = values["billsec"]
    not_answered = pc.and_(pc.equal(kind, "voice"), pc.equal(billsec, 0))
    chunk.not_answered += int(pc.sum(not_answered).as_py() or 0)
    keep = pc.invert(not_answered)
    skipped = pa.array(np.zeros(len(kind), dtype=bool))
    if "direction" in values:
        direction = pc.ascii_lower(pc.ascii_trim_whitespace(values["direction"]))
        for name, skip in (("inbound", INBOUND), ("internal", INTERNAL)):
            hit = pc.and_(pc.and_(keep, pc.invert(skipped)), pc.equal(direction, name))
            chunk.skipped[skip] += int(pc.sum(hit).as_py() or 0)
            skipped = pc.or_(skipped, hit)
    if reader.rules.feature_chars:
        feature = pa.array(np.zeros(len(kind), dtype=bool))
        for char in reader.rules.feature_chars:
            feature = pc.or_(feature, pc.match_substring(values["callee"], char))
        hit = pc.and_(
            pc.and_(pc.and_(keep, pc.invert(skipped)), pc.not_equal(kind, "sms")),
            feature,
        )
        chunk.skipped[FEATURE] += int(pc.sum(hit).as_py() or 0)
        skipped = pc.or_(skipped, hit)
    take = pc.and_(keep, pc.invert(skipped))
    count = len(kind)
    pbx = pa.array(np.full(count, reader.pbx, dtype=object), pa.string()) if reader.pbx else values["pbx"]
    table = pa.table(
        {
            "line": pa.array(lines.astype(np.int64)),
            "identity": values["call_id"],
            "pbx": pbx,
            "start": values["start"].cast(pa.timestamp("us", tz="UTC")),
            "caller": values["caller"],
            "callee": values["callee"],
            "billsec": billsec,
            "kind": kind,
        },
        schema=RECORDS,
    ).filter(take)
    if table.num_rows:
        chunk.parts.append(table)
