"""Growth (issue 13 item 9): idempotency records and clock-run rows are purged by the daily clock
(R-CLK-1), so neither grows without limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.utils import timezone

from pbxportal.clock.models import ClockDay
from pbxportal.clock.services import run_day
from pbxportal.common.models import IdempotencyRecord
from pbxportal.common.timeutil import vendor_today


def test_the_daily_clock_purges_old_idempotency_records_and_clock_days(db: Any) -> None:
    # given an idempotency record of 25 hours ago, one of an hour ago, and 500 days of clock runs
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=25), tick=False):
        IdempotencyRecord.objects.create(scope="s", key="old", request_hash="h", status=201)
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        IdempotencyRecord.objects.create(scope="s", key="new", request_hash="h", status=201)
    today = vendor_today()
    ClockDay.objects.bulk_create(
        ClockDay(day=today - timedelta(days=n), finished_at=now) for n in range(1, 501)
    )
    # when the clock runs today
    results = run_day(today)
    # then the expired record and the clock days beyond 400 are gone, the rest kept
    assert results["idempotency_purge"] == 1 and results["clock_days_purge"] == 100
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert ClockDay.objects.count() == 401
    assert ClockDay.objects.order_by("day").first().day == today - timedelta(days=400)
