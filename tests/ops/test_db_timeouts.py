"""Database faults (issue 13 item 4): a database that accepts connections but never answers makes
a request fail within DB_CONNECT_TIMEOUT (a 503, not a worker held for minutes), /healthz answers
503 within its budget, and a statement longer than DB_STATEMENT_TIMEOUT_MS is cancelled."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.ops.conftest import PG_ADMIN_URL, clean_env, needs_postgres


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A real TCP server that accepts every connection and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    server.close()


def _run(script: str, **env: str) -> str:
    """``script`` in a fresh Django process configured from ``env`` (as a server is); its output."""
    full = clean_env(DEBUG="0", DJANGO_SETTINGS_MODULE="pbxportal.config.settings", **env)
    # (the timeout covers Django's start on a busy machine; the request itself is timed inside)
    result = subprocess.run(
        [sys.executable, "-c", script], env=full, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_healthz_answers_503_within_its_budget_when_the_database_never_answers(silent_server: int) -> None:
    # given the database is a server that accepts connections and never answers
    script = (
        "import django, json, time; django.setup()\n"
        "from django.test import Client\n"
        "from django.urls import resolve\n"
        "resolve('/healthz')\n"
        "started = time.monotonic()\n"
        "r = Client(raise_request_exception=False).get('/healthz')\n"
        "print(r.status_code, json.dumps(r.json()['checks']['database']['ok']), round(time.monotonic() - started, 2))\n"
    )
    # when /healthz is probed with a 2 s budget
    out = _run(script, DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_server}/x", HEALTHZ_TIMEOUT="2")
    # then 503 naming the database, within the budget (plus half a second)
    status, ok, seconds = out.split()[-3:]
    assert (status, ok) == ("503", "false")
    assert float(seconds) < 2.5, seconds


def test_a_request_gives_up_connecting_after_the_connect_timeout(silent_server: int) -> None:
    # given the portal configured (from the environment) for a database that never answers
    env = clean_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_server}/x",
        DB_CONNECT_TIMEOUT="2",
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="pbxportal.config.settings",
    )
    script = (
        "import django, time; django.setup()\n"
        "from django.test import Client\n"
        "from django.urls import resolve\n"
        "resolve('/api/v1/me')\n"
        "started = time.monotonic()\n"
        "r = Client(raise_request_exception=False).get('/api/v1/me', HTTP_AUTHORIZATION='Bearer pbxp_x')\n"
        "print(r.status_code, r.json()['error']['code'], round(time.monotonic() - started, 1))\n"
    )
    # when an API request needs the database
    # (the timeout covers Django's start on a busy machine; the request itself is timed inside)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    # then it answers a 503 in the error shape after about DB_CONNECT_TIMEOUT seconds
    assert result.returncode == 0, result.stderr[-2000:]
    status, code, seconds = result.stdout.split()[-3:]
    assert (status, code) == ("503", "unavailable")
    # one connection attempt, which libpq may make twice (with and without SSL): 2 x 2 s at most
    assert float(seconds) < 5.5, seconds


@needs_postgres
def test_a_statement_longer_than_the_statement_timeout_is_cancelled() -> None:
    env = clean_env(
        DATABASE_URL=PG_ADMIN_URL,
        DB_STATEMENT_TIMEOUT_MS="300",
        DJANGO_SETTINGS_MODULE="pbxportal.config.settings",
    )
    script = (
        "import django, time; django.setup()\n"
        "from django.db import connection, OperationalError\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    connection.cursor().execute('SELECT pg_sleep(5)')\n"
        "    print('finished')\n"
        "except OperationalError as exc:\n"
        "    print('cancelled', round(time.monotonic() - started, 1), str(exc).splitlines()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("cancelled"), result.stdout
    assert float(result.stdout.split()[1]) < 3
    assert "statement timeout" in result.stdout
