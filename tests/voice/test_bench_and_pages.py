"""The voice benchmark runs from the CLI, and the usage page shows minutes by area (R-VT-2, R-UI-1)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from pbxportal.cli import main
from tests.voice.builders import AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld, portal_csv


def test_bench_rate_runs_and_reports_the_ratio_to_the_raw_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # when the rating benchmark runs on a small generated file
    assert main(["bench", "rate", "--cdrs", "3000", "--runs", "1", "--dir", str(tmp_path)]) == 0
    # then it reports the calls rated, the floor and the ratio
    result = json.loads(capsys.readouterr().out)
    assert result["calls_rated"] > 2000
    assert result["floor_read_s"] > 0 and result["ratio_to_floor"] > 0


def test_the_usage_page_charts_minutes_by_area_and_the_allowance_left(db: Any, tmp_path: Path) -> None:
    # given a PBX with 4 users, 10 min to CTA1, 2 min to CTA3 and an unknown destination in March
    world = VoiceWorld()
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    rows = [
        ("it", pbx.serial, datetime(2025, 3, 2, 9, tzinfo=UTC), IT_FIXED, 600, "voice"),
        ("au", pbx.serial, datetime(2025, 3, 2, 10, tzinfo=UTC), AU_FIXED, 120, "voice"),
        ("jp", pbx.serial, datetime(2025, 3, 2, 11, tzinfo=UTC), UNKNOWN, 30, "voice"),
    ]
    main(["import-cdrs", str(portal_csv(tmp_path / "m.csv", rows)), "--format", "csv"])
    client = Client()
    client.force_login(world.user)
    # when the partner opens the usage page of March
    page = client.get(f"/voice/pbxs/{pbx.pk}/usage/?month=2025-03").content.decode()
    # then the chart shows the minutes per area, the allowance left and the record not rated
    assert 'title="10 min"' in page and 'title="2 min"' in page
    assert "left 11990 min" in page
    assert f"unknown destination {UNKNOWN}" in page


def test_bench_authorize_runs_from_the_command_line() -> None:
    # when the README's command runs briefly on a scratch PostgreSQL database (8: its figures)
    import json
    import statistics
    import subprocess
    import sys

    pbxportal = Path(sys.executable).with_name("pbxportal")
    done = subprocess.run(
        [
            str(pbxportal),
            "bench",
            "authorize",
            "--rate",
            "200",
            "--seconds",
            "2",
            "--runs",
            "2",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/pbxportal_test_bench_authorize",
            "--port",
            "8792",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # then in each run every authorisation was answered and allowed, and the medians are reported
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [(run["requests"], run["not_served_in_time"], run["statuses"]) for run in result["runs"]] == [
        (400, 0, {"200": 400})
    ] * 2
    assert result["refused_calls"] == 0
    median = result["median"]["latency_ms"]
    assert median["p50"] == statistics.median(run["latency_ms"]["p50"] for run in result["runs"])
    assert 0 < median["p50"] <= median["p99"]
