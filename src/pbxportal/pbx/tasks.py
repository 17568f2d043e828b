"""Short, time-driven jobs of a PBX, queued with a countdown; the clock is their backstop."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from pbxportal.pbx.models import Pbx, SshWindow
from pbxportal.pbx.services.lifecycle import pbx_activate, ssh_close_due
from pbxportal.pbx.services.renewals import billrun_chunk


@shared_task(name="pbxportal.pbx.tasks.activate_cloud_pbx")
def activate_cloud_pbx(pbx_id: int) -> bool:
    """R-PBX-3: a cloud PBX activates itself about 3 minutes after it is created."""
    pbx = Pbx.objects.filter(pk=pbx_id).first()
    return bool(pbx) and pbx_activate(pbx=pbx, now=timezone.now())  # type: ignore[arg-type]


@shared_task(name="pbxportal.pbx.tasks.close_ssh_window")
def close_ssh_window(window_id: int) -> int:
    """R-PBX-11: close an SSH window when its time is up (early runs close nothing)."""
    if not SshWindow.objects.filter(pk=window_id, closed_at__isnull=True).exists():
        return 0
    return ssh_close_due(now=timezone.now())


# The name is the one the task had in invoicing/, so chunks queued before a deploy still run.
@shared_task(name="pbxportal.invoicing.tasks.renew_chunk", acks_late=True)
def renew_chunk(run_id: int, pbx_ids: list[int], day_iso: str) -> int:
    """R-INV-2: one chunk of a bill run; safe to run twice (a worker killed mid-chunk)."""
    return billrun_chunk(run_id=run_id, pbx_ids=pbx_ids, day=date.fromisoformat(day_iso))
