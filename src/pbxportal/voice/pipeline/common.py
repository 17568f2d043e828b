"""Shared parts of the usage pipeline: chunk sizes, the crash-test kill points, time helpers."""

from __future__ import annotations

import os
import re
import signal
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from django.db import connection

CHUNK_LINES = 100_000
RATE_CHUNK = 250_000
RATE_SLICE = 20_000  # records rated while the previous slice's COPY runs (jobs._store_group)
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
