"""PostgreSQL's binary ``COPY`` format built from Arrow columns, vectorised (``insert_rated``).

The text format makes the server parse every value (three time stamps, a numeric and sixteen
others per record); in the binary format it copies them. Each row is ``int16`` field count, then
per field ``int32`` byte length and the value in network byte order: ``int8``/``int4``,
``date`` as days and ``timestamptz`` as microseconds since 2000-01-01, ``bool`` as one byte,
``numeric`` as base-10000 digit groups, text as its UTF-8 bytes. The fixed-width fields of a
row are one numpy structured record; the rows are joined with the text fields by
``binary_join_element_wise`` (docs/usage-pipeline.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds
_EPOCH_DAYS = 10_957
# numeric(18, 6) as five base-10000 groups: three before the point (weight 2), two after.
_NUMERIC = np.dtype(
    [("ndigits", ">i2"), ("weight", ">i2"), ("sign", ">u2"), ("dscale", ">i2"), ("d", ">i2", (5,))]
)
_FIXED: dict[str, np.dtype[Any]] = {
    "int8": np.dtype(">i8"),
    "int4": np.dtype(">i4"),
    "date": np.dtype(">i4"),
    "timestamptz": np.dtype(">i8"),
}
_FIXED |= {"bool": np.dtype("u1"), "micro": _NUMERIC}
MAX_MICRO = 10**18  # numeric(18, 6): under 10^12 units


def _values(column: pa.ChunkedArray | pa.Array, kind: str) -> np.ndarray:
    if column.null_count:
        raise ValueError("the binary COPY writer takes no NULL")
    if kind == "date":
        return column.cast(pa.int32()).to_numpy() - _EPOCH_DAYS
    if kind == "timestamptz":
        return column.cast(pa.int64()).to_numpy() - _EPOCH_US
    return np.asarray(column.to_numpy(zero_copy_only=False))


def _numeric(micro: np.ndarray, out: np.ndarray) -> None:
    if micro.size and int(np.abs(micro).max()) >= MAX_MICRO:
        raise ValueError("an amount beyond numeric(18, 6)")
    size = np.abs(micro)
    units, fraction = size // 1_000_000, size % 1_000_000
    out["ndigits"] = 5
    out["weight"] = 2
    out["sign"] = np.where(micro < 0, 0x4000, 0)
    out["dscale"] = 6
    out["d"] = np.stack(
        [units // 10**8, units // 10**4 % 10**4, units % 10**4, fraction // 100, fraction % 100 * 100], axis=1
    )


def _blob(data: bytes, width: int, count: int) -> pa.Array:
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), count, [None, pa.py_buffer(data)])
    return fixed.cast(pa.binary())


def encode_rows(table: pa.Table, fields: Sequence[tuple[str, str]]) -> pa.Buffer:
    """The rows of ``table`` in the binary COPY format, without header and trailer.

    ``fields``: (column, kind) in the COPY's column order, every fixed-width kind (int8, int4,
    date, timestamptz, bool, micro: an int64 of millionths written as numeric(18, 6)) before
    every ``text`` one.
    """
    count = table.num_rows
    kinds = [kind for _, kind in fields]
    first_text = kinds.index("text") if "text" in kinds else len(kinds)
    if "text" in kinds and any(kind != "text" for kind in kinds[first_text:]):
        raise ValueError("fixed-width fields come first")
    fixed = fields[:first_text]
    layout: list[tuple[str, Any]] = [("count", ">i2")]
    for name, kind in fixed:
        layout += [(f"{name}__length", ">i4"), (name, _FIXED[kind])]
    records = np.empty(count, dtype=np.dtype(layout))
    records["count"] = len(fields)
    for name, kind in fixed:
        records[f"{name}__length"] = _FIXED[kind].itemsize
        if kind == "micro":
            _numeric(_values(table.column(name), kind).astype(np.int64), records[name])
        else:
            records[name] = _values(table.column(name), kind)
    parts = [_blob(records.tobytes(), records.dtype.itemsize, count)]
    for name, _ in fields[first_text:]:
        column = table.column(name)
        if column.null_count:
            raise ValueError("the binary COPY writer takes no NULL")
        text = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        lengths = pc.binary_length(text).to_numpy(zero_copy_only=False).astype(">i4")
        parts += [_blob(lengths.tobytes(), 4, count), text.cast(pa.binary())]
    rows = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.binary()))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset : rows.offset + count + 1]
    if not count:
        return pa.py_buffer(b"")
    return rows.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
