"""The bill-run benchmark runs from the README's command line (R-INV-2, R-CLI-1)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres


def test_bench_billrun_runs_and_reports_renewals_per_second_and_the_floor_ratio() -> None:
    # given the command of the README on a scratch database / when it runs on 60 PBXs
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("pbxportal")),
            "bench",
            "billrun",
            "--pbxs",
            "60",
            "--runs",
            "1",
            "--chunk",
            "25",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/pbxportal_bench_billrun_test",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # then it renews all 60 and prints the figures
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(
        r"60 PBX renewals \(300 lines\).*renewals/s; COPY floor [\d.]+ s; ratio [\d.]+x", result.stdout
    )
