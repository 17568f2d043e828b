"""``pbxportal import-cdrs`` and ``pbxportal rerate`` (R-VT-8, R-CLI-1)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from pbxportal.common.bench import bench_subparsers

MAX_ERRORS_SHOWN = 50


def _import(args: argparse.Namespace) -> int:
    from pbxportal.cli import _setup_django

    _setup_django()
    from django.conf import settings
    from tqdm import tqdm

    from pbxportal.core.rating import read_cdr_file
    from pbxportal.pbx.models import Pbx
    from pbxportal.voice.services import cdr_import

    pbx = None
    if args.pbx:
        pbx = Pbx.objects.select_related("partner").filter(serial=args.pbx).first()
        if pbx is None:
            print(f"import-cdrs: no PBX with serial {args.pbx!r}", file=sys.stderr)
            return 2
    try:
        with open(args.file, "rb") as handle:
            total = sum(1 for _ in handle)
        items = read_cdr_file(
            args.file,
            args.format,
            pbx=args.pbx,
            tz_name=args.timezone or settings.VENDOR_TIMEZONE,
            usegmtime=args.usegmtime,
        )
        with tqdm(
            total=total,
            unit="line",
            desc="import-cdrs",
            disable=not sys.stderr.isatty() and not args.progress,
        ) as bar:
            seen = 0

            def progress(line_no: int) -> None:
                nonlocal seen
                bar.update(line_no - seen)
                seen = line_no

            report = cdr_import(items=items, pbx=pbx, progress=progress)
            bar.update(total - seen)
    except (OSError, ValueError) as exc:
        print(f"import-cdrs: {exc}", file=sys.stderr)
        return 2
    for line, reason in report.errors[:MAX_ERRORS_SHOWN]:
        print(f"{args.file}:{line}: {reason}", file=sys.stderr)
    if len(report.errors) > MAX_ERRORS_SHOWN:
        print(f"... and {len(report.errors) - MAX_ERRORS_SHOWN} more bad lines", file=sys.stderr)
    print(
        f"import-cdrs: {report.accepted} records imported, {report.duplicates} duplicates skipped, "
        f"{len(report.errors)} bad lines; {len(report.months)} PBX-month(s) rated"
    )
    return 1 if report.errors else 0


def _rerate(args: argparse.Namespace) -> int:
    from pbxportal.cli import _setup_django

    _setup_django()
    from pbxportal.common.timeutil import vendor_today
    from pbxportal.voice.services import month_rerate

    try:
        year, month = (int(part) for part in args.month.split("-"))
        first = date(year, month, 1)
    except ValueError:
        print(f"rerate: --month must be YYYY-MM, not {args.month!r}", file=sys.stderr)
        return 2
    today = date.fromisoformat(args.date) if args.date else vendor_today()
    results = month_rerate(month=first, today=today, serial=args.pbx)
    for result in results:
        documents = [doc.number for doc in (result.invoice, result.credit_note) if doc is not None]
        print(
            f"PBX {result.pbx_id}: difference {result.difference:+.2f} {', '.join(str(d) for d in documents) or ''}".rstrip()
        )
    print(f"rerate {args.month}: {len(results)} PBX(s) rerated")
    return 0


def _bench_rate(args: argparse.Namespace) -> int:
    from pbxportal.voice.bench import bench_rate_run

    result = bench_rate_run(
        calls=args.cdrs, runs=args.runs, directory=Path(args.dir) if args.dir else None, say=_say
    )
    print(json.dumps(result, indent=2))
    return 0


def _bench_authorize(args: argparse.Namespace) -> int:
    from pbxportal.voice.bench import bench_authorize_run

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


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "import-cdrs",
        help="import call records (Asterisk Master.csv, FreeSWITCH CSV, portal CSV) and rate them",
    )
    parser.add_argument("file")
    parser.add_argument("--format", choices=["asterisk", "freeswitch", "csv"], required=True)
    parser.add_argument(
        "--pbx", help="serial of the PBX the file belongs to (default: accountcode / pbx column)"
    )
    parser.add_argument("--timezone", help="the PBX server's time zone (IANA name; default VENDOR_TIMEZONE)")
    parser.add_argument(
        "--usegmtime", action="store_true", help="Asterisk wrote UTC times (cdr.conf usegmtime)"
    )
    parser.add_argument(
        "--progress", action="store_true", help="show the progress bar when not on a terminal"
    )
    parser.set_defaults(handler=_import)

    rerate = sub.add_parser("rerate", help="rate a month again after a price correction; bill the difference")
    rerate.add_argument("--month", required=True, help="YYYY-MM")
    rerate.add_argument("--pbx", help="only this PBX (serial)")
    rerate.add_argument("--date", help="issue date of the adjustment documents (default: today)")
    rerate.set_defaults(handler=_rerate)

    bench_sub = bench_subparsers(sub)
    rate = bench_sub.add_parser(
        "rate", help="calls rated per second from a Master.csv, against pyarrow's raw read"
    )
    rate.add_argument("--cdrs", type=int, default=1_000_000, help="call records in the generated file")
    rate.add_argument("--runs", type=int, default=3)
    rate.add_argument("--dir", help="where to keep the generated file (reused when present)")
    rate.set_defaults(handler=_bench_rate)
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
