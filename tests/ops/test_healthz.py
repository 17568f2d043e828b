"""/healthz: 200 with one entry per check when the database and the broker answer, else 503."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client, override_settings

from pbxportal.ops import checks
from tests.ops.conftest import BIN, ROOT, clean_env, closed_port, free_port, needs_redis


def test_healthz_is_200_on_a_working_database(db: Any) -> None:
    # given the test database and no broker (eager) / when probed
    with override_settings(CELERY_BROKER_URL=""):
        response = Client().get("/healthz")
    # then 200, one entry per check
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "kind": "eager", "ms": 0.0}
    assert response["Cache-Control"].startswith("max-age=0")


@needs_redis
def test_healthz_pings_redis_when_it_is_the_broker(db: Any) -> None:
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/5"):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"]["kind"] == "redis"


def test_healthz_is_503_when_the_broker_is_unreachable_and_hides_the_detail(db: Any) -> None:
    # given a broker on a port nothing listens on
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0", DEBUG=False):
        response = Client().get("/healthz")
    # then 503, the database still ok, and only the error's type (no host or port) in the answer
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"] == "ConnectionError"


def test_database_check_fails_fast_on_a_closed_postgresql_port(db: Any) -> None:
    # given a PostgreSQL database setting pointing at a closed port / when checked
    started = time.monotonic()
    result = checks.check_database(
        "probe",
        settings_dict={
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "postgres",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": closed_port(),
        },
    )
    # then a failure with the driver's reason, well within the timeout
    assert not result.ok
    assert result.error.startswith("OperationalError")
    assert time.monotonic() - started < checks.DEFAULT_TIMEOUT + 1


def test_kombu_broker_check_reports_an_unreachable_amqp_broker() -> None:
    result = checks.check_broker(f"amqp://guest:guest@127.0.0.1:{closed_port()}//", timeout=1)
    assert not result.ok and result.kind == "amqp"
    assert "guest:**@" in result.detail  # the password never reaches a log line


# A real PostgreSQL that goes down and comes back: a throwaway cluster (initdb in a temporary
# directory, its own port) under the real web process, so the machine's PostgreSQL is untouched.

PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; the machine's postgres user owns the throwaway cluster.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.bin = Path(PG_BINS[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="ops-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        initdb = [
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]
        subprocess.run(
            _as_postgres(initdb),
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log")]
        subprocess.run(
            _as_postgres([*pg_ctl, "-w", "start"]),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    if not PG_BINS or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.fail("needs PostgreSQL's initdb/pg_ctl (Debian's postgresql package)")
    cluster = ThrowawayPostgres()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


def _wait_for(url: str, expected: int, timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        try:
            last = httpx.get(url, timeout=5)
            if last.status_code == expected:
                return last
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url}: no {expected} within {timeout}s (last: {last and last.status_code})")


def test_healthz_of_the_real_web_process_follows_postgresql_down_and_back(
    throwaway_postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    # given gunicorn serving the portal on a throwaway PostgreSQL cluster
    port = free_port()
    env = clean_env(
        DATABASE_URL=throwaway_postgres.url,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        PBXPORTAL_DATA_DIR=str(tmp_path),
        HEALTHZ_TIMEOUT="2",
    )
    web = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:pbxportal.ops.gunicorn", "pbxportal.config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "web.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        # then healthy while the database runs
        assert _wait_for(url, 200).json()["checks"]["database"]["ok"] is True
        # when the database stops / then 503 naming the database
        throwaway_postgres.stop()
        down = _wait_for(url, 503)
        assert down.json()["checks"]["database"]["ok"] is False
        assert down.json()["checks"]["broker"]["ok"] is True
        # when it is back / then 200 again, without restarting the web process
        throwaway_postgres.start()
        assert _wait_for(url, 200).json()["status"] == "ok"
        assert web.poll() is None
    finally:
        web.terminate()
        web.wait(timeout=30)
