"""A partner uploads a call-record file and follows its import live (issue 12 build item 7, R-VT-8).

The embedded mode's worker (a thread of the server, as under ``pbxportal serve``) is held until
the page has shown the queued job, then released: the page, polling with htmx (no reload, no
inline script), shows the finished counts.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from pbxportal.voice.models import ImportJob
from pbxportal.voice.services import imports
from tests.e2e.conftest import Login
from tests.voice.builders import AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld, portal_csv


def test_a_partner_uploads_a_file_and_sees_its_progress_then_its_counts(
    page: Page, login: Login, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a PBX with the voice trunk and a file of 300 calls, one to an unknown destination
    world = VoiceWorld()
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    start = datetime(2025, 3, 2, 9, tzinfo=UTC)
    rows = [
        (f"e{n}", pbx.serial, start + timedelta(minutes=5 * n), IT_FIXED if n % 3 else AU_FIXED, 75, "voice")
        for n in range(299)
    ]
    path = portal_csv(tmp_path / "march.csv", [*rows, ("e-bad", pbx.serial, start, UNKNOWN, 60, "voice")])
    # and the embedded worker (a thread per upload), held until released
    release = threading.Event()
    run = imports._thread_run

    def held(job_id: int) -> None:
        release.wait(60)
        run(job_id)

    monkeypatch.setattr(imports, "_threads", True)
    monkeypatch.setattr(imports, "_thread_run", held)
    monkeypatch.setenv("PBXPORTAL_IMPORT_CHUNK_LINES", "50")
    login(page, "p-admin", "x" * 12)
    # when the partner uploads it on the PBX's import page
    page.goto(reverse("voice:cdr_upload", args=[pbx.pk]))
    page.set_input_files("#file", str(path))
    page.select_option("#format", "csv")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    # then the job page shows it queued, with a progress bar of the file's 301 lines
    job = ImportJob.objects.get(pbx=pbx)
    assert page.url.endswith(reverse("voice:import_job", args=[job.pk]))
    expect(page.locator("#import-job .import-status")).to_have_text("Queued")
    expect(page.locator(".import-progress-text")).to_contain_text("0 of 301 lines read")
    expect(page.locator("#import-job .progress")).to_have_attribute("aria-valuemax", "301")
    # when the worker runs
    release.set()
    # then the page, polling, shows the import done with every row accounted for, without a reload
    expect(page.locator("#import-job .import-status")).to_have_text("Done")
    expect(page.locator(".import-progress-text")).to_contain_text("301 of 301 lines read (100%)")
    expect(page.locator(".import-progress-text")).to_contain_text("lines/s")
    counts = page.locator(".import-counts")

    def count(label: str) -> Locator:
        return counts.locator("tr").filter(has=page.locator("th", has_text=re.compile(f"^{label}$")))

    expect(count("Rows read")).to_contain_text("300")
    expect(count("Stored")).to_contain_text("300")
    expect(count("Rating errors")).to_contain_text("unknown destination: 1")
    expect(page.locator("#import-job")).to_contain_text("unknown destination")
    expect(page.locator("#import-job")).not_to_have_attribute("hx-trigger", "every 2s")
