"""Call-record ids are taken from the sequence 1,000 at a time per session on PostgreSQL
(issue 12, R-VT-8).

A ``COPY`` of a million records called ``nextval`` a million times (a buffer lock each, a WAL
record every 32 values): with ``CACHE 1000`` a session takes a block of 1,000 ids at once,
about 5 % of the server's time of an import (docs/benchmarks.md). Ids stay unique; they are
no longer in insertion order across concurrent sessions and a session's unused ids are lost
(gaps), which nothing relies on: call records are ordered by start and identity, and found by
``(pbx_id, month, identity)``. SQLite has no sequence: nothing changes there.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def cache(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE voice_callrecord ALTER COLUMN id SET CACHE 1000")


def no_cache(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE voice_callrecord ALTER COLUMN id SET CACHE 1")


class Migration(migrations.Migration):
    dependencies = [("voice", "0006_call_record_identity_c_collation")]

    operations = [migrations.RunPython(cache, no_cache)]
