"""The benchmark commands: ``pbxportal bench rate|authorize|billrun|licence-polls`` and
``pbxportal agent-simulate`` (R-VT-2, R-VT-6, R-INV-2, R-LIC-3, R-EX-3, R-CLI-1; docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pbxportal.cli import setup_django


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _new_software_pbxs(count: int, partner_code: str, plan: str) -> list[str]:
    """Create ``count`` software PBXs for the partner (as its admin) and return their PBX keys."""
    import secrets

    from django.utils import timezone

    from pbxportal.accounts.models import Customer, PartnerRole, User
    from pbxportal.common.actor import Actor
    from pbxportal.pbx.services import pbx_create

    user = User.objects.filter(partner__code=partner_code, partner_role=PartnerRole.ADMIN).first()
    customer = Customer.objects.filter(partner__code=partner_code).order_by("pk").first()
    if user is None or customer is None:
        raise SystemExit(f"agent-simulate: partner {partner_code!r} needs an admin user and a customer")
    keys = []
    for _ in range(count):
        name = f"sim-{secrets.token_hex(4)}"
        created = pbx_create(
            actor=Actor(user=user),
            customer_id=customer.pk,
            model_code=plan,
            name=name,
            term="yearly",
            licences={},
            today=timezone.localdate(),
        )
        assert created.pbx is not None
        keys.append(created.pbx.new_pbx_key)  # shown once: the portal keeps only its digest
    return keys


def _agent_simulate(args: argparse.Namespace) -> int:
    from pbxportal.bench.agents import agent_simulate

    keys = list(args.pbx_key or [])
    if args.pbxs:
        setup_django()
        keys += _new_software_pbxs(args.pbxs, args.partner, args.plan)
    if not keys:
        print("agent-simulate: give --pbxs N (new software PBXs) or --pbx-key KEY", file=sys.stderr)
        return 2
    fleet = agent_simulate(url=args.url, pbx_keys=keys, polls=args.polls, interval=args.interval, say=_say)
    print(json.dumps([{"version": p.version, "polls": p.polls, "etag": p.etag} for p in fleet], indent=2))
    return 0 if fleet else 1


def _bench_licence_polls(args: argparse.Namespace) -> int:
    from pbxportal.bench.agents import bench_licence_polls

    result: dict[str, Any] = bench_licence_polls(
        database_url=args.database_url,
        pbxs=args.pbxs,
        fresh_share=args.fresh_share,
        rate=args.rate,
        seconds=args.seconds,
        runs=args.runs,
        workers=args.workers,
        threads=args.threads,
        connections=args.connections,
        port=args.port,
        say=_say,
    )
    print(json.dumps(result, indent=2))
    return 0


def _bench_billrun(args: argparse.Namespace) -> int:
    from pbxportal.bench.billrun import bench_billrun_run

    result = bench_billrun_run(
        pbxs=args.pbxs,
        runs=args.runs,
        workers=args.workers,
        chunk_size=args.chunk,
        database_url=args.database_url,
        say=lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(
        f"bench billrun: {result.pbxs} PBX renewals ({result.lines} lines), {result.workers} worker(s), "
        f"median of {len(result.runs)}: {result.median:.2f} s = {result.pbxs / result.median:,.0f} renewals/s; "
        f"COPY floor {result.floor:.2f} s; ratio {result.median / result.floor:.1f}x"
    )
    return 0


def _bench_rate(args: argparse.Namespace) -> int:
    from pbxportal.bench.voice import bench_rate_run

    result = bench_rate_run(
        calls=args.cdrs, runs=args.runs, directory=Path(args.dir) if args.dir else None, say=_say
    )
    print(json.dumps(result, indent=2))
    return 0


def _bench_authorize(args: argparse.Namespace) -> int:
    from pbxportal.bench.voice import bench_authorize_run

    result = bench_authorize_run(
        database_url=args.database_url,
        rate=args.rate,
        seconds=args.seconds,
        runs=args.runs,
        workers=args.workers,
        threads=args.threads,
        connections=args.connections,
        port=args.port,
        say=_say,
    )
    print(json.dumps(result, indent=2))
    return 0


def _bench_import(args: argparse.Namespace) -> int:
    from pbxportal.bench.imports import main_import

    return main_import(args, _say)


def _bench_ingest(args: argparse.Namespace) -> int:
    from pbxportal.bench.ingest import main_ingest

    return main_ingest(args, _say)


def register(sub: Any) -> None:
    bench = sub.add_parser("bench", help="benchmarks (docs/benchmarks.md)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    simulate = sub.add_parser(
        "agent-simulate", help="simulated PBXs that activate with their key and poll their licence (R-LIC-3)"
    )
    simulate.add_argument("--url", default="http://127.0.0.1:8000", help="the running portal")
    simulate.add_argument(
        "--pbxs", type=int, default=0, help="create N software PBXs in the portal's database"
    )
    simulate.add_argument("--partner", default="gamma", help="partner code of the new PBXs (demo: gamma)")
    simulate.add_argument("--plan", default="PSE-ENTERPRISE", help="software plan of the new PBXs")
    simulate.add_argument(
        "--pbx-key", action="append", help="simulate an existing PBX by its key (repeatable)"
    )
    simulate.add_argument("--polls", type=int, default=3, help="licence polls per PBX")
    simulate.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    simulate.set_defaults(handler=_agent_simulate)

    polls = bench_sub.add_parser(
        "licence-polls", help="licence polls per second and p99 with 10,000 simulated PBXs over HTTP"
    )
    polls.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/pbxportal_bench_polls",
        help="a scratch PostgreSQL database, dropped and created for the run",
    )
    polls.add_argument("--pbxs", type=int, default=10_000)
    polls.add_argument("--fresh-share", type=float, default=0.02, help="PBXs whose first poll is a 200")
    polls.add_argument("--rate", type=int, default=2000, help="offered load, polls per second")
    polls.add_argument("--seconds", type=float, default=15, help="length of one measured run")
    polls.add_argument(
        "--runs", type=int, default=3, help="measured runs; the median of each figure is reported"
    )
    polls.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    polls.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (gthread, keep-alive)"
    )
    polls.add_argument(
        "--connections", type=int, default=16, help="client threads, one keep-alive connection each"
    )
    polls.add_argument("--port", type=int, default=8766)
    polls.set_defaults(handler=_bench_licence_polls)

    bench = bench_sub.add_parser(
        "billrun", help="renewal bill run: renewals invoiced per second vs a COPY of the lines (PostgreSQL)"
    )
    bench.add_argument("--pbxs", type=int, default=10_000, help="PBXs renewing, 5 subscriptions each")
    bench.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    bench.add_argument("--workers", type=int, default=2, help="worker processes (Celery prefork-like)")
    bench.add_argument("--chunk", type=int, default=500, help="PBXs per chunk task")
    bench.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/pbxportal_bench_billrun",
        help="a scratch PostgreSQL database, dropped and created for the run",
    )
    bench.set_defaults(handler=_bench_billrun)

    rate = bench_sub.add_parser(
        "rate", help="calls rated per second from a Master.csv, against pyarrow's raw read"
    )
    rate.add_argument("--cdrs", type=int, default=1_000_000, help="call records in the generated file")
    rate.add_argument("--runs", type=int, default=3)
    rate.add_argument("--dir", help="where to keep the generated file (reused when present)")
    rate.set_defaults(handler=_bench_rate)
    imports = bench_sub.add_parser(
        "import", help="import-cdrs on PostgreSQL: records/s, peak RSS, ratio to COPY, 1st vs 10th file"
    )
    imports.add_argument("--cdrs", type=int, default=1_000_000, help="records in the big file")
    imports.add_argument(
        "--files", type=int, default=10, help="files imported one after the other into a month"
    )
    imports.add_argument("--file-cdrs", type=int, help="records per file (default: --cdrs / 10)")
    imports.add_argument("--dir", help="where to write the generated files")
    imports.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/pbxportal_bench_import",
        help="a scratch PostgreSQL database, dropped and created for the run",
    )
    imports.set_defaults(handler=_bench_import)
    ingest = bench_sub.add_parser(
        "ingest",
        help="call records posted in batches of 1,000 to the REST API over HTTP (gunicorn, PostgreSQL)",
    )
    ingest.add_argument("--batches", type=int, default=200, help="batches posted in all")
    ingest.add_argument("--batch", type=int, default=1000, help="records per batch (at most 10,000)")
    ingest.add_argument("--clients", type=int, default=4, help="client threads, one PBX and connection each")
    ingest.add_argument("--gzip", action="store_true", help="gzip the bodies (Content-Encoding: gzip)")
    ingest.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    ingest.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (gthread)")
    ingest.add_argument("--port", type=int, default=8766)
    ingest.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/pbxportal_bench_ingest",
        help="a scratch PostgreSQL database, dropped and created for the run",
    )
    ingest.set_defaults(handler=_bench_ingest)
    auth = bench_sub.add_parser(
        "authorize", help="live call authorisations per second and p99 over HTTP against a real server"
    )
    auth.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/pbxportal_bench_authorize",
        help="a scratch PostgreSQL database, dropped and created for the run",
    )
    auth.add_argument("--rate", type=int, default=1000, help="offered load, requests per second")
    auth.add_argument("--seconds", type=float, default=15, help="length of one measured run")
    auth.add_argument(
        "--runs", type=int, default=3, help="measured runs; the median of each figure is reported"
    )
    auth.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    auth.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (gthread, keep-alive)"
    )
    auth.add_argument(
        "--connections", type=int, default=16, help="client threads, one keep-alive connection each"
    )
    auth.add_argument("--port", type=int, default=8765)
    auth.set_defaults(handler=_bench_authorize)
