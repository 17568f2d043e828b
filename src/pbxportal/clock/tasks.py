from __future__ import annotations

from datetime import date

from celery import shared_task

from pbxportal.clock.services import clock_run, run_short
from pbxportal.common.timeutil import vendor_today


@shared_task(name="pbxportal.clock.tasks.run_clock")
def run_clock(date_iso: str | None = None) -> list[str]:
    """The daily beat entry: run the billing clock through ``date_iso`` (default: the vendor's today)."""
    until = date.fromisoformat(date_iso) if date_iso else vendor_today()
    return [d.isoformat() for d in clock_run(until=until)]


@shared_task(name="pbxportal.clock.tasks.run_short_jobs")
def run_short_jobs() -> dict[str, int]:
    """Every minute under beat: cloud activation and SSH closing on time."""
    return run_short()
