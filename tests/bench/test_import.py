"""``pbxportal bench import`` runs as docs/benchmarks.md says, tiny here (issue 12 build item 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def test_bench_import_runs_the_real_command_and_every_record_is_stored_and_rated(tmp_path: Path) -> None:
    # given a scratch database next to the test database (its name plus _bench_import)
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbxportal")
    database_url = base.rsplit("?", 1)[0] + "_bench_import"
    # when the benchmark imports 2,000 records, then 2 files of 500 into the next month
    command = [
        str(Path(sys.executable).with_name("pbxportal")),
        "bench",
        "import",
        "--cdrs",
        "2000",
        "--files",
        "2",
        "--file-cdrs",
        "500",
        "--dir",
        str(tmp_path),
        "--database-url",
        database_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    # then it reports its figures under the keys docs/benchmarks.md quotes
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]
    result = json.loads(done.stdout[done.stdout.index("{") :])
    assert set(result) >= {
        "cdrs",
        "seconds",
        "records_per_second",
        "peak_rss_mib",
        "cpu_seconds",
        "backend_cpu_seconds",
        "copy_floor_seconds",
        "ratio_to_copy_floor",
        "first_file_seconds",
        "last_file_seconds",
        "last_to_first",
        "summary",
    }
    assert (result["cdrs"], result["files"], result["file_cdrs"]) == (2000, 2, 500)
    assert result["seconds"] > 0 and result["ratio_to_copy_floor"] > 0 and result["peak_rss_mib"] > 0
    assert result["first_file_seconds"] > 0 and result["last_file_seconds"] > 0
    assert "2000 rows read = 2000 stored" in result["summary"] and "rated 2000" in result["summary"]
    # and every record of the three imports was stored rated, each once, the month totals theirs
    with psycopg.connect(database_url) as connection:
        records, rated, unrated, jobs_done = connection.execute(
            "SELECT count(*), count(rated_at), count(*) FILTER (WHERE rated_at IS NULL),"
            " (SELECT count(*) FROM voice_importjob WHERE status = 'done' AND stored = rated)"
            " FROM voice_callrecord"
        ).fetchone()
        months = connection.execute(
            "SELECT u.calls, u.amount, (SELECT sum(amount) FROM voice_callrecord c"
            " WHERE c.pbx_id = u.pbx_id AND c.month = u.month) FROM voice_usagemonth u ORDER BY u.month"
        ).fetchall()
    assert (records, rated, unrated) == (3000, 3000, 0)
    assert jobs_done == 3
    assert [calls for calls, _, _ in months] == [2000, 1000]
    assert all(amount == total for _, amount, total in months)
