"""The licensing app's work in the billing clock (R-CLK-1, R-LIC-1)."""

from __future__ import annotations

from datetime import date

from pbxportal.clock.registry import daily_job
from pbxportal.licensing import services


@daily_job("licence_sync", order=90)
def licence_sync(day: date) -> int:
    """After renewals, term ends and overdue stages: re-sign the licences that changed."""
    return services.licence_sync_all(day=day)
