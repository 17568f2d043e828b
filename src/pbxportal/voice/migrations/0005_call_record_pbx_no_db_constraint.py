"""Call records keep their PBX without a database foreign key (issue 12, R-VT-8).

The call-record table is the busiest table of the portal (a million rows a month at carrier
volume). On PostgreSQL its ``REFERENCES pbx_pbx`` (deferred) cost a look-up of ``pbx_pbx`` per
stored row at commit: about 40 % of the server's time of an import (docs/benchmarks.md). The
reference is kept by the one write path instead: the import stores records only for PBXs it has
looked up in the same transaction (``voice.pipeline``), and a PBX row is never deleted (a PBX's
deletion is a status, R-PBX-9); Django's ``on_delete=PROTECT`` still refuses an ORM deletion of a
PBX with call records. SQLite (the embedded run) keeps its constraint: the state is what changes.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def drop_reference(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'voice_callrecord'::regclass "
            "AND contype = 'f' AND conparentid = 0"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE voice_callrecord DROP CONSTRAINT "{name}"')


def add_reference(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE voice_callrecord ADD CONSTRAINT voice_callrecord_pbx_id_fkey "
        "FOREIGN KEY (pbx_id) REFERENCES pbx_pbx (id) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [("voice", "0004_import_job_progress"), ("pbx", "0002_pbx_key_digest")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="callrecord",
                    name="pbx",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="pbx.pbx",
                    ),
                )
            ],
            database_operations=[migrations.RunPython(drop_reference, add_reference)],
        )
    ]
