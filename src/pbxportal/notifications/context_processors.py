"""The bell in the top bar: the logged-in partner user's unread count (one count query)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from pbxportal.common.actor import Actor
from pbxportal.notifications.selectors import unread_count


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and getattr(user, "partner_id", None)):
        return {}
    return {"notifications_unread": unread_count(Actor(user=user))}
