"""The subscription engine's work in the billing clock (R-CLK-1)."""

from __future__ import annotations

from datetime import date, datetime

from pbxportal.clock.registry import daily_job, short_job
from pbxportal.pbx import services
from pbxportal.pbx.billrun import billrun_day


@short_job("cloud_activation", order=10)
def cloud_activation(now: datetime) -> int:
    return services.cloud_activation_due(now=now)


@short_job("ssh_closing", order=20)
def ssh_closing(now: datetime) -> int:
    return services.ssh_close_due(now=now)


@daily_job("term_boundary", order=10)
def term_boundary(day: date) -> int:
    return services.term_boundary(day=day)


@daily_job("renewals", order=20)
def renewals(day: date) -> int:
    """R-PBX-5 through the bill run's fan-out (R-INV-2)."""
    return billrun_day(day=day)


@daily_job("renewal_reminders", order=30)
def reminders(day: date) -> int:
    return services.renewal_reminders(day=day)


@daily_job("deletion_countdown", order=40)
def deletion(day: date) -> int:
    return services.deletion_countdown(day=day)
