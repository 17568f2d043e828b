"""The vendor's day: a day boundary is midnight in settings.VENDOR_TIMEZONE (not UTC)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def vendor_tz() -> ZoneInfo:
    return ZoneInfo(settings.VENDOR_TIMEZONE)


def vendor_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(vendor_tz()).date()


def day_start(day: date) -> datetime:
    """The first instant of a vendor day, timezone-aware."""
    return datetime.combine(day, time.min, tzinfo=vendor_tz())


def day_end(day: date) -> datetime:
    """The first instant after a vendor day (half-open: [day_start, day_end))."""
    return day_start(day + timedelta(days=1))
