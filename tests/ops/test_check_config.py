"""``pbxportal check-config``: refuses a production start with clear lines and exit 2, no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.ops.conftest import (
    BIN,
    PG_ADMIN_URL,
    ROOT,
    clean_env,
    closed_port,
    needs_postgres,
    needs_redis,
    new_secret,
)


def check_config(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pbxportal"), "check-config", "--timeout", "2"],
        cwd=ROOT,
        env=clean_env(PBXPORTAL_DATA_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_the_default_secret_in_production(tmp_path: Path) -> None:
    # given production with no SECRET_KEY (the development default)
    result = check_config(tmp_path, PBXPORTAL_ENV="production", DATABASE_URL=PG_ADMIN_URL)
    # then exit 2 with one clear line, not a traceback
    assert result.returncode == 2
    assert "FAIL  SECRET_KEY: the development default cannot be used with PBXPORTAL_ENV=production" in (
        result.stdout
    )
    assert "configuration refused" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_refuses_a_missing_database_url_in_production(tmp_path: Path) -> None:
    result = check_config(tmp_path, PBXPORTAL_ENV="production", SECRET_KEY=new_secret())
    assert result.returncode == 2
    assert "FAIL  DATABASE_URL: required with PBXPORTAL_ENV=production" in result.stdout


def test_refuses_debug_an_unreachable_database_and_broker_and_a_short_secret(tmp_path: Path) -> None:
    result = check_config(
        tmp_path,
        PBXPORTAL_ENV="production",
        SECRET_KEY="short",
        DEBUG="1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/pbxportal",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0",
    )
    assert result.returncode == 2
    out = result.stdout
    assert "FAIL  SECRET_KEY: 5 characters" in out
    assert "FAIL  DEBUG:" in out
    assert "FAIL  database: postgresql 127.0.0.1:" in out and "unreachable: OperationalError" in out
    assert "FAIL  broker: redis://127.0.0.1:" in out and "unreachable: ConnectionError" in out
    assert "Traceback" not in out + result.stderr


def test_refuses_production_without_a_broker_or_on_sqlite(tmp_path: Path) -> None:
    result = check_config(
        tmp_path,
        PBXPORTAL_ENV="production",
        SECRET_KEY=new_secret(),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert result.returncode == 2
    assert "FAIL  database: SQLite is the embedded default; production needs PostgreSQL" in result.stdout
    assert "FAIL  broker: no CELERY_BROKER_URL" in result.stdout
    # and /metrics without a token (issue 13 item 10)
    assert "FAIL  METRICS_TOKEN: required in production" in result.stdout


@needs_postgres
@needs_redis
def test_accepts_a_sound_production_environment(tmp_path: Path) -> None:
    result = check_config(
        tmp_path,
        PBXPORTAL_ENV="production",
        SECRET_KEY=new_secret(),
        DATABASE_URL=PG_ADMIN_URL,
        CELERY_BROKER_URL="redis://127.0.0.1:6379/5",
        METRICS_TOKEN="m" * 40,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith(("OK ", "WARN ", "check-config: OK")) for line in lines), lines
    assert any(line.startswith("OK    database: postgresql 127.0.0.1:5432/postgres") for line in lines)
    assert any(line.startswith("OK    broker: redis://127.0.0.1:6379/5") for line in lines)


def test_development_defaults_pass_with_warnings(tmp_path: Path) -> None:
    result = check_config(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARN  SECRET_KEY: the development default" in result.stdout
    assert "OK    broker: no CELERY_BROKER_URL" in result.stdout
