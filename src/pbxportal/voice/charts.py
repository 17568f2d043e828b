"""Data of the usage page's charts (R-UI-1, issue 16): the allowance used day by day against the
pool, and the cost by call area. Reads only; the page draws them with Chart.js (vendored) and keeps
the numbers in a table beside each chart."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncDate

from pbxportal.common.timeutil import vendor_tz
from pbxportal.core.rating.tariff import AREAS
from pbxportal.pbx.models import Pbx
from pbxportal.voice.models import CallRecord, UsageMonth


def allowance_by_day(*, pbx: Pbx, month: date, usage: UsageMonth | None) -> dict[str, Any]:
    """Minutes of the allowance used, cumulative per day of the month (vendor's time zone), and
    the pool in minutes (0 without a bundle)."""
    days = calendar.monthrange(month.year, month.month)[1]
    per_day = {
        row["day"]: int(row["used"] or 0)
        for row in CallRecord.objects.filter(pbx_id=pbx.pk, month=month, rated_at__isnull=False)
        .annotate(day=TruncDate("start", tzinfo=vendor_tz()))
        .values("day")
        .annotate(used=Sum("free_seconds"))
    }
    running = 0
    used = []
    for day in range(1, days + 1):
        running += per_day.get(month.replace(day=day), 0)
        used.append(running // 60)
    return {
        "labels": [str(day) for day in range(1, days + 1)],
        "used": used,
        "pool": (usage.allowance_seconds // 60) if usage else 0,
    }


def cost_by_area(lines: list[Any]) -> dict[str, Any]:
    """The month's amount per call area (from the usage lines, each rounded once, R-CAT-6)."""
    totals = {area: Decimal(0) for area in AREAS}
    for line in lines:
        if line.area in totals and line.amount is not None:
            totals[line.area] += Decimal(str(line.amount))
    return {"labels": list(totals), "amounts": [str(v) for v in totals.values()]}
