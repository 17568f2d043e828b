"""The billing clock (R-CLK-1): one idempotent entry point for all date-driven work.

``clock_run(until)`` runs every vendor day after the last finished one, up to ``until``, in date
order, so jumping 40 days catches up every missed event in order, and running a date twice
changes nothing. A day that fails part-way is not marked finished and is run again (every job
is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from pbxportal.clock.models import ClockDay
from pbxportal.clock.registry import daily_jobs, short_jobs
from pbxportal.common.timeutil import day_end
from pbxportal.pbx.models import Pbx

Progress = Callable[[date, dict[str, int]], None]


def first_day(until: date) -> date:
    """Where a clock that never ran starts: the earliest PBX start, so nothing is skipped."""
    last = ClockDay.objects.filter(finished_at__isnull=False).order_by("-day").first()
    if last is not None:
        return last.day + timedelta(days=1)
    earliest = Pbx.objects.aggregate(first=Min("anchor_date"))["first"]
    return min(earliest, until) if earliest else until


def run_day(day: date) -> dict[str, int]:
    """All jobs of one vendor day, the short jobs first with the day's last instant as backstop."""
    record, _ = ClockDay.objects.get_or_create(day=day)
    results: dict[str, int] = {}
    instant = day_end(day) - timedelta(microseconds=1)
    for job in short_jobs():
        results[job.name] = job.fn(instant)
    for job in daily_jobs():
        results[job.name] = job.fn(day)
    record.results = results
    record.finished_at = timezone.now()
    record.save(update_fields=["results", "finished_at"])
    return results


def clock_run(*, until: date, since: date | None = None, progress: Progress | None = None) -> list[date]:
    """Run every day from the first unfinished one (or ``since``) through ``until``."""
    day = since or first_day(until)
    done = []
    while day <= until:
        results = run_day(day)
        if progress:
            progress(day, results)
        done.append(day)
        day += timedelta(days=1)
    return done


def run_short(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {job.name: job.fn(now) for job in short_jobs()}
