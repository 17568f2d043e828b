"""``pbxportal bench billrun --pbxs N`` (R-INV-2, R-CLI-1)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pbxportal.common.bench import bench_subparsers


def _bench_billrun(args: argparse.Namespace) -> int:
    from pbxportal.invoicing.bench import bench_billrun_run

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


def register(sub: Any) -> None:
    bench = bench_subparsers(sub).add_parser(
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
