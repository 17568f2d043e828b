"""``pbxportal clock [--date YYYY-MM-DD] [--since YYYY-MM-DD]`` (R-CLK-1, R-CLI-1)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from pbxportal.cli import setup_django

    setup_django()
    from tqdm import tqdm

    from pbxportal.clock.services import clock_run, first_day
    from pbxportal.common.timeutil import vendor_today

    try:
        until = date.fromisoformat(args.date) if args.date else vendor_today()
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError as exc:
        print(f"clock: --date/--since must be YYYY-MM-DD ({exc})", file=sys.stderr)
        return 2
    start = since or first_day(until)
    total = max((until - start).days + 1, 0)
    if total == 0:
        print(f"clock: nothing to do, the clock has run through {until.isoformat()} already.")
        return 0
    done: dict[str, int] = {}
    with tqdm(
        total=total, unit="day", desc="clock", disable=not sys.stderr.isatty() and not args.progress
    ) as bar:

        def progress(day: date, results: dict[str, int]) -> None:
            for name, count in results.items():
                done[name] = done.get(name, 0) + count
            bar.set_postfix_str(day.isoformat())
            bar.update(1)

        clock_run(until=until, since=since, progress=progress)
    summary = ", ".join(f"{name}: {count}" for name, count in done.items() if count) or "nothing due"
    print(f"clock: ran {total} day(s) {start.isoformat()} .. {until.isoformat()}; {summary}")
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("clock", help="run the billing clock through a date (R-CLK-1); idempotent")
    parser.add_argument("--date", help="run through this vendor day (default: today in VENDOR_TIMEZONE)")
    parser.add_argument("--since", help="start at this day instead of the day after the last run")
    parser.add_argument(
        "--progress", action="store_true", help="show a progress bar even when not on a terminal"
    )
    parser.set_defaults(handler=_run)
