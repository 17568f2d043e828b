"""Seed a real database (not pytest's test database) for the process-set and backup tests.

Run in a subprocess against the database the test created, e.g.::

    DATABASE_URL=postgres://.../ops_smoke python -m tests.ops.seed renewal --start 2026-01-10

prints ``{"pbx_id": 1, "renewal_day": "2026-02-09", "invoices": 1}``: a monthly PBX of a partner
with a default billing contact, its first term invoiced, renewed (R-PBX-5) by the clock on
``renewal_day``, the last day of its first term. ``clock --until DAY`` runs the clock in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from typing import Any


def seed_renewal(*, start: date, licences: int = 4) -> dict[str, Any]:
    from pbxportal.invoicing.models import Invoice
    from tests.pbx.builders import World

    world = World()
    pbx = world.pbx(term="monthly", start=start, licences={"UC-BUSINESS": licences}, name="smoke-pbx")
    assert pbx.expires_on is not None
    return {
        "pbx_id": pbx.pk,
        "renewal_day": (pbx.expires_on - timedelta(days=1)).isoformat(),
        "invoices": Invoice.objects.count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ops.seed")
    sub = parser.add_subparsers(dest="command", required=True)
    renewal = sub.add_parser("renewal")
    renewal.add_argument("--start", type=date.fromisoformat, required=True)
    clock = sub.add_parser("clock")
    clock.add_argument("--until", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbxportal.config.settings")
    import django

    django.setup()
    if args.command == "renewal":
        print(json.dumps(seed_renewal(start=args.start)))
    else:
        from pbxportal.clock.services import clock_run

        print(json.dumps([d.isoformat() for d in clock_run(until=args.until)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
