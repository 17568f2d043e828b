"""The overdue stages' daily work in the billing clock (R-INV-5, R-CLK-1)."""

from __future__ import annotations

from datetime import date

from pbxportal.clock.registry import daily_job
from pbxportal.overdue import services


@daily_job("overdue", order=60)
def overdue(day: date) -> int:
    return services.overdue_run(day=day)
