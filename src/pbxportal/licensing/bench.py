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
import os
import secrets
import signal
import socket
import statistics
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
    from pbxportal.catalog.loader import load_catalog
    from pbxportal.catalog.models import PriceBook, Product
    from pbxportal.core import activation_code, licence
    from pbxportal.demo.seed import CATALOGS
    from pbxportal.licensing.keys import signing_key
    from pbxportal.licensing.models import LicenceVersion, PbxCredential
    from pbxportal.licensing.services import CREDENTIAL_PREFIX, credential_digest
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
                pbx_key=secrets.token_urlsafe(24),
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


class _RawConnection:
    """A minimal HTTP/1.1 keep-alive client for the load generator: on two shared cores every
    microsecond the client spends is taken from the server, and http.client's header parsing
    costs several times what the poll itself does."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.host = f"{host}:{port}".encode()
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        return sock

    def poll(self, pbx: SimulatedPbx) -> int:
        request = (
            b"GET "
            + AGENT.encode()
            + b"/licence HTTP/1.1\r\nHost: "
            + self.host
            + b"\r\nAuthorization: Bearer "
            + pbx.credential.encode()
            + (b"\r\nIf-None-Match: " + pbx.etag.encode() if pbx.etag else b"")
            + b"\r\n\r\n"
        )
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = self._connect()
            try:
                self.sock.sendall(request)
                return self._response(pbx)
            except (ConnectionError, _Closed):
                self.sock.close()
                self.sock = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _read_more(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed()
        self.buffer += chunk

    def _response(self, pbx: SimulatedPbx) -> int:
        while b"\r\n\r\n" not in self.buffer:
            self._read_more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().decode("latin-1")
        length = int(headers.get(b"content-length", "0"))
        while len(self.buffer) < length:
            self._read_more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if headers.get(b"connection", "").lower() == "close":
            assert self.sock is not None
            self.sock.close()
            self.sock = None
        if status == 200:
            assert body, "a 200 carries the licence"
            pbx.etag = headers.get(b"etag", "")
            pbx.version = int(headers.get(b"x-licence-version", "0"))
            pbx.changes += 1
        pbx.polls += 1
        return status


class _Closed(Exception):
    pass


def poll_load(
    *, host: str, port: int, fleet: list[SimulatedPbx], rate: int, seconds: float, connections: int
) -> dict[str, Any]:
    """Offer ``rate`` polls per second for ``seconds``, PBX after PBX, over ``connections`` threads
    (thread k sends polls k, k + connections, ...; each is due at ``index / rate``)."""
    total = int(rate * seconds)
    results: list[tuple[list[float], dict[int, int]]] = []
    start = time.perf_counter() + 0.2

    def worker(first: int) -> None:
        client = _RawConnection(host, port)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        for index in range(first, total, connections):
            due = start + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pbx = fleet[index % len(fleet)]
            with pbx.lock:
                status = client.poll(pbx)
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
        results.append((latencies, statuses))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ordered = sorted(latency for latencies, _ in results for latency in latencies)
    statuses: dict[int, int] = {}
    for _, counts in results:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count

    def quantile(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "offered_per_s": rate,
        "duration_s": seconds,
        "polls": len(ordered),
        "achieved_per_s": round(len(ordered) / elapsed),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "latency_ms": {
            "p50": quantile(0.50),
            "p90": quantile(0.90),
            "p99": quantile(0.99),
            "max": round(ordered[-1] * 1000, 2),
            "mean": round(statistics.fmean(ordered) * 1000, 2),
        },
    }


def _recreate_database(database_url: str) -> str:
    """Drop and create the scratch database named by ``database_url``; returns its name."""
    import psycopg

    head, _, name = database_url.rpartition("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise ValueError("give a scratch database name: postgres://.../pbxportal_bench_polls")
    with psycopg.connect(f"{head}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def _wait_ready(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(host, port, timeout=1)
            connection.request("GET", "/api/v1/licensing/public-key")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer within {timeout:.0f} s")


def bench_licence_polls(
    *,
    database_url: str,
    pbxs: int,
    fresh_share: float,
    rate: int,
    seconds: float,
    workers: int,
    threads: int,
    connections: int,
    port: int,
    say: Say,
) -> dict[str, Any]:
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise ValueError("bench licence-polls runs on PostgreSQL: --database-url postgres://.../NAME")
    name = _recreate_database(database_url)
    data_dir = tempfile.mkdtemp(prefix="pbxportal-bench-polls-")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        # More than one thread makes gunicorn's gthread worker, which keeps connections alive.
        "WEB_THREADS": str(threads),
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
        "PBXPORTAL_DATA_DIR": data_dir,
    }
    fleet_file = Path(data_dir) / "fleet.json"
    say(f"scratch database {name}: migrate, seed {pbxs} software PBXs with signed licences and credentials")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, pathlib; django.setup(); from pbxportal.licensing.bench import seed_fleet; "
            f"seed_fleet(pbxs={pbxs}, output=pathlib.Path({str(fleet_file)!r}))",
        ],
        env=env,
        check=True,
    )
    seeded = json.loads(fleet_file.read_text())
    fresh = int(len(seeded) * fresh_share)
    # The first ``fresh`` PBXs have never fetched their licence: their first poll is a 200.
    fleet = [
        SimulatedPbx(credential=item["credential"], etag="" if i < fresh else item["etag"])
        for i, item in enumerate(seeded)
    ]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    say(f"server: gunicorn, {workers} worker(s) x {threads} thread(s) on 127.0.0.1:{port}")
    server = subprocess.Popen(
        # SO_REUSEPORT: the kernel spreads the keep-alive connections over the workers; with one
        # shared accept queue the busiest worker takes most of them and one core does the work.
        [
            str(gunicorn),
            "-c",
            "python:pbxportal.ops.gunicorn",
            "--reuse-port",
            "pbxportal.config.wsgi:application",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready("127.0.0.1", port, 30)
        warm = [SimulatedPbx(credential=p.credential, etag=p.etag) for p in fleet[fresh : fresh + 500]]
        say("warm-up: 2 s")
        poll_load(host="127.0.0.1", port=port, fleet=warm, rate=rate, seconds=2, connections=connections)
        say(f"measuring: {rate} polls/s for {seconds:.0f} s across {len(fleet)} PBXs")
        result = poll_load(
            host="127.0.0.1", port=port, fleet=fleet, rate=rate, seconds=seconds, connections=connections
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
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
