"""The voice trunk's work in the billing clock (R-CLK-1): on the 1st, the approved bundle switches
take effect (R-VT-5) and the previous month's usage is invoiced per PBX (R-VT-2..4)."""

from __future__ import annotations

from datetime import date

from pbxportal.clock.registry import daily_job
from pbxportal.voice import services


@daily_job("voice_bundle_switches", order=50)
def bundle_switches(day: date) -> int:
    return services.bundle_switches_apply(day=day)


@daily_job("voice_usage_invoices", order=60)
def usage_invoices(day: date) -> int:
    return services.usage_invoices_due(day=day)
