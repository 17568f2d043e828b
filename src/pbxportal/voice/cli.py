"""``pbxportal import-cdrs`` and ``pbxportal rerate`` (R-VT-8, R-CLI-1)."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from typing import Any

MAX_ERRORS_SHOWN = 50


def _import(args: argparse.Namespace) -> int:
    from pbxportal.cli import setup_django

    setup_django()
    from tqdm import tqdm

    from pbxportal.pbx.models import Pbx
    from pbxportal.voice.pipeline import import_file

    pbx = None
    if args.pbx:
        pbx = Pbx.objects.select_related("partner").filter(serial=args.pbx).first()
        if pbx is None:
            print(f"import-cdrs: no PBX with serial {args.pbx!r}", file=sys.stderr)
            return 2
    try:
        with open(args.file, "rb") as handle:
            total = last = 0
            for block in iter(lambda: handle.read(1 << 20), b""):
                total += block.count(b"\n")
                last = block[-1]
            total += 1 if last not in (0, 10) else 0
        with tqdm(
            total=total,
            unit="line",
            unit_scale=True,
            desc="import-cdrs",
            disable=not sys.stderr.isatty() and not args.progress,
        ) as bar:
            seen = 0

            def progress(line_no: int, records: int) -> None:
                nonlocal seen
                bar.update(line_no - seen)
                seen = line_no

            result = import_file(
                args.file,
                cdr_format=args.format,
                pbx=pbx,
                tz_name=args.timezone,
                usegmtime=args.usegmtime,
                progress=progress,
            )
            bar.update(total - seen)
    except (OSError, ValueError) as exc:
        print(f"import-cdrs: {exc}", file=sys.stderr)
        return 2
    job = result.job
    if pbx is None:
        # Without --pbx: the job is the partner's when all its records are of that partner's PBXs.
        from pbxportal.voice.services import import_job_assign_partner

        job = import_job_assign_partner(job, pbx_ids=result.pbx_ids)
    shown = _print_problems(job.pk, args.file, MAX_ERRORS_SHOWN)
    if job.errors > shown:
        print(
            f"... {job.errors - shown} more: `pbxportal import-errors {job.pk}` or {_job_url(job.pk)}",
            file=sys.stderr,
        )
    rate = job.rows / result.seconds if result.seconds else 0.0
    print(
        f"import-cdrs: job {job.pk}: {job.rows} rows read = {job.stored} stored + {job.duplicates} duplicates"
        f" + {job.not_answered} not answered + {job.skipped_inbound} inbound + {job.skipped_internal} internal"
        f" + {job.skipped_feature} feature codes skipped + {job.bad_lines} bad lines;"
        f" rated {job.rated} ({job.free} free, {job.charged} charged),"
        f" {sum(job.rating_errors.values())} rating errors"
        + (f" ({', '.join(f'{k}: {v}' for k, v in job.rating_errors.items())})" if job.rating_errors else "")
        + f"; {len(result.months)} PBX-month(s) rated in {result.seconds:.1f} s ({rate:,.0f} rows/s)"
    )
    return result.exit_code


def _job_url(job_id: int) -> str:
    from django.conf import settings

    base = str(getattr(settings, "PORTAL_BASE_URL", "") or "").rstrip("/")
    return f"{base}/api/v1/voice/imports/{job_id}/problems.csv"


def _print_problems(job_id: int, name: str, limit: int | None) -> int:
    from pbxportal.voice.models import ImportProblem

    problems = ImportProblem.objects.filter(job_id=job_id).order_by("line", "id")
    if limit is not None:
        problems = problems[:limit]
    shown = 0
    for line, kind, reason in problems.values_list("line", "kind", "reason").iterator(chunk_size=5000):
        label = "not rated: " if kind == "rating" else ""
        print(f"{name}:{line}: {label}{reason}", file=sys.stderr)
        shown += 1
    return shown


def _import_errors(args: argparse.Namespace) -> int:
    from pbxportal.cli import setup_django

    setup_django()
    from pbxportal.voice.models import ImportJob

    job = ImportJob.objects.filter(pk=args.job).first()
    if job is None:
        print(f"import-errors: no import job {args.job}", file=sys.stderr)
        return 2
    if args.csv:
        from pbxportal.voice.selectors import import_problems_csv_rows

        writer = csv.writer(sys.stdout)
        for row in import_problems_csv_rows(job):
            writer.writerow(row)
        return 0
    _print_problems(job.pk, job.file_name, None)
    return 0


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
        help="import call records (Asterisk Master.csv, FreeSWITCH CSV, portal CSV) and rate them; "
        "exit 0: every row accounted for with no error, 1: some lines or records failed (the good ones "
        "kept), 2: nothing could be imported",
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

    errors = sub.add_parser("import-errors", help="every bad line and rating error of an import job")
    errors.add_argument("job", type=int)
    errors.add_argument("--csv", action="store_true", help="as CSV: line,kind,reason")
    errors.set_defaults(handler=_import_errors)

    rerate = sub.add_parser("rerate", help="rate a month again after a price correction; bill the difference")
    rerate.add_argument("--month", required=True, help="YYYY-MM")
    rerate.add_argument("--pbx", help="only this PBX (serial)")
    rerate.add_argument("--date", help="issue date of the adjustment documents (default: today)")
    rerate.set_defaults(handler=_rerate)
