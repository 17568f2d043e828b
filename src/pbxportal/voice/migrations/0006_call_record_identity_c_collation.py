"""Call-record identities compare byte by byte on PostgreSQL (issue 12, R-VT-8).

An identity is an opaque key (the PBX's unique id or a hash, ``core.rating.cdr.call_identity``):
it is only ever compared for equality, by the unique constraint ``(pbx_id, month, identity)``.
Under the database's default collation (for instance ``C.UTF-8`` or ``en_US.UTF-8``) every
comparison in that index goes through ``strcoll``; with ``COLLATE "C"`` it is a ``memcmp``. That
was about a sixth of the server's CPU time of an import (docs/benchmarks.md). Equality is the
same under every deterministic collation, so the same records are refused as duplicates; only
the order of identities in an ``ORDER BY`` becomes byte order (the records' order is by start
first). The column is rewritten with its indexes (a table lock while it runs: on a large table,
run it in a maintenance window). SQLite compares bytes already: nothing changes there.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def to_c(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE voice_callrecord ALTER COLUMN identity TYPE varchar(80) COLLATE "C"'
        )


def to_default(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE voice_callrecord ALTER COLUMN identity TYPE varchar(80) COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("voice", "0005_call_record_pbx_no_db_constraint")]

    operations = [migrations.RunPython(to_c, to_default)]
