"""A lean one-row read for the hottest request paths (the PBX agent's polls and call
authorisations): a prepared statement on Django's own connection.

Django's ORM and cursor wrapper cost more CPU than an indexed lookup itself; on PostgreSQL this
runs the statement server-side prepared (psycopg ``prepare=True``) on the connection Django
manages, so transactions, persistent connections and test databases behave as for any query.
On other databases it goes through Django's cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (``%s`` placeholders), or None."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return tuple(row) if row is not None else None
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as raw:
        raw.execute(sql, params, prepare=True)
        return raw.fetchone()
