"""``pbxportal bench ingest`` runs as docs/benchmarks.md says, tiny here (issue 12 build item 8)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("gzipped", [False, True])
def test_bench_ingest_posts_batches_over_http_and_reports_the_rates_and_the_floor(gzipped: bool) -> None:
    # given a scratch database next to the test database (its name plus _bench_ingest)
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbxportal")
    database_url = base.rsplit("?", 1)[0] + "_bench_ingest"
    # when the benchmark posts 4 batches of 50 records from 2 client threads to gunicorn
    command = [
        str(Path(sys.executable).with_name("pbxportal")),
        "bench",
        "ingest",
        "--batches",
        "4",
        "--batch",
        "50",
        "--clients",
        "2",
        "--workers",
        "1",
        "--port",
        str(_free_port()),
        "--database-url",
        database_url,
        *(["--gzip"] if gzipped else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    # then every batch was answered 200 with all its records accepted, and the figures are there
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]
    result = json.loads(done.stdout[done.stdout.index("{") :])
    assert (result["batches"], result["records"], result["accepted"]) == (4, 200, 200)
    assert result["statuses"] == {"200": 4} and result["gzip"] is gzipped
    latency = result["batch_latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["max"]
    assert result["records_per_s"] > 0 and result["median_batch_records_per_s"] > 0
    assert result["copy_floor_seconds"] > 0 and result["ratio_to_copy_floor"] > 0
