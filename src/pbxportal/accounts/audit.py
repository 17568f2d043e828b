"""The accounts domain's audit events (who changed what, when) in common.AuditEvent."""

from __future__ import annotations

from typing import Any

from django.db import models

from pbxportal.common.models import AuditEvent


def record(
    *, actor: Any, action: str, partner_id: int | None, obj: models.Model | None = None, **data: Any
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        partner_id=partner_id,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data,
    )
