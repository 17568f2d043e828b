"""``pbxportal bench licence-polls`` and ``pbxportal agent-simulate`` (R-EX-3, R-LIC-3).

The benchmark: a fleet of N simulated PBXs (default 10,000) polls ``GET /api/v1/pbx-agent/licence``
with ``If-None-Match`` over HTTP on loopback against a real server process (gunicorn with the
production settings module, ``DEBUG=0``) on a scratch PostgreSQL database, at a fixed offered load
(open loop: request i is due at ``i / rate`` seconds and its latency counts from then, so a slow
server cannot hide its queue). Most polls are 304s; a share of the PBXs start without a licence
and get a 200 first, as after a change.

The simulator: PBXs that activate with their PBX key and then poll like real ones, against any
running portal URL.
"""

from __future__ import annotations

import http.client
import json
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pbxportal.bench.loadgen import (
    RawConnection,
    gunicorn_server,
    open_loop,
    repeated,
    scratch_database,
    server_env,
    settle_database,
)

Say = Callable[[str], None]
AGENT = "/api/v1/pbx-agent"


# --- Seeding the fleet (runs inside the scratch database's Django) ---------------------------


def seed_fleet(*, pbxs: int, output: Path) -> None:
    """N active software PBXs, each with a signed licence and an agent credential, written in
    bulk; the clear credentials and ETags go to ``output`` (JSON) for the load generator."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from pbxportal.accounts.models import BillingContact, Customer, Partner
    from pbxportal.agent.services import CREDENTIAL_PREFIX, credential_digest
    from pbxportal.catalog.loader import load_catalog
    from pbxportal.catalog.models import PriceBook, Product
    from pbxportal.core import activation_code, licence
    from pbxportal.demo.seed import CATALOGS
    from pbxportal.licensing.keys import signing_key
    from pbxportal.licensing.models import LicenceVersion, PbxCredential
    from pbxportal.pbx.keys import pbx_key_digest
    from pbxportal.pbx.models import Pbx, PbxStatus

    call_command("migrate", interactive=False, verbosity=0)
    load_catalog(CATALOGS / "software")
    partner = Partner.objects.create(
        name="Bench", code="bench", country="US", price_book=PriceBook.objects.get(code="SW-GOLD-USD")
    )
    BillingContact.objects.create(partner=partner, name="Bench", email="bench@example.com", is_default=True)
    customer = Customer.objects.create(partner=partner, name="Bench customer", country="US")
    model = Product.objects.get(code="PSE-ENTERPRISE")
    now = timezone.now()
    today = now.date()
    expires = today + timedelta(days=365)
    Pbx.objects.bulk_create(
        [
            Pbx(
                partner=partner,
                customer=customer,
                model=model,
                name=f"bench-{i:06d}",
                term="yearly",
                anchor_date=today,
                expires_on=expires,
                invoiced_through=expires,
                serial=f"PBX-B{i:07d}",
                pbx_key_digest=pbx_key_digest(secrets.token_urlsafe(24)),
                status=PbxStatus.ACTIVE,
                activated_at=now,
            )
            for i in range(pbxs)
        ],
        batch_size=2000,
    )
    key = signing_key()
    versions, credentials, fleet = [], [], []
    for pbx_id, serial in Pbx.objects.filter(partner=partner).order_by("pk").values_list("pk", "serial"):
        document = licence.LicenceDocument(
            pbx_serial=serial,
            version=1,
            issued_at=now,
            expires_on=expires,
            status="active",
            capacity={"concurrent_calls": 25, "extensions": 50},
            services={"plan": {"name": "Enterprise", "product": "PSE-ENTERPRISE"}},
        )
        wire = licence.to_wire(licence.sign(document, key.private_key, key.key_id))
        etag = licence.document_etag(wire)
        versions.append(
            LicenceVersion(
                pbx_id=pbx_id,
                version=1,
                wire=wire,
                etag=etag,
                content_digest="bench",
                key_id=key.key_id,
                status="active",
                summary={"capacity": dict(document.capacity)},
                cause="bench",
                activation_code_digest=activation_code.code_digest(activation_code.new_code()),
            )
        )
        clear = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
        credentials.append(
            PbxCredential(
                pbx_id=pbx_id,
                digest=credential_digest(clear),
                prefix=clear[:12],
                licence_etag=etag,
                issued_at=now,
            )
        )
        fleet.append({"credential": clear, "etag": etag})
    LicenceVersion.objects.bulk_create(versions, batch_size=2000)
    PbxCredential.objects.bulk_create(credentials, batch_size=2000)
    output.write_text(json.dumps(fleet))


# --- The load -----------------------------------------------------------------------------------


@dataclass
class SimulatedPbx:
    credential: str
    etag: str = ""
    version: int = 0
    polls: int = 0
    changes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _poll(connection: http.client.HTTPConnection, pbx: SimulatedPbx) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {pbx.credential}"}
    if pbx.etag:
        headers["If-None-Match"] = pbx.etag
    connection.request("GET", f"{AGENT}/licence", headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status == 200:
        pbx.etag = response.getheader("ETag") or ""
        pbx.version = int(response.getheader("X-Licence-Version") or 0)
        pbx.changes += 1
    pbx.polls += 1
    return response.status, body


def agent_poll(*, url: str, pbx: SimulatedPbx) -> tuple[int, bytes]:
    """One poll of a simulated PBX (its agent's hourly poll, or a Refresh in its web portal)."""
    parts = urlsplit(url)
    return _poll(http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10), pbx)


def _poll_raw(client: RawConnection, pbx: SimulatedPbx) -> int:
    headers = b"Authorization: Bearer " + pbx.credential.encode() + b"\r\n"
    if pbx.etag:
        headers += b"If-None-Match: " + pbx.etag.encode() + b"\r\n"
    status, response_headers, body = client.request("GET", f"{AGENT}/licence", headers)
    if status == 200:
        assert body, "a 200 carries the licence"
        pbx.etag = response_headers.get(b"etag", "")
        pbx.version = int(response_headers.get(b"x-licence-version", "0"))
        pbx.changes += 1
    pbx.polls += 1
    return status


def poll_load(
    *, host: str, port: int, fleet: list[SimulatedPbx], rate: int, seconds: float, connections: int
) -> dict[str, Any]:
    """Offer ``rate`` polls per second for ``seconds``, PBX after PBX (``bench.loadgen.open_loop``)."""

    def send(client: RawConnection, index: int) -> int:
        pbx = fleet[index % len(fleet)]
        with pbx.lock:
            return _poll_raw(client, pbx)

    result = open_loop(host=host, port=port, rate=rate, seconds=seconds, connections=connections, send=send)
    result["polls"] = result.pop("requests")
    return result


def bench_licence_polls(
    *,
    database_url: str,
    pbxs: int,
    fresh_share: float,
    rate: int,
    seconds: float,
    runs: int,
    workers: int,
    threads: int,
    connections: int,
    port: int,
    say: Say,
) -> dict[str, Any]:
    name = scratch_database(database_url)
    data_dir = tempfile.mkdtemp(prefix="pbxportal-bench-polls-")
    env = server_env(
        database_url=database_url, port=port, workers=workers, threads=threads, data_dir=data_dir
    )
    fleet_file = Path(data_dir) / "fleet.json"
    say(f"scratch database {name}: migrate, seed {pbxs} software PBXs with signed licences and credentials")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, pathlib; django.setup(); from pbxportal.bench.agents import seed_fleet; "
            f"seed_fleet(pbxs={pbxs}, output=pathlib.Path({str(fleet_file)!r}))",
        ],
        env=env,
        check=True,
    )
    seeded = json.loads(fleet_file.read_text())
    fresh = int(len(seeded) * fresh_share)
    # ``fresh`` PBXs, spread evenly over the fleet (as changes and new PBXs are over an hour,
    # not in one burst), have never fetched their licence: their first poll is a 200.
    step = len(seeded) / fresh if fresh else 0.0
    fresh_indexes = {int(k * step) for k in range(fresh)}
    fleet = [
        SimulatedPbx(credential=item["credential"], etag="" if i in fresh_indexes else item["etag"])
        for i, item in enumerate(seeded)
    ]
    say(f"server: gunicorn, {workers} worker(s) x {threads} thread(s) on 127.0.0.1:{port}")
    settle_database(database_url)
    with gunicorn_server(env, ready_path="/api/v1/licensing/public-key"):
        # A warm-up poll of a copy of every PBX (the measured fleet is untouched), 1 in 25 asking
        # as if it had no licence yet: both paths (the fast 304 and Django's 200) are warm in
        # every worker and the credential rows are in PostgreSQL's cache, as in a server that
        # has been running (a fleet polls every hour); the fresh PBXs' first 200s stay measured.
        warm = [
            SimulatedPbx(credential=item["credential"], etag="" if i % 25 == 0 else item["etag"])
            for i, item in enumerate(seeded)
        ]
        warm_seconds = max(2.0, len(warm) / rate)
        say(f"warm-up: {warm_seconds:.0f} s, one poll per PBX")
        poll_load(
            host="127.0.0.1", port=port, fleet=warm, rate=rate, seconds=warm_seconds, connections=connections
        )
        say(f"measuring: {runs} run(s) of {rate} polls/s for {seconds:.0f} s across {len(fleet)} PBXs")
        result = repeated(
            runs,
            lambda: poll_load(
                host="127.0.0.1", port=port, fleet=fleet, rate=rate, seconds=seconds, connections=connections
            ),
        )
    result.update(
        pbxs=len(fleet),
        fresh_pbxs=fresh,
        server_workers=workers,
        server_threads=threads,
        client_connections=connections,
        database="PostgreSQL " + name,
    )
    return result


# --- The simulator ------------------------------------------------------------------------------


def agent_simulate(
    *, url: str, pbx_keys: list[str], polls: int, interval: float, say: Say
) -> list[SimulatedPbx]:
    """PBXs that activate with their keys against ``url`` (R-PBX-3) and then poll their licence
    ``polls`` times, ``interval`` seconds apart, like real ones (R-EX-3)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    fleet = []
    for key in pbx_keys:
        connection.request(
            "POST",
            f"{AGENT}/activate",
            body=json.dumps({"pbx_key": key}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        body = json.loads(response.read() or b"{}")
        if response.status != 200:
            say(f"activation refused ({response.status}): {body.get('error', {}).get('message')}")
            continue
        say(f"{body['serial']}: activated, status {body['status']}")
        fleet.append(SimulatedPbx(credential=body["credential"]))
    for round_number in range(polls):
        if round_number:
            time.sleep(interval)
        for pbx in fleet:
            before = pbx.version
            status, _ = _poll(connection, pbx)
            if status == 200 and pbx.version != before:
                say(f"poll {round_number + 1}: licence version {pbx.version} ({pbx.etag})")
    return fleet
