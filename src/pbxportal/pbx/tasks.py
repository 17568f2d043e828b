"""Short, time-driven jobs of a PBX, queued with a countdown; the clock is their backstop."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from pbxportal.pbx.models import Pbx, SshWindow


@shared_task(name="pbxportal.pbx.tasks.activate_cloud_pbx")
def activate_cloud_pbx(pbx_id: int) -> bool:
    """R-PBX-3: a cloud PBX activates itself about 3 minutes after it is created."""
    from pbxportal.pbx.services import pbx_activate

    pbx = Pbx.objects.filter(pk=pbx_id).first()
    return bool(pbx) and pbx_activate(pbx=pbx, now=timezone.now())  # type: ignore[arg-type]


@shared_task(name="pbxportal.pbx.tasks.close_ssh_window")
def close_ssh_window(window_id: int) -> int:
    """R-PBX-11: close an SSH window when its time is up (early runs close nothing)."""
    from pbxportal.pbx.services import ssh_close_due

    if not SshWindow.objects.filter(pk=window_id, closed_at__isnull=True).exists():
        return 0
    return ssh_close_due(now=timezone.now())
