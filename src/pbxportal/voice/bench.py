"""Voice benchmarks (docs/benchmarks.md): ``bench rate`` and ``bench authorize``.

``rate``: a generated Asterisk Master.csv of N calls rated end to end by the core's vectorised
rater (read with pyarrow, rate, usage lines), against reading the same file with pyarrow's CSV
reader, the floor (``core.rating.bench``).

``authorize``: ``POST /api/v1/pbx-agent/calls/authorize`` over HTTP on loopback against a real
server process (gunicorn with the production settings module) on PostgreSQL, at a fixed offered
load (open loop: request i is due at ``i / rate`` seconds and its latency counts from then, so a
slow server cannot hide its queue), for a bounded time. The database is a scratch one, created,
migrated and seeded for the run.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Say = Callable[[str], None]


def bench_rate_run(*, calls: int, runs: int, directory: Path | None, say: Say) -> dict[str, Any]:
    from pbxportal.core.rating.bench import bench_rate, generate_master_csv

    folder = directory or Path(tempfile.mkdtemp(prefix="pbxportal-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Master-{calls}.csv"
    if not path.exists():
        say(f"writing {calls} call records to {path}")
        generate_master_csv(path, calls, seed=7)
    return bench_rate(path, runs=runs, progress=say)


# --- authorize --------------------------------------------------------------------------------------

SEED_SCRIPT = r"""
import json, sys
from datetime import date
from pathlib import Path
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", interactive=False, verbosity=0)
from pbxportal.catalog.loader import load_catalog
import pbxportal.demo
load_catalog(Path(pbxportal.demo.__file__).parent / "catalogs" / "per_user")
from pbxportal.accounts.models import Customer, Partner, PartnerRole, User
from pbxportal.catalog.models import PriceBook
from pbxportal.common.actor import Actor
from pbxportal.licensing.models import PbxCredential
from pbxportal.licensing.services import credential_digest
from pbxportal.pbx import services
from pbxportal.pbx.models import Pbx
partner = Partner.objects.create(name="Bench", code="bench", country="IT", price_book=PriceBook.objects.get(code="GOLD-EUR"))
user = User.objects.create_user("bench", password="bench-bench-bench", partner=partner, partner_role=PartnerRole.ADMIN)
customer = Customer.objects.create(partner=partner, name="Bench customer", country="IT")
today = timezone.now().date()
services.pbx_create(actor=Actor(user=user), customer_id=customer.pk, model_code="WPBX-VMHW", name="bench-pbx",
                    term="monthly", licences={"UC-BUSINESS": 4}, region="", today=today)
pbx = Pbx.objects.get(name="bench-pbx")
Pbx.objects.filter(pk=pbx.pk).update(status="active", firmware_version="7.0", activated_at=timezone.now())
pbx.refresh_from_db()
services.service_order(actor=None, pbx=pbx, product_code="CLASSOUND-FLAT", today=today)
clear = "pbxa_bench-credential"
PbxCredential.objects.create(pbx=pbx, digest=credential_digest(clear), prefix=clear[:12], issued_at=timezone.now())
print(json.dumps({"credential": clear}))
"""


def _database_urls(base_url: str, name: str) -> tuple[str, str]:
    """The maintenance database's URL and the scratch database's, from a PostgreSQL URL."""
    head, _, _ = base_url.rpartition("/")
    return f"{head}/postgres", f"{head}/{name}"


def _recreate_database(maintenance_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _wait_ready(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer /healthz within {timeout:.0f} s")


def _load(port: int, credential: str, rate: int, seconds: float, connections: int) -> dict[str, Any]:
    """Offer ``rate`` requests per second for ``seconds`` over ``connections`` keep-alive connections."""
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    refusals = 0
    lock = threading.Lock()
    next_index = iter(range(total))
    body = json.dumps(
        {"caller": "+390212345678", "callee": "0612345678", "time": datetime.now(UTC).isoformat()}
    ).encode()
    headers = {"Authorization": f"Bearer {credential}", "Content-Type": "application/json"}
    start = time.perf_counter() + 0.2
    # Bounded: what is not sent by then is counted as not served (an overloaded server cannot
    # stretch the run), and the run stops.
    deadline = start + seconds + max(2.0, seconds / 2)

    def worker() -> None:
        nonlocal refusals
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            due = start + index / rate
            if time.perf_counter() > deadline:
                return
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            connection.request("POST", "/api/v1/pbx-agent/calls/authorize", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            finished = time.perf_counter()
            with lock:
                latencies.append(finished - due)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == 200 and not json.loads(payload)["allowed"]:
                    refusals += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies) or [float("inf")]

    def quantile(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "offered_per_s": rate,
        "duration_s": seconds,
        "requests": len(latencies),
        "not_served_in_time": total - len(latencies),
        "achieved_per_s": round(len(latencies) / elapsed),
        "statuses": statuses,
        "refused_calls": refusals,
        "latency_ms": {
            "p50": quantile(0.50),
            "p90": quantile(0.90),
            "p99": quantile(0.99),
            "max": round(ordered[-1] * 1000, 2),
            "mean": round(statistics.fmean(ordered) * 1000, 2),
        },
    }


def bench_authorize_run(
    *, database_url: str, rate: int, seconds: float, workers: int, connections: int, port: int, say: Say
) -> dict[str, Any]:
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise ValueError("bench authorize runs on PostgreSQL: give --database-url postgres://.../NAME")
    name = database_url.rpartition("/")[2] or "pbxportal_bench"
    maintenance, url = _database_urls(database_url, name)
    say(f"scratch database {name}: create, migrate, seed")
    _recreate_database(maintenance, name)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
        "PBXPORTAL_DATA_DIR": tempfile.mkdtemp(prefix="pbxportal-bench-data-"),
    }
    seeded = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SEED_SCRIPT],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    credential = json.loads(seeded.stdout.strip().splitlines()[-1])["credential"]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    say(f"server: gunicorn, {workers} worker(s) on 127.0.0.1:{port}")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "python:pbxportal.ops.gunicorn", "pbxportal.config.wsgi:application"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(port, 30)
        say("warm-up: 2 s at the offered load")
        _load(port, credential, rate, 2, connections)
        say(f"measuring: {rate}/s for {seconds:.0f} s")
        result = _load(port, credential, rate, seconds, connections)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    result.update(server_workers=workers, client_connections=connections, database="PostgreSQL " + name)
    return result
