"""PBX keys are stored as a SHA-256 digest and a short prefix, never in clear (issue 13): existing
keys are digested in place, then the clear column is dropped."""

import hashlib

from django.db import migrations, models
from django.db.models import Q


def digest_existing_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    Pbx = apps.get_model("pbx", "Pbx")
    rows = []
    for pbx in Pbx.objects.exclude(pbx_key="").only("pk", "pbx_key").iterator(chunk_size=2000):
        pbx.pbx_key_digest = hashlib.sha256(pbx.pbx_key.encode()).hexdigest()
        pbx.pbx_key_prefix = pbx.pbx_key[:6]
        rows.append(pbx)
        if len(rows) >= 2000:
            Pbx.objects.bulk_update(rows, ["pbx_key_digest", "pbx_key_prefix"])
            rows = []
    if rows:
        Pbx.objects.bulk_update(rows, ["pbx_key_digest", "pbx_key_prefix"])


class Migration(migrations.Migration):
    dependencies = [("pbx", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="pbx",
            name="pbx_key_digest",
            field=models.CharField(
                blank=True,
                help_text="VM/HW: SHA-256 of the PBX key presented to the licence API (R-PBX-3); never the key",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="pbx",
            name="pbx_key_prefix",
            field=models.CharField(blank=True, help_text="The key's first characters", max_length=8),
        ),
        migrations.RunPython(digest_existing_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="pbx", name="pbx_key_unique"),
        migrations.RemoveField(model_name="pbx", name="pbx_key"),
        migrations.AddConstraint(
            model_name="pbx",
            constraint=models.UniqueConstraint(
                condition=~Q(pbx_key_digest=""), fields=("pbx_key_digest",), name="pbx_key_digest_unique"
            ),
        ),
    ]
