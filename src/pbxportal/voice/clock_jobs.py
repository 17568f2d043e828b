"""The voice trunk's work in the billing clock (R-CLK-1): on the 1st, the approved bundle switches
take effect (R-VT-5) and the previous month's usage is invoiced per PBX (R-VT-2..4); every minute
(short job) call-record uploads left queued or stalled are run again (issue 12)."""

from __future__ import annotations

from datetime import date, datetime

from pbxportal.clock.registry import daily_job, short_job
from pbxportal.voice import services
from pbxportal.voice.services import imports


@daily_job("voice_bundle_switches", order=50)
def bundle_switches(day: date) -> int:
    return services.bundle_switches_apply(day=day)


@daily_job("voice_usage_invoices", order=60)
def usage_invoices(day: date) -> int:
    return services.usage_invoices_due(day=day)


@short_job("voice_stalled_imports", order=60)
def stalled_imports(now: datetime) -> int:
    """Uploads left queued or stalled (a killed worker): run again, resumed (issue 12)."""
    return imports.stalled_imports_run(now)
