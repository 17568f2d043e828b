"""Reads of notifications: only the actor's own, through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import scoped
from pbxportal.notifications.kinds import Kind, kinds_for_role
from pbxportal.notifications.models import Notification, NotificationPreference


def notifications_of(actor: Actor, *, unread: bool = False) -> QuerySet[Notification]:
    qs = scoped(Notification, actor).filter(user_id=actor.user.pk)
    return qs.filter(read_at__isnull=True) if unread else qs


def unread_count(actor: Actor) -> int:
    return notifications_of(actor, unread=True).count()


@dataclass(frozen=True)
class Preference:
    kind: str
    label: str
    in_portal: bool
    email: bool


def preferences_of(actor: Actor) -> list[Preference]:
    """The kinds the actor's role is told about, each with its choice (both on by default)."""
    saved = {p.kind: p for p in NotificationPreference.objects.filter(user_id=actor.user.pk)}
    kinds = kinds_for_role(actor.partner_role) if actor.is_partner else list(Kind)
    return [
        Preference(
            kind=kind.value,
            label=str(kind.label),
            in_portal=saved[kind].in_portal if kind in saved else True,
            email=saved[kind].email if kind in saved else True,
        )
        for kind in kinds
    ]
