"""The voice benchmarks run from the CLI (R-VT-2, R-VT-6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pbxportal.cli import main


def test_bench_rate_runs_and_reports_the_ratio_to_the_raw_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # when the rating benchmark runs on a small generated file
    assert main(["bench", "rate", "--cdrs", "3000", "--runs", "1", "--dir", str(tmp_path)]) == 0
    # then it reports the calls rated, the floor and the ratio
    result = json.loads(capsys.readouterr().out)
    assert result["calls_rated"] > 2000
    assert result["floor_read_s"] > 0 and result["ratio_to_floor"] > 0


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
