"""Notification pages (issue 16 item 7): the list, the bell partial, preferences. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.common.views import actor_of, paginate, portal_view
from pbxportal.notifications import selectors, services


@portal_view
def notification_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    unread_only = request.GET.get("unread") == "1"
    page = paginate(request, selectors.notifications_of(actor, unread=unread_only))
    return render(request, "notifications/list.html", {"page": page, "unread_only": unread_only})


@portal_view
def bell(request: HttpRequest) -> HttpResponse:
    """The bell alone, for htmx to refresh the count without reloading the page."""
    return render(
        request,
        "notifications/bell.html",
        {"notifications_unread": selectors.unread_count(actor_of(request))},
    )


@require_POST
@portal_view
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    services.notification_mark_read(actor=actor_of(request), notification_id=notification_id)
    return redirect("notifications:list")


@require_POST
@portal_view
def mark_all_read(request: HttpRequest) -> HttpResponse:
    done = services.notifications_mark_all_read(actor=actor_of(request))
    messages.success(request, _("%(count)d notification(s) marked read.") % {"count": done})
    return redirect("notifications:list")


@portal_view
def open_link(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification to its object: marks it read, then goes to the object's page."""
    notification = services.notification_mark_read(actor=actor_of(request), notification_id=notification_id)
    if notification.link and url_has_allowed_host_and_scheme(
        notification.link, allowed_hosts={request.get_host()}
    ):
        return redirect(notification.link)
    return redirect("notifications:list")


@portal_view
def preferences(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.preferences_of(actor)
    if request.method == "POST":
        services.preferences_set(
            actor=actor,
            choices={
                p.kind: (f"{p.kind}:in_portal" in request.POST, f"{p.kind}:email" in request.POST)
                for p in current
            },
        )
        messages.success(request, _("Notification preferences saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"preferences": current})
