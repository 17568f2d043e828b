"""``pbxportal import-cdrs`` and ``pbxportal rerate`` (R-VT-8, R-CLI-1)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

MAX_ERRORS_SHOWN = 50


def _import(args: argparse.Namespace) -> int:
    from pbxportal.cli import setup_django

    setup_django()
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
    from pbxportal.cli import setup_django

    setup_django()
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
