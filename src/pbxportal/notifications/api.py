"""Notifications API (R-API-1) under /api/v1/notifications/: the caller's own list, mark read."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from pbxportal.common.api import actor_of
from pbxportal.common.pagination import Pagination
from pbxportal.common.schemas import Schema
from pbxportal.notifications import selectors, services
from pbxportal.notifications.models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    read_at: datetime | None
    created_at: datetime


class MarkedOut(Schema):
    marked: int


@router.get("/", response=list[NotificationOut])
@paginate(Pagination)
def notification_list(request: HttpRequest, unread: bool = False) -> QuerySet[Notification]:
    """The caller's notifications, newest first (``unread=true``: only those not read)."""
    return selectors.notifications_of(actor_of(request), unread=unread)


@router.post("/{notification_id}/read", response=NotificationOut)
def notification_read(request: HttpRequest, notification_id: int) -> Notification:
    return services.notification_mark_read(actor=actor_of(request), notification_id=notification_id)


@router.post("/read-all", response=MarkedOut)
def notifications_read_all(request: HttpRequest) -> dict[str, int]:
    return {"marked": services.notifications_mark_all_read(actor=actor_of(request))}
