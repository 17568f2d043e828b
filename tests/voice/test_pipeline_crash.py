"""A killed import loses nothing and charges nothing twice (issue 12, R-VT-8, R-INV-2).

The real command runs in a subprocess on the test PostgreSQL database and SIGKILLs itself at a
point of the pipeline (``PBXPORTAL_IMPORT_KILL_AT``); re-running it (or the billing clock)
finishes the month, and the totals equal an uninterrupted import of the same records to the cent.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from pbxportal.voice.models import CallRecord, ImportJob, UsageMonth
from pbxportal.voice.services import usage_invoices_due
from tests.voice.builders import AU_FIXED, IT_FIXED, VoiceWorld, portal_csv

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COUNT = 3000


@pytest.fixture
def world(transactional_db: Any) -> VoiceWorld:
    return VoiceWorld()


def _file(path: Path, serial: str) -> Path:
    # 3000 calls of 100 s in random order: the one-user pool (180000 s) runs out two thirds through.
    rng = random.Random(12)
    start = datetime(2025, 3, 2, 8, tzinfo=UTC)
    rows = [
        (f"k{n}", serial, start + timedelta(minutes=7 * n), IT_FIXED if n % 4 else AU_FIXED, 100, "voice")
        for n in range(COUNT)
    ]
    rng.shuffle(rows)
    return portal_csv(path, rows)


def _run(path: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
        "PBXPORTAL_IMPORT_CHUNK_LINES": "700",
        "PBXPORTAL_RATE_CHUNK": "800",
    }
    env.pop("PBXPORTAL_IMPORT_KILL_AT", None)
    if kill_at:
        env["PBXPORTAL_IMPORT_KILL_AT"] = kill_at
    command = [str(Path(sys.executable).with_name("pbxportal")), "import-cdrs", str(path), "--format", "csv"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _ratings(pbx_id: int) -> list[tuple[Any, ...]]:
    return list(
        CallRecord.objects.filter(pbx_id=pbx_id)
        .order_by("identity")
        .values_list("identity", "area", "billed_seconds", "free_seconds", "charged_units", "amount", "error")
    )


def _usage(pbx_id: int) -> tuple[Any, ...]:
    return tuple(
        UsageMonth.objects.filter(pbx_id=pbx_id)
        .values_list("allowance_used", "calls", "errors", "amount")
        .get()
    )


@pytest.mark.parametrize("kill_at", ["storing:3", "rating:2", "writeback:2", "writeback:1"])
def test_a_killed_import_rerun_equals_an_uninterrupted_one_to_the_cent(
    world: VoiceWorld, tmp_path: Path, kill_at: str
) -> None:
    # given two identical one-user PBXs and the same 3000 calls for each
    killed_pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    clean_pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    killed_file = _file(tmp_path / "killed.csv", killed_pbx.serial)
    # when the import of one is killed at the point, then run again
    crashed = _run(killed_file, kill_at)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert CallRecord.objects.filter(pbx=killed_pbx, rated_at__isnull=False).count() < COUNT
    rerun = _run(killed_file, None)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    # and the other's is imported without interruption
    clean = _run(_file(tmp_path / "clean.csv", clean_pbx.serial), None)
    assert clean.returncode == 0, clean.stderr
    # then every record is stored once and rated exactly as the uninterrupted import
    assert CallRecord.objects.filter(pbx=killed_pbx).count() == COUNT
    assert _ratings(killed_pbx.pk) == _ratings(clean_pbx.pk)
    assert _usage(killed_pbx.pk) == _usage(clean_pbx.pk)
    # and the re-run finished the same job: every row accounted for, each record counted once
    job = ImportJob.objects.get(file_name="killed.csv")
    assert (job.status, job.rows, job.stored, job.duplicates, job.rated) == ("done", COUNT, COUNT, 0, COUNT)
    # and the usage invoices are equal to the cent
    usage_invoices_due(day=date(2025, 4, 1))
    totals = [UsageMonth.objects.get(pbx=pbx).invoice.total for pbx in (killed_pbx, clean_pbx)]  # type: ignore[union-attr]
    assert totals[0] == totals[1] > 0
    amount = CallRecord.objects.filter(pbx=killed_pbx).aggregate(total=Sum("amount"))["total"]
    assert totals[0] == amount.quantize(totals[0])


def test_the_billing_clock_finishes_a_killed_import_before_invoicing(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given an import killed while rating, never re-run
    killed_pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    clean_pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    assert _run(_file(tmp_path / "killed.csv", killed_pbx.serial), "rating:2").returncode == -signal.SIGKILL
    assert _run(_file(tmp_path / "clean.csv", clean_pbx.serial), None).returncode == 0
    # when the clock invoices March on 1 April
    usage_invoices_due(day=date(2025, 4, 1))
    # then the month was rated first and invoiced like the uninterrupted one
    assert _ratings(killed_pbx.pk) == _ratings(clean_pbx.pk)
    killed, clean = (UsageMonth.objects.get(pbx=pbx) for pbx in (killed_pbx, clean_pbx))
    assert killed.invoice is not None and clean.invoice is not None
    assert killed.invoice.total == clean.invoice.total > 0
