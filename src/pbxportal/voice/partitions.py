"""Monthly partitions of the call records on PostgreSQL (migration 0002, docs/deployment.md).

The import creates a month's partition before the month's first records land; rows of a month
without its partition go to the DEFAULT partition. SQLite has a plain table: nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import DatabaseError, connection, transaction

TABLE = "voice_callrecord"


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def ensure_months(months: Iterable[date]) -> None:
    """Create the missing monthly partitions (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for month in sorted(set(months)):
            name = partition_name(month)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                continue
            following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            try:
                with transaction.atomic():
                    cursor.execute(
                        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} "
                        f"FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
                    )
            except DatabaseError:
                # The DEFAULT partition holds rows of that month already: they stay there.
                continue
