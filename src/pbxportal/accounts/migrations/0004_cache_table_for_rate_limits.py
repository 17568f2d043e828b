"""The database cache table (settings.CACHES without CACHE_URL) holding allauth's rate-limit
counters, so every web process shares them. A no-op when CACHE_URL names Redis."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_partner_mfa_required_drop_login_throttle")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
