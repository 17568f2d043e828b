"""Writes of notifications (issue 16 item 7).

``notify`` is called by the service that takes a decision, inside its transaction: the in-portal
rows are written with the decision (a rolled-back decision leaves none) and the emails go out
after the commit (``transaction.on_commit``), one per recipient, through Django's mail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from pbxportal.accounts.models import User
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.notifications.kinds import ROLES, Kind
from pbxportal.notifications.models import Notification, NotificationPreference

log = logging.getLogger(__name__)


def notify(
    *,
    partner_id: int,
    kind: Kind,
    title: str,
    body: str = "",
    link: str = "",
    extra_emails: Iterable[str] = (),
) -> list[Notification]:
    """Tell the users of a partner whose role cares about ``kind`` (``kinds.ROLES``), each as its
    preferences say (in the portal, by email; both unless turned off). ``extra_emails`` are
    addresses that are not users (a billing contact for renewal reminders, R-PBX-6); an address
    is mailed once even when it is also a user's."""
    users = list(
        User.objects.filter(partner_id=partner_id, partner_role__in=ROLES[kind], is_active=True).order_by(
            "pk"
        )
    )
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=users, kind=kind)}
    rows: list[Notification] = []
    emails: list[str] = []
    for user in users:
        preference = preferences.get(user.pk)
        if preference is None or preference.in_portal:
            rows.append(
                Notification(
                    partner_id=partner_id, user=user, kind=kind, title=title[:200], body=body, link=link
                )
            )
        if (preference is None or preference.email) and user.email:
            emails.append(user.email)
    emails += [address for address in extra_emails if address]
    created = Notification.objects.bulk_create(rows)
    recipients = list(dict.fromkeys(address.strip().lower() for address in emails))
    if recipients:
        text = render_to_string(
            "notifications/email.txt",
            {
                "title": title,
                "body": body,
                "link": _absolute(link),
                "preferences": _absolute("/notifications/preferences/"),
            },
        )
        subject = " ".join(title.split())  # one line: a header never carries a newline
        transaction.on_commit(lambda: _send(subject, text, recipients))
    return created


def _absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.PORTAL_BASE_URL.rstrip("/") + link


def _send(subject: str, text: str, recipients: list[str]) -> None:
    """One message per recipient (no addresses shown to others), over one SMTP connection. A mail
    server that refuses is logged: the decision is taken and the notification is in the portal."""
    try:
        with get_connection() as connection:
            connection.send_messages(
                [
                    EmailMessage(subject, text, None, [address], connection=connection)
                    for address in recipients
                ]
            )
    except Exception:
        log.exception("notification mail not sent: %s to %d recipient(s)", subject, len(recipients))


def _own(actor: Actor, notification_id: int) -> Notification:
    if not actor.is_partner and not actor.is_staff:
        raise ApplicationError(_("Not allowed."), status=403)
    return get_scoped(Notification.objects.filter(user_id=actor.user.pk), actor, pk=notification_id)


def notification_mark_read(
    *, actor: Actor, notification_id: int, now: datetime | None = None
) -> Notification:
    """Mark one of the actor's own notifications read (another user's answers 404, R-TEN-1)."""
    notification = _own(actor, notification_id)
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: Actor, now: datetime | None = None) -> int:
    return (
        scoped(Notification, actor)
        .filter(user_id=actor.user.pk, read_at__isnull=True)
        .update(read_at=now or timezone.now())
    )


def preferences_set(*, actor: Actor, choices: dict[str, tuple[bool, bool]]) -> None:
    """Set the actor's own preferences: ``{kind: (in_portal, email)}``; unknown kinds are refused."""
    unknown = sorted(set(choices) - set(Kind.values))
    if unknown:
        raise ApplicationError(
            _("kind: unknown notification kind %(kinds)s.") % {"kinds": ", ".join(unknown)},
            fields={"kind": "unknown"},
        )
    with transaction.atomic():
        for kind, (in_portal, email) in choices.items():
            NotificationPreference.objects.update_or_create(
                user_id=actor.user.pk, kind=kind, defaults={"in_portal": in_portal, "email": email}
            )
