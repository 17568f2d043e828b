"""The production process set for real: scripts/prod-start on loopback against the machine's
PostgreSQL (database ``ops_smoke``, created and dropped here) and Redis (db 5), then prod-stop.

To check more work through the worker, use ``ProcessSet.send`` (a task by name, waited for) and
``seed_renewal`` (a PBX whose renewal falls due), as ``test_a_renewal_is_invoiced_through_the_worker``
does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from pbxportal.ops.logging import request_id_context
from tests.ops.conftest import (
    REDIS_URL,
    ROOT,
    clean_env,
    drop_database,
    free_port,
    needs_postgres,
    needs_redis,
    new_secret,
    production_secrets,
    psql,
    recreate_database,
)

pytestmark = [pytest.mark.slow, needs_postgres, needs_redis]
DATABASE = "ops_smoke"


@dataclass
class ProcessSet:
    env: dict[str, str]
    run_dir: Path
    base_url: str
    started_at: float
    celery: Celery

    def send(self, name: str, *args: Any, timeout: float = 300) -> Any:
        """Send a task by name to the running worker and wait for its result.

        ``disable_sync_subtasks=False``: an earlier test of the session may have run Celery's
        worker start-up code in this process (the killed-worker bill run test forks a worker),
        which marks the process as "inside a task"; this process is the test, not a worker."""
        result = self.celery.send_task(name, args=list(args))
        return result.get(timeout=timeout, disable_sync_subtasks=False)

    def log_lines(self, name: str) -> list[dict[str, Any]]:
        lines = []
        for raw in (self.run_dir / f"{name}.log").read_text().splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines

    def metric(self, name: str, **labels: str) -> float:
        token = self.env["METRICS_TOKEN"]  # production requires it (issue 13 item 10)
        text = httpx.get(
            f"{self.base_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )


def seed_renewal(process_set: ProcessSet, *, start: str) -> dict[str, Any]:
    """A PBX in the process set's database whose renewal (R-PBX-5) falls due on ``renewal_day``."""
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.ops.seed", "renewal", "--start", start],
        cwd=ROOT,
        env=process_set.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(seeded.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def process_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessSet]:
    run_dir = tmp_path_factory.mktemp("run")
    port = free_port()
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    env = clean_env(
        DATABASE_URL=recreate_database(DATABASE),
        CELERY_BROKER_URL=REDIS_URL,
        CELERY_RESULT_BACKEND=REDIS_URL,
        SECRET_KEY=new_secret(),
        **production_secrets(),
        METRICS_TOKEN=new_secret(),
        PORT=str(port),
        RUN_DIR=str(run_dir),
        PBXPORTAL_DATA_DIR=str(tmp_path_factory.mktemp("data")),
        WEB_CONCURRENCY="2",
        CELERY_CONCURRENCY="2",
        CELERY_WORKER_NAME=f"ops-smoke-{port}",
        HEALTH_TIMEOUT="180",
    )
    started_at = time.monotonic()
    celery = Celery("ops-smoke", broker=REDIS_URL, backend=REDIS_URL)
    try:
        started = subprocess.run(
            [str(ROOT / "scripts" / "prod-start")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert started.returncode == 0, started.stdout + started.stderr
        yield ProcessSet(env, run_dir, f"http://127.0.0.1:{port}", started_at, celery)
    finally:
        stopped = subprocess.run(
            [str(ROOT / "scripts" / "prod-stop")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        celery.close()
        drop_database(DATABASE)
        broker.flushdb()
        broker.close()
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_web_worker_and_beat_run_against_postgresql_and_redis(process_set: ProcessSet) -> None:
    health = httpx.get(f"{process_set.base_url}/healthz", timeout=10)
    assert health.status_code == 200
    checks = health.json()["checks"]
    assert (checks["database"]["kind"], checks["broker"]["kind"]) == ("postgresql", "redis")
    # static files come from the web process itself (WhiteNoise, hashed and compressed)
    css = httpx.get(
        f"{process_set.base_url}/static/pbxportal/portal.css", headers={"Accept-Encoding": "gzip"}
    )
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for name in ("web", "worker", "beat"):
        assert (process_set.run_dir / f"{name}.pid").exists()
    assert any(line["message"] == "beat: Starting..." for line in process_set.log_lines("beat"))


def test_a_task_sent_during_a_request_runs_in_the_worker_under_its_request_id(
    process_set: ProcessSet,
) -> None:
    # given a request id in the sending process (as in a web request) / when a task is sent
    with request_id_context("smoke-req-1"):
        result = process_set.send("pbxportal.ops.tasks.ping", timeout=120)
    # then the worker ran it under that id, and its JSON log line says so
    assert result == {"pong": "ok", "request_id": "smoke-req-1"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in process_set.log_lines("worker") if line["message"] == "ping task ran"]
        if lines:
            break
        time.sleep(0.2)
    assert lines and lines[-1]["request_id"] == "smoke-req-1"
    assert lines[-1]["task_name"] == "pbxportal.ops.tasks.ping"


def test_a_renewal_is_invoiced_through_the_worker(process_set: ProcessSet) -> None:
    # given a monthly PBX started 2026-01-10: its first term invoiced at once, renewal due 2026-02-09
    seeded = seed_renewal(process_set, start="2026-01-10")
    pbx_id, renewal_day = seeded["pbx_id"], seeded["renewal_day"]
    assert renewal_day == "2026-02-09"
    clock = {"task": "pbxportal.clock.tasks.run_clock", "outcome": "success"}
    successes = process_set.metric("pbxportal_celery_tasks_total", **clock)
    # when the worker runs the clock through that day (what beat sends daily)
    days = process_set.send("pbxportal.clock.tasks.run_clock", renewal_day)
    assert days[0] == "2026-01-10" and days[-1] == renewal_day
    # then the renewal invoice is there, issued on the last day of the term, for the next term
    # (bill runs fan out in chunk tasks, so it may land just after the clock task returns)
    query = (
        f"SELECT number, issued_on, total FROM invoicing_invoice WHERE source_key LIKE 'renewal:{pbx_id}:%'"
    )
    deadline = time.monotonic() + 60
    while not (renewal := psql(DATABASE, query)) and time.monotonic() < deadline:
        time.sleep(0.5)
    number, issued_on, total = renewal.split("|")
    assert number.startswith("INV-2026-") and issued_on == renewal_day and total == "40.000000"
    # and running the same day again charges nothing twice (R-INV-2)
    process_set.send("pbxportal.clock.tasks.run_clock", renewal_day)
    assert psql(DATABASE, "SELECT count(*) FROM invoicing_invoice") == "2"
    # and the worker's task counts reach /metrics through the shared multi-process directory
    assert process_set.metric("pbxportal_celery_tasks_total", **clock) == successes + 2


def test_a_failing_task_is_counted_as_a_failure(process_set: ProcessSet) -> None:
    before = process_set.metric(
        "pbxportal_celery_tasks_total", task="pbxportal.clock.tasks.run_clock", outcome="failure"
    )
    with pytest.raises(ValueError):
        process_set.send("pbxportal.clock.tasks.run_clock", "not-a-date", timeout=120)
    after = process_set.metric(
        "pbxportal_celery_tasks_total", task="pbxportal.clock.tasks.run_clock", outcome="failure"
    )
    assert after == before + 1


def test_beat_sends_the_short_jobs_every_minute(process_set: ProcessSet) -> None:
    # beat's first run of an interval entry is one interval after it starts
    deadline = process_set.started_at + 240
    name = "pbxportal.clock.tasks.run_short_jobs"
    while time.monotonic() < deadline:
        if process_set.metric("pbxportal_celery_tasks_total", task=name, outcome="success") >= 1:
            break
        time.sleep(2)
    assert process_set.metric("pbxportal_celery_tasks_total", task=name, outcome="success") >= 1
    assert any("short-jobs-every-minute" in line["message"] for line in process_set.log_lines("beat"))
