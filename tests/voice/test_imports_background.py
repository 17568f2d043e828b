"""Portal uploads imported in the background with live progress (issue 12 build item 7, R-VT-8).

The upload stores the file and queues the job: the response comes back while the job is still
queued and nothing is imported; the worker's task (Celery, eager in the tests) imports it and
records its progress after every chunk; the job page polls (htmx) while it runs and stops when it
is done. A worker killed mid-import leaves a job that is resumed (by its page, the clock's short
jobs or the broker's redelivery) to the same totals as an uninterrupted import.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from pbxportal.voice import pipeline
from pbxportal.voice.models import CallRecord, ImportJob, UsageMonth
from pbxportal.voice.services import imports
from pbxportal.voice.tasks import import_cdr_file
from tests.voice.builders import AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld, portal_csv


def at(day: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, 10, tzinfo=UTC) + timedelta(minutes=minute)


def _calls(serial: str, count: int, prefix: str = "b") -> list[tuple[str, str, datetime, str, int, str]]:
    return [
        (f"{prefix}{n}", serial, at(2, 7 * n), IT_FIXED if n % 5 else AU_FIXED, 90, "voice")
        for n in range(count)
    ]


def _upload(client: Client, pbx_id: int, path: Path, **extra: str) -> Any:
    with open(path, "rb") as handle:
        return client.post(f"/voice/pbxs/{pbx_id}/cdrs/", {"file": handle, "format": "csv", **extra})


@pytest.fixture
def world(db: Any) -> VoiceWorld:
    return VoiceWorld()


def test_the_upload_returns_with_the_job_queued_and_the_task_imports_it_afterwards(
    world: VoiceWorld, tmp_path: Path
) -> None:
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    path = portal_csv(
        tmp_path / "march.csv", [*_calls(pbx.serial, 40), ("x1", pbx.serial, at(3), UNKNOWN, 60, "voice")]
    )
    # when the partner uploads the file
    response = _upload(client, pbx.pk, path)
    # then the response comes back with the job queued: the file stored with its SHA-256 and
    # line count, nothing imported yet
    job = ImportJob.objects.get(pbx=pbx)
    assert response.status_code == 302 and response["Location"] == f"/voice/imports/{job.pk}/"
    assert (job.status, job.rows, job.stored, job.source, job.partner_id) == (
        "queued",
        0,
        0,
        "upload",
        pbx.partner_id,
    )
    stored = Path(settings.MEDIA_ROOT) / job.stored_file
    assert stored.read_bytes() == path.read_bytes()
    assert job.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and job.lines_total == 42
    assert not CallRecord.objects.filter(pbx=pbx).exists()
    # and its page polls for progress while it waits for a worker
    page = client.get(f"/voice/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "waiting for a worker" in page and "0 of 42 lines read" in page
    assert "<script" not in page.split("<main", 1)[-1]  # no inline script (CSP script-src 'self')
    # when the worker runs the task
    assert import_cdr_file.delay(job.pk).get() == 1  # one rating error: exit code 1
    # then the job is done, its counts add up, and the page stops polling
    job.refresh_from_db()
    assert (job.status, job.rows, job.stored, job.rated, job.lines_read) == ("done", 41, 41, 40, 42)
    assert job.started_at is not None and job.finished_at is not None
    page = client.get(f"/voice/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' not in page and "42 of 42 lines read (100%)" in page
    api = client.get(f"/api/v1/voice/imports/{job.pk}").json()
    assert (api["status"], api["lines_total"], api["lines_read"], api["rows"]) == ("done", 42, 42, 41)
    assert "Rows read</th><td>41</td>" in page and "unknown destination" in page
    # and running the task again does nothing more
    assert import_cdr_file.delay(job.pk).get() == -1
    assert CallRecord.objects.filter(pbx=pbx).count() == 41


def test_the_worker_records_rows_read_after_every_chunk(
    world: VoiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    monkeypatch.setenv("PBXPORTAL_IMPORT_CHUNK_LINES", "100")
    seen: list[tuple[int, int, str]] = []

    class Watching(imports.Progress):
        def __call__(self, last_line: int, lines_in_chunk: int) -> None:
            super().__call__(last_line, lines_in_chunk)
            job = ImportJob.objects.get(pk=self.job_id)
            seen.append((job.lines_read, job.rows, job.status))

    monkeypatch.setattr(imports, "Progress", Watching)
    _upload(client, pbx.pk, portal_csv(tmp_path / "m.csv", _calls(pbx.serial, 450)))
    job = ImportJob.objects.get(pbx=pbx)
    import_cdr_file.delay(job.pk)
    # then the job held the lines read and the rows stored so far after each chunk of 100 lines
    # (line 1 is the header: rows = lines - 1)
    assert seen == [(lines, lines - 1, "storing") for lines in (100, 200, 300, 400, 451)]
    job.refresh_from_db()
    assert (job.status, job.rows, job.stored, job.rated) == ("done", 450, 450, 450)


def test_an_unknown_format_or_time_zone_is_refused_and_nothing_is_queued(
    world: VoiceWorld, tmp_path: Path
) -> None:
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    path = portal_csv(tmp_path / "m.csv", _calls(pbx.serial, 2))
    for extra in ({"format": "excel"}, {"timezone": "Mars/Olympus"}):
        with open(path, "rb") as handle:
            response = client.post(f"/voice/pbxs/{pbx.pk}/cdrs/", {"file": handle, "format": "csv", **extra})
        assert response.status_code == 200
    assert not ImportJob.objects.exists()


def test_billing_users_cannot_upload_and_another_partner_cannot_resume(
    world: VoiceWorld, tmp_path: Path
) -> None:
    from pbxportal.accounts.models import Partner, PartnerRole, User

    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    path = portal_csv(tmp_path / "m.csv", _calls(pbx.serial, 2))
    # a billing user of the partner may not upload (admins and technicians may)
    billing = User.objects.create_user(
        "p-billing", password="x-billing-x", partner=world.partner, partner_role=PartnerRole.BILLING
    )
    client = Client()
    client.force_login(billing)
    assert _upload(client, pbx.pk, path).status_code == 403
    assert not ImportJob.objects.exists()
    owner = Client()
    owner.force_login(world.user)
    _upload(owner, pbx.pk, path)
    job = ImportJob.objects.get(pbx=pbx)
    # another partner's admin gets 404 for the job and its resume action
    other = Partner.objects.create(name="Other", code="other", country="IT", price_book=world.book)
    intruder = User.objects.create_user(
        "intruder", password="x-intruder-x", partner=other, partner_role=PartnerRole.ADMIN
    )
    client.force_login(intruder)
    assert client.post(f"/voice/imports/{job.pk}/resume/").status_code == 404
    assert client.get(f"/voice/imports/{job.pk}/").status_code == 404


def test_a_failed_or_stalled_upload_offers_resume_and_a_finished_one_refuses_it(
    world: VoiceWorld, tmp_path: Path
) -> None:
    from django.utils import timezone

    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    _upload(client, pbx.pk, portal_csv(tmp_path / "m.csv", _calls(pbx.serial, 3)))
    job = ImportJob.objects.get(pbx=pbx)
    # a job queued a moment ago does not offer to resume (a worker may take it any time)
    assert "Resume the import" not in client.get(f"/voice/imports/{job.pk}/").content.decode()
    # a job storing with no progress for three minutes does (a worker was killed)
    ImportJob.objects.filter(pk=job.pk).update(
        status="storing", progress_at=timezone.now() - timedelta(minutes=3)
    )
    assert "Resume the import" in client.get(f"/voice/imports/{job.pk}/").content.decode()
    # and so does a failed one; resuming queues it and the worker finishes it
    ImportJob.objects.filter(pk=job.pk).update(status="failed", message="worker lost")
    assert "Resume the import" in client.get(f"/voice/imports/{job.pk}/").content.decode()
    assert client.post(f"/voice/imports/{job.pk}/resume/").status_code == 302
    assert import_cdr_file.delay(job.pk).get() == 0
    job.refresh_from_db()
    assert (job.status, job.rows, job.stored, job.rated) == ("done", 3, 3, 3)
    # a finished job is not resumed
    response = client.post(f"/voice/imports/{job.pk}/resume/", follow=True)
    assert "This import has finished." in response.content.decode()
    assert "Resume the import" not in client.get(f"/voice/imports/{job.pk}/").content.decode()


# --- A killed worker (PostgreSQL: a real SIGKILL in a subprocess) ------------------------------


def _worker(job_id: int, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PBXPORTAL_IMPORT_CHUNK_LINES": "300",
        "PBXPORTAL_RATE_CHUNK": "400",
    }
    env.pop("PBXPORTAL_IMPORT_KILL_AT", None)
    if kill_at:
        env["PBXPORTAL_IMPORT_KILL_AT"] = kill_at
    script = (
        "import django; django.setup()\n"
        "from pbxportal.voice.tasks import import_cdr_file\n"
        f"print(import_cdr_file.delay({job_id}).get())\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill_at", ["storing:2", "rating:1"])
def test_a_killed_worker_s_job_is_resumed_from_its_page_to_the_same_totals(
    transactional_db: Any, tmp_path: Path, kill_at: str
) -> None:
    world = VoiceWorld()
    killed_pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    clean_pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    client = Client()
    client.force_login(world.user)
    _upload(client, killed_pbx.pk, portal_csv(tmp_path / "killed.csv", _calls(killed_pbx.serial, 1000, "k")))
    job = ImportJob.objects.get(pbx=killed_pbx)
    # when the worker is killed mid-import
    crashed = _worker(job.pk, kill_at)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    job.refresh_from_db()
    assert job.status in ("storing", "rating")
    assert CallRecord.objects.filter(pbx=killed_pbx, rated_at__isnull=False).count() < 1000
    # and the partner resumes it from its page (a worker picks it up again)
    assert client.post(f"/voice/imports/{job.pk}/resume/").status_code == 302
    rerun = _worker(job.pk, None)
    assert rerun.returncode == 0, rerun.stderr
    # and the same calls of another PBX are imported without interruption
    pipeline.import_file(
        portal_csv(tmp_path / "clean.csv", _calls(clean_pbx.serial, 1000, "k")),
        cdr_format="csv",
        pbx=clean_pbx,
    )
    # then the same job finished with every row counted once, rated as the uninterrupted import
    job.refresh_from_db()
    assert (job.status, job.rows, job.stored, job.duplicates, job.rated) == ("done", 1000, 1000, 0, 1000)
    assert ImportJob.objects.filter(pbx=killed_pbx).count() == 1

    def usage(pbx_id: int) -> tuple[Any, ...]:
        return tuple(
            UsageMonth.objects.filter(pbx_id=pbx_id).values_list("allowance_used", "calls", "amount").get()
        )

    assert usage(killed_pbx.pk) == usage(clean_pbx.pk)
    assert usage(killed_pbx.pk)[2] > 0


def test_the_clock_runs_an_upload_left_queued(world: VoiceWorld, tmp_path: Path) -> None:
    from pbxportal.clock.services import run_short

    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    _upload(client, pbx.pk, portal_csv(tmp_path / "m.csv", _calls(pbx.serial, 5)))
    job = ImportJob.objects.get(pbx=pbx)
    # when the clock's short jobs run within the grace minute, the job waits for its worker
    assert run_short(job.created_at + timedelta(seconds=30))["voice_stalled_imports"] == 0
    # and later (no worker took it: the embedded mode without a server) they run it
    assert run_short(job.created_at + timedelta(minutes=2))["voice_stalled_imports"] == 1
    job.refresh_from_db()
    assert (job.status, job.stored) == ("done", 5)


# --- Command-line imports without --pbx: whose job is it? -------------------------------------


def test_a_cli_import_of_one_partner_s_pbxs_is_that_partner_s_job_otherwise_staff_only(
    world: VoiceWorld, tmp_path: Path
) -> None:
    from pbxportal.accounts.models import Partner
    from pbxportal.cli import main
    from pbxportal.pbx.models import Pbx

    first = world.trunk_pbx(start=date(2025, 2, 3))
    second = world.trunk_pbx(start=date(2025, 2, 3))
    foreign = world.trunk_pbx(start=date(2025, 2, 3))
    other = Partner.objects.create(name="Other", code="other", country="IT", price_book=world.book)
    Pbx.objects.filter(pk=foreign.pk).update(partner=other)
    client = Client()
    client.force_login(world.user)

    def cli_import(name: str, rows: list[tuple[str, str, datetime, str, int, str]]) -> ImportJob:
        assert main(["import-cdrs", str(portal_csv(tmp_path / name, rows)), "--format", "csv"]) == 0
        return ImportJob.objects.order_by("-id").first()  # type: ignore[return-value]

    # when a staff member imports a file of two PBXs of the same partner, without --pbx
    ours = cli_import("ours.csv", [*_calls(first.serial, 3, "a"), *_calls(second.serial, 3, "b")])
    # then the job is that partner's: its users see it
    assert (ours.pbx_id, ours.partner_id, ours.stored) == (None, first.partner_id, 6)
    assert client.get(f"/voice/imports/{ours.pk}/").status_code == 200
    # and importing the same file again (all duplicates) is theirs too
    again = cli_import("ours.csv", [*_calls(first.serial, 3, "a"), *_calls(second.serial, 3, "b")])
    assert (again.pk != ours.pk, again.duplicates, again.partner_id) == (True, 6, first.partner_id)
    # when a file mixes two partners' PBXs, the job stays staff-only
    mixed = cli_import("mixed.csv", [*_calls(first.serial, 2, "c"), *_calls(foreign.serial, 2, "d")])
    assert (mixed.stored, mixed.partner_id) == (4, None)
    assert client.get(f"/voice/imports/{mixed.pk}/").status_code == 404
    # and so does a file with a record of an unknown PBX
    code = main(
        [
            "import-cdrs",
            str(
                portal_csv(
                    tmp_path / "unknown.csv",
                    [*_calls(first.serial, 2, "e"), ("u", "PBX-NONE", at(4), IT_FIXED, 60, "voice")],
                )
            ),
            "--format",
            "csv",
        ]
    )
    unknown = ImportJob.objects.order_by("-id").first()
    assert code == 1 and unknown is not None and (unknown.bad_lines, unknown.partner_id) == (1, None)
