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
    production_secrets,
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
    result = check_config(
        tmp_path, PBXPORTAL_ENV="production", SECRET_KEY=new_secret(), **production_secrets()
    )
    assert result.returncode == 2
    assert "FAIL  DATABASE_URL: required with PBXPORTAL_ENV=production" in result.stdout


def test_refuses_debug_an_unreachable_database_and_broker_and_a_short_secret(tmp_path: Path) -> None:
    result = check_config(
        tmp_path,
        PBXPORTAL_ENV="production",
        SECRET_KEY="short",
        **production_secrets(),
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
        **production_secrets(),
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
        **production_secrets(),
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


def test_refuses_each_development_default_secret_by_name(tmp_path: Path) -> None:
    # given production with a real SECRET_KEY and database, but the webhook secrets and the licence
    # signing key left at their development defaults
    result = check_config(
        tmp_path, PBXPORTAL_ENV="production", SECRET_KEY=new_secret(), DATABASE_URL=PG_ADMIN_URL
    )
    # then check-config refuses, one line naming each (R-INV-4)
    assert result.returncode == 2
    for name in (
        "PAYMENT_CARD_WEBHOOK_SECRET",
        "PAYMENT_PAYPAL_WEBHOOK_ID",
        "PAYMENT_SANDBOX_WEBHOOK_SECRET",
        "LICENCE_SIGNING_KEY_PEM",
    ):
        assert f"FAIL  {name}: the development default cannot be used with PBXPORTAL_ENV=production" in (
            result.stdout
        ), result.stdout
    assert "SECRET_KEY: the development default" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_one_default_webhook_secret_is_enough_to_refuse(tmp_path: Path) -> None:
    secrets = production_secrets()
    del secrets["PAYMENT_PAYPAL_WEBHOOK_ID"]
    result = check_config(
        tmp_path, PBXPORTAL_ENV="production", SECRET_KEY=new_secret(), DATABASE_URL=PG_ADMIN_URL, **secrets
    )
    assert result.returncode == 2
    # no secret value is ever printed
    for value in secrets.values():
        assert max(value.splitlines(), key=len) not in result.stdout + result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("FAIL")] == [
        "FAIL  PAYMENT_PAYPAL_WEBHOOK_ID: the development default cannot be used with PBXPORTAL_ENV=production"
    ]
