"""Housekeeping the billing clock runs every day (issue 13 item 9): tables that would otherwise
grow without limit are purged on the clock's schedule."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from pbxportal.clock.models import ClockDay
from pbxportal.clock.registry import daily_job
from pbxportal.common.idempotency import purge_expired


@daily_job("idempotency_purge", order=95)
def idempotency_purge(day: date) -> int:
    """Idempotency records past their TTL (R-API-2), by the wall clock: they no longer count."""
    return purge_expired(timezone.now())


@daily_job("clock_days_purge", order=99)
def clock_days_purge(day: date) -> int:
    """Clock-run rows older than CLOCK_DAY_RETENTION_DAYS; the latest finished day (where a run
    resumes) is always kept."""
    keep_from = day - timedelta(days=settings.CLOCK_DAY_RETENTION_DAYS)
    old = ClockDay.objects.filter(day__lt=keep_from)
    latest = ClockDay.objects.filter(finished_at__isnull=False).order_by("-day").first()
    if latest is not None:
        old = old.exclude(pk=latest.pk)
    deleted, _ = old.delete()
    return deleted
