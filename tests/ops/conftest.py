"""Helpers for the ops tests: reachability of the machine's services, free ports, subprocess env."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("OPS_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on (bound and released; reuse within the test is unlikely)."""
    return free_port()


@pytest.fixture
def _require_postgres() -> None:
    """These tests use the machine's PostgreSQL (make test starts it): fail, never skip, without it."""
    if not reachable("127.0.0.1", 5432):
        pytest.fail("PostgreSQL on 127.0.0.1:5432 is not reachable: run scripts/ensure-postgres")


@pytest.fixture
def _require_redis() -> None:
    if not reachable("127.0.0.1", 6379):
        pytest.fail("Redis on 127.0.0.1:6379 is not reachable: start redis-server")


needs_postgres = pytest.mark.usefixtures("_require_postgres")
needs_redis = pytest.mark.usefixtures("_require_redis")


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment for a pbxportal subprocess: none of the test run's own configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "CELERY_RESULT_BACKEND",
            "SECRET_KEY",
            "PBXPORTAL_ENV",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "PROMETHEUS_MULTIPROC_DIR",
            "LOG_FORMAT",
        }
    }
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    # Documents without tax, as in the rest of the suite (tests/tax_off.yaml; the tax tests set
    # their rules): the ops tests compare invoice totals, not tax (R-INV-1 is tested in invoicing).
    env["TAX_RULES_FILE"] = str(Path(__file__).resolve().parent.parent / "tax_off.yaml")
    env.update(overrides)
    return env


from tests.production_env import production_secrets  # noqa: E402, F401  (re-exported)


def new_secret() -> str:
    return secrets.token_urlsafe(50)


def psql(database: str, sql: str) -> str:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    return subprocess.run(
        ["psql", url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def recreate_database(name: str) -> str:
    psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
