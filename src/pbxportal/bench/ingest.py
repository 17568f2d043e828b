"""``pbxportal bench ingest``: call records over the REST API, the path PBX integrations take
(issue 12 build item 8; docs/benchmarks.md).

On a scratch PostgreSQL database (dropped, created, migrated, seeded with one partner, ``--pbxs``
PBXs with the CTA1 voice trunk and a write API token of the partner's admin), gunicorn serves the
portal with the production settings; ``--clients`` client threads each post the batches of their
own PBX, in time order (as a PBX sends its calls), ``--batch`` records a batch (JSON, ``--gzip``
compressed), to ``POST /api/v1/voice/pbxs/{id}/cdrs`` over a keep-alive connection, back to back
(closed loop). Reported: records per second overall (records / wall time) and the median over
batches (records of a batch / its latency), batch latency p50/p95/max, and the floor: a ``COPY``
of the same records into an unindexed table.
"""

from __future__ import annotations

import gzip
import io
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pbxportal.bench.voice import BENCH_PARTNER_SEED

Say = Callable[[str], None]
CDRS = "/api/v1/voice/pbxs/{pbx_id}/cdrs"
_PREFIXES = ("+39061", "+39021", "+39347", "+44207", "+49301", "+3314", "+1212")

SEED = (
    BENCH_PARTNER_SEED
    + r"""
from pbxportal.accounts.services import api_token_create
ids = []
for n in range(PBXS):
    services.pbx_create(actor=Actor(user=user), customer_id=customer.pk, model_code="WPBX-VMHW", name=f"bench-pbx-{n}",
                        term="monthly", licences={"UC-BUSINESS": 4}, region="", today=today)
    pbx = Pbx.objects.get(name=f"bench-pbx-{n}")
    Pbx.objects.filter(pk=pbx.pk).update(status="active", firmware_version="7.0", activated_at=timezone.now())
    pbx.refresh_from_db()
    services.service_order(actor=None, pbx=pbx, product_code="CLASSOUND-FLAT", today=today)
    ids.append(pbx.pk)
_, token = api_token_create(actor=Actor(user=user), name="bench ingest")
print(json.dumps({"pbx_ids": ids, "token": token}))
"""
)


def make_batches(
    *, pbxs: int, batches: int, batch: int, start: datetime, seed: int = 1
) -> list[list[list[dict[str, Any]]]]:
    """``batches`` batches of ``batch`` answered outbound calls, dealt round-robin to ``pbxs``
    PBXs; each PBX's records are in start order across its batches (one call a minute)."""
    import random

    rng = random.Random(seed)
    pool = random.Random(0)
    destinations = [pool.choice(_PREFIXES) + str(pool.randrange(1_000_000, 9_999_999)) for _ in range(5_000)]
    per_pbx: list[list[list[dict[str, Any]]]] = [[] for _ in range(pbxs)]
    for k in range(batches):
        owner = k % pbxs
        made = len(per_pbx[owner]) * batch
        per_pbx[owner].append(
            [
                {
                    "call_id": f"p{owner}-{made + n}",
                    "start": (start + timedelta(seconds=20 * (made + n))).isoformat(),
                    "caller": "+390612345678",
                    "callee": rng.choice(destinations),
                    "billsec": rng.randrange(1, 600),
                    "kind": "voice",
                }
                for n in range(batch)
            ]
        )
    return per_pbx


def _copy_floor(database_url: str, per_pbx: list[list[list[dict[str, Any]]]]) -> tuple[float, int]:
    """Seconds to ``COPY`` the same records (CSV) into an unindexed table of text columns."""
    import psycopg

    text = io.StringIO()
    count = 0
    for batches in per_pbx:
        for records in batches:
            for r in records:
                text.write(
                    f"{r['call_id']},{r['start']},{r['caller']},{r['callee']},{r['billsec']},{r['kind']}\n"
                )
                count += 1
    data = text.getvalue().encode()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_ingest_floor")
        connection.execute(
            "CREATE TABLE bench_ingest_floor (call_id text, start text, caller text, callee text,"
            " billsec text, kind text)"
        )
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY bench_ingest_floor FROM STDIN (FORMAT csv)") as copy,
        ):
            for at in range(0, len(data), 1 << 20):
                copy.write(data[at : at + (1 << 20)])
        seconds = time.perf_counter() - started
        connection.execute("DROP TABLE bench_ingest_floor")
    return seconds, count


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def post_batches(
    *, port: int, token: str, pbx_ids: list[int], bodies: list[list[bytes]], gzipped: bool, batch: int
) -> dict[str, Any]:
    """One client thread per PBX posts its batches back to back; every answer is checked."""
    from pbxportal.bench.loadgen import RawConnection

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    accepted = 0
    failures: list[str] = []
    lock = threading.Lock()
    headers = f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n".encode()
    if gzipped:
        headers += b"Content-Encoding: gzip\r\n"

    def client(index: int) -> None:
        nonlocal accepted
        connection = RawConnection("127.0.0.1", port)
        path = CDRS.format(pbx_id=pbx_ids[index])
        for body in bodies[index]:
            sent = time.perf_counter()
            status, _, answer = connection.request("POST", path, headers, body)
            elapsed = time.perf_counter() - sent
            with lock:
                statuses[str(status)] += 1
                latencies.append(elapsed)
                if status == 200:
                    accepted += int(json.loads(answer)["accepted"])
                elif len(failures) < 3:
                    failures.append(answer[:300].decode("utf-8", "replace"))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(bodies))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    records = sum(len(b) for b in bodies) * batch
    return {
        "batches": len(latencies),
        "records": records,
        "accepted": accepted,
        "statuses": dict(statuses),
        "failures": failures,
        "seconds": round(wall, 3),
        "records_per_s": round(records / wall) if wall else 0,
        "median_batch_records_per_s": round(statistics.median(batch / s for s in latencies))
        if latencies
        else 0,
        "batch_latency_ms": {
            "p50": round(_quantile(latencies, 0.50) * 1000, 1),
            "p95": round(_quantile(latencies, 0.95) * 1000, 1),
            "max": round(max(latencies, default=0.0) * 1000, 1),
        },
    }


def bench_ingest(
    *,
    database_url: str,
    batches: int,
    batch: int,
    clients: int,
    workers: int,
    threads: int,
    gzipped: bool,
    port: int,
    say: Say,
) -> dict[str, Any]:
    from pbxportal.bench.loadgen import gunicorn_server, scratch_database, server_env, settle_database

    clients = max(1, min(clients, batches))
    name = scratch_database(database_url)
    data_dir = tempfile.mkdtemp(prefix="pbxportal-bench-ingest-")
    env = server_env(
        database_url=database_url, port=port, workers=workers, threads=threads, data_dir=data_dir
    )
    env.pop("PBXPORTAL_IMPORT_KILL_AT", None)
    say(f"scratch database {name}: migrate, seed {clients} PBX(s) with the voice trunk and an API token")
    seeded = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\nPBXS = " + str(clients) + "\n" + SEED],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if seeded.returncode:
        raise RuntimeError(f"seeding failed: {seeded.stderr[-2000:]}")
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    settle_database(database_url)
    now = datetime.now(UTC)
    start = datetime(now.year, now.month, 2, tzinfo=UTC)
    per_pbx = make_batches(pbxs=clients, batches=batches, batch=batch, start=start)
    bodies = [
        [
            gzip.compress(json.dumps(records).encode(), 1) if gzipped else json.dumps(records).encode()
            for records in mine
        ]
        for mine in per_pbx
    ]
    size = sum(len(b) for mine in bodies for b in mine)
    say(f"{batches} batches of {batch} records ({size / 2**20:.1f} MiB{' gzip' if gzipped else ''})")
    floor, floor_records = _copy_floor(database_url, per_pbx)
    say(f"COPY floor (unindexed table): {floor:.3f} s, {floor_records / floor:,.0f} records/s")
    say(
        f"server: gunicorn, {workers} worker(s) x {threads} thread(s) on 127.0.0.1:{port}; {clients} client thread(s)"
    )
    with gunicorn_server(env, ready_path="/api/v1/licensing/public-key"):
        result = post_batches(
            port=port,
            token=seed["token"],
            pbx_ids=seed["pbx_ids"],
            bodies=bodies,
            gzipped=gzipped,
            batch=batch,
        )
    say(
        f"ingest: {result['records']} records in {result['seconds']:.2f} s, {result['records_per_s']:,} records/s;"
        f" batch p50 {result['batch_latency_ms']['p50']} ms, p95 {result['batch_latency_ms']['p95']} ms"
    )
    result.update(
        batch=batch,
        clients=clients,
        gzip=gzipped,
        server_workers=workers,
        server_threads=threads,
        copy_floor_seconds=round(floor, 3),
        copy_floor_records_per_s=round(floor_records / floor) if floor else 0,
        ratio_to_copy_floor=round(result["seconds"] / floor, 1) if floor else None,
        database="PostgreSQL " + name,
    )
    return result


def main_ingest(args: Any, say: Say) -> int:
    result = bench_ingest(
        database_url=args.database_url,
        batches=args.batches,
        batch=args.batch,
        clients=args.clients,
        workers=args.workers,
        threads=args.threads,
        gzipped=args.gzip,
        port=args.port,
        say=say,
    )
    print(json.dumps(result, indent=2))
    return (
        0
        if result["statuses"] == {"200": result["batches"]} and result["accepted"] == result["records"]
        else 1
    )
