"""Voice benchmarks (docs/benchmarks.md): ``bench rate`` and ``bench authorize``.

``rate``: a generated Asterisk Master.csv of N calls rated end to end by the core's vectorised
rater (read with pyarrow, rate, usage lines), against reading the same file with pyarrow's CSV
reader, the floor (``bench.rating``).

``authorize``: ``POST /api/v1/pbx-agent/calls/authorize`` over HTTP on loopback against a real
server process (gunicorn with the production settings module and WSGI application, so the agent
fast path of ``agent.wsgi`` included) on PostgreSQL, at a fixed offered load over keep-alive
connections (``bench.loadgen.open_loop``: request i is due at ``i / rate`` seconds and its
latency counts from then, so a slow server cannot hide its queue), for a bounded time. The
database is a scratch one, created, migrated and seeded for the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Say = Callable[[str], None]
AUTHORIZE = "/api/v1/pbx-agent/calls/authorize"


def bench_rate_run(*, calls: int, runs: int, directory: Path | None, say: Say) -> dict[str, Any]:
    from pbxportal.bench.rating import bench_rate, generate_master_csv

    folder = directory or Path(tempfile.mkdtemp(prefix="pbxportal-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Master-{calls}.csv"
    if not path.exists():
        say(f"writing {calls} call records to {path}")
        generate_master_csv(path, calls, seed=7)
    return bench_rate(path, runs=runs, progress=say)


# --- authorize --------------------------------------------------------------------------------------

# The scratch database of a voice benchmark: migrated, the per-user demo catalog, one partner with
# an admin user and a customer (``today``, ``user``, ``customer`` for what follows). Shared by
# ``bench authorize``, ``bench import`` (bench/imports.py) and ``bench ingest`` (bench/ingest.py).
BENCH_PARTNER_SEED = r"""
import json, sys
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
from pbxportal.pbx import services
from pbxportal.pbx.models import Pbx
partner = Partner.objects.create(name="Bench", code="bench", country="IT", price_book=PriceBook.objects.get(code="GOLD-EUR"))
user = User.objects.create_user("bench", password="bench-bench-bench", partner=partner, partner_role=PartnerRole.ADMIN)
customer = Customer.objects.create(partner=partner, name="Bench customer", country="IT")
today = timezone.now().date()
"""

SEED_SCRIPT = (
    BENCH_PARTNER_SEED
    + r"""
from pbxportal.licensing.models import PbxCredential
from pbxportal.agent.services import credential_digest
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
)


def bench_authorize_run(
    *,
    database_url: str,
    rate: int,
    seconds: float,
    runs: int,
    workers: int,
    threads: int,
    connections: int,
    port: int,
    say: Say,
) -> dict[str, Any]:
    from pbxportal.bench.loadgen import (
        RawConnection,
        gunicorn_server,
        open_loop,
        repeated,
        scratch_database,
        server_env,
        settle_database,
    )

    name = scratch_database(database_url)
    say(f"scratch database {name}: migrate, seed")
    env = server_env(
        database_url=database_url,
        port=port,
        workers=workers,
        threads=threads,
        data_dir=tempfile.mkdtemp(prefix="pbxportal-bench-data-"),
    )
    seeded = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SEED_SCRIPT],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    credential = json.loads(seeded.stdout.strip().splitlines()[-1])["credential"]
    body = json.dumps(
        {"caller": "+390212345678", "callee": "0612345678", "time": datetime.now(UTC).isoformat()}
    ).encode()
    headers = f"Authorization: Bearer {credential}\r\nContent-Type: application/json\r\n".encode()
    refusals = 0

    def send(connection: RawConnection, index: int) -> int:
        nonlocal refusals
        status, _, answer = connection.request("POST", AUTHORIZE, headers, body)
        if status == 200 and b'"allowed":false' in answer.replace(b" ", b""):
            refusals += 1
        return status

    say(f"server: gunicorn, {workers} worker(s) x {threads} thread(s) on 127.0.0.1:{port}")
    settle_database(database_url)
    with gunicorn_server(env):
        say("warm-up: 2 s at the offered load")
        open_loop(host="127.0.0.1", port=port, rate=rate, seconds=2, connections=connections, send=send)
        refusals = 0
        say(f"measuring: {runs} run(s) of {rate}/s for {seconds:.0f} s")
        result = repeated(
            runs,
            lambda: open_loop(
                host="127.0.0.1", port=port, rate=rate, seconds=seconds, connections=connections, send=send
            ),
        )
    result.update(
        refused_calls=refusals,
        server_workers=workers,
        server_threads=threads,
        client_connections=connections,
        database="PostgreSQL " + name,
    )
    return result
