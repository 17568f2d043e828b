"""Settings from the environment and the `pbxportal` command (R-CLI-1), run as a user would:
in subprocesses, with their own environment and (for `serve`) a fresh SQLite database."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pbxportal.cli import build_parser, main
from tests.production_env import production_secrets

PBXPORTAL = Path(sys.executable).with_name("pbxportal")
STARTUP_SECONDS = 120


def _env(**extra: str) -> dict[str, str]:
    """The current environment without the variables a test must control itself."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "PBXPORTAL_ENV", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    }
    return {**env, "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings", **extra}


@pytest.mark.slow
def test_production_refuses_the_default_secret_key(tmp_path: Path) -> None:
    # given production mode, a database URL, but no SECRET_KEY
    env = _env(
        PBXPORTAL_ENV="production", DATABASE_URL="postgres://u@127.0.0.1/x", PBXPORTAL_DATA_DIR=str(tmp_path)
    )
    # when Django starts
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then it refuses, naming SECRET_KEY
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_production_starts_with_a_secret_key_and_a_database_url(tmp_path: Path) -> None:
    # given production mode with its secret and database URL (the control case of the test above)
    env = _env(
        PBXPORTAL_ENV="production",
        SECRET_KEY="a-real-secret-" + "x" * 40,
        DATABASE_URL="postgres://u@127.0.0.1/x",
        PBXPORTAL_DATA_DIR=str(tmp_path),
        **production_secrets(),
    )
    # when Django starts / then it does, without debug
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_production_requires_a_database_url(tmp_path: Path) -> None:
    # given production mode with a secret but no DATABASE_URL / when Django starts / then refused
    env = _env(PBXPORTAL_ENV="production", SECRET_KEY="s" * 50, PBXPORTAL_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_help_lists_serve_and_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    # given the command / when asked for help
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    # then it exits 0 listing serve and catalog with their help
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+serve\s+migrate, load the demo data", out, re.M)
    assert re.search(r"^\s+catalog\s+load or export the catalog", out, re.M)


def test_catalog_subcommands_are_load_and_export() -> None:
    # given the parser / when `catalog` arguments are parsed / then load DIR and export --book --format
    parser = build_parser()
    load = parser.parse_args(["catalog", "load", "some/dir"])
    assert load.directory == "some/dir"
    export = parser.parse_args(["catalog", "export", "--book", "GOLD-EUR", "--format", "xlsx"])
    assert (export.book, export.format) == ("GOLD-EUR", "xlsx")
    with pytest.raises(SystemExit):
        parser.parse_args(["catalog", "export", "--book", "GOLD-EUR", "--format", "pdf"])


@pytest.mark.slow
def test_installed_console_script_prints_help() -> None:
    # given the installed `pbxportal` console script / when run with --help / then it lists serve
    assert PBXPORTAL.exists(), f"{PBXPORTAL} is missing: install the project (make run / make test)"
    result = subprocess.run(
        [str(PBXPORTAL), "--help"], env=_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "catalog" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    stdout: str
    stderr_file: Path

    def stderr_tail(self) -> str:
        return "serve's stderr:\n" + self.stderr_file.read_text()[-4000:]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`pbxportal serve` on a free port with an empty data directory, answering HTTP."""
    port = _free_port()
    env = _env(PBXPORTAL_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    stderr = (tmp_path / "serve.stderr").open("w")
    proc = subprocess.Popen(
        [str(PBXPORTAL), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=tmp_path,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    seen: list[str] = []
    url = ""
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not url:
            if proc.poll() is not None:
                pytest.fail(
                    f"serve exited with {proc.returncode}:\n{''.join(seen)}\n{(tmp_path / 'serve.stderr').read_text()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"serve printed no URL in {STARTUP_SECONDS}s:\n{''.join(seen)}")
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            match = re.search(r"pbxportal on (http://127\.0\.0\.1:\d+/)", line)
            if match:
                url = match.group(1)
        # the URL is printed just before the server binds: wait until it answers
        while True:
            try:
                httpx.get(url + "login/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"serve does not answer on {url}:\n{(tmp_path / 'serve.stderr').read_text()}")
                time.sleep(0.2)
        yield Served(url, "".join(seen), tmp_path / "serve.stderr")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stderr.close()


@pytest.mark.slow
def test_serve_on_an_empty_database_prints_a_partner_login_that_works(served: Served) -> None:
    # given `pbxportal serve` started on an empty data directory
    url, text = served.url, served.stdout
    assert "loading the demo data" in text
    # when the printed partner login is used over HTTP
    login = re.search(r"^\s+partner .+?\s(\S+)\s+\[([^\]]+)\]$", text, re.M)
    assert login, f"no partner login printed:\n{text}"
    username, password = login.groups()
    assert re.search(r"^\s+staff .+?\s(\S+)\s+\[([^\]]+)\]$", text, re.M), "a staff login is printed too"
    with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as client:
        form = client.get("/login/")
        assert form.status_code == 200
        csrf = client.cookies["csrftoken"]
        logged_in = client.post(
            "/login/",
            data={"login": username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": url + "login/"},
        )
        # then the partner is in, and its price book page lists the demo prices
        assert logged_in.status_code == 200, served.stderr_tail()
        assert "Log out" in logged_in.text
        book = client.get("/price-book/")
    assert book.status_code == 200, served.stderr_tail()
    assert "Demo data" in book.text
    prices = re.findall(r'<td class="num">([\d.]+) (EUR|USD)</td>', book.text)
    assert len(prices) >= 10
