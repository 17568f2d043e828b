"""The one audit helper: every service records who did what through ``audit`` (R-TEN-1: the event
carries the partner it belongs to, so partners only ever see their own)."""

from __future__ import annotations

from typing import Any

from pbxportal.common.actor import Actor
from pbxportal.common.models import AuditEvent


def audit(
    actor: Actor | None,
    action: str,
    *,
    partner_id: int | None,
    object_type: str = "",
    object_id: object = "",
    **data: Any,
) -> AuditEvent:
    """Append an ``AuditEvent``; ``data`` values are stored as strings."""
    return AuditEvent.objects.create(
        actor=actor.user if actor else None,
        partner_id=partner_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data={key: str(value) for key, value in data.items()},
    )
