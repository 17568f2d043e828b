"""The billing clock's automatic-charge job (build item 6): scheduled retries fall due by day."""

from __future__ import annotations

from datetime import date

from pbxportal.clock.registry import daily_job


@daily_job("auto_charge", order=70)
def auto_charge(day: date) -> int:
    """Run every charge attempt scheduled on or before ``day`` (AUTO_CHARGE_RETRY_DAYS)."""
    from pbxportal.payments.methods import charges_due

    return charges_due(day)
