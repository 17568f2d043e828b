"""The licence-polls benchmark runs as the README says (a small fleet here, R-EX-3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_bench_licence_polls_runs_from_the_command_line() -> None:
    # when the README's command runs with a small fleet on a scratch PostgreSQL database
    pbxportal = Path(sys.executable).with_name("pbxportal")
    done = subprocess.run(
        [
            str(pbxportal),
            "bench",
            "licence-polls",
            "--pbxs",
            "50",
            "--rate",
            "200",
            "--seconds",
            "2",
            "--runs",
            "1",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/pbxportal_test_bench_polls",
            "--port",
            "8791",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # then it prints its figures: every poll answered, 2 % fresh PBXs got a 200, the rest 304s
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    [run] = result["runs"]
    assert run["polls"] == 400 and result["pbxs"] == 50
    assert run["statuses"] == {"200": 1, "304": 399}
    assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p99"]
    assert result["median"]["latency_ms"] == run["latency_ms"]
