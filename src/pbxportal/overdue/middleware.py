"""R-INV-5 at the door of the portal and the API.

* From the read-only stage (day 30) a partner's unsafe requests (POST, PUT, PATCH, DELETE) are
  refused, except paying (and logging in or out): the paths in ``READ_ONLY_ALLOWED`` or
  ``settings.OVERDUE_READ_ONLY_ALLOWED``.
* The first page a partner user opens after logging in, while in any stage, is its account
  balance, with the stage's warning.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from pbxportal.common.errors import RuleViolation
from pbxportal.common.timeutil import vendor_today
from pbxportal.overdue.policy import ensure_allowed, partner_state

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
READ_ONLY_ALLOWED = (
    "/login/",
    "/logout/",
    "/2fa/",
    "/reauthenticate/",
    "/password/",
    "/payments/",
    "/api/v1/payments/",
    "/i18n/",  # the language switch changes no data
)
BALANCE_URL = "payments:balance"
SESSION_KEY = "overdue_checked_for"


def _partner_user(request: HttpRequest) -> object | None:
    """The partner user of a session or a bearer API token (the API authenticates later, in ninja)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user if user.partner_id else None
    auth = request.headers.get("Authorization", "")
    if request.path.startswith("/api/") and auth.startswith("Bearer "):
        from pbxportal.accounts.services import api_token_authenticate

        found = api_token_authenticate(token=auth.removeprefix("Bearer ").strip())
        return found if found is not None and found.partner_id else None
    return None


class OverdueMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.allowed = READ_ONLY_ALLOWED + tuple(getattr(settings, "OVERDUE_READ_ONLY_ALLOWED", ()))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = _partner_user(request)
        if user is None:
            return self.get_response(request)
        partner_id = int(user.partner_id)  # type: ignore[attr-defined]
        if request.method not in SAFE_METHODS and not request.path.startswith(self.allowed):
            try:
                ensure_allowed(partner_id=partner_id, action="portal_write", today=vendor_today())
            except RuleViolation as exc:
                if request.path.startswith("/api/"):
                    return JsonResponse(exc.as_dict(), status=exc.status)
                return render(request, "common/error.html", {"error": exc}, status=exc.status)
        if (
            request.method == "GET"
            and not request.path.startswith("/api/")
            and hasattr(request, "session")
            and request.session.get(SESSION_KEY) != user.pk  # type: ignore[attr-defined]
        ):
            request.session[SESSION_KEY] = user.pk  # type: ignore[attr-defined]
            state = partner_state(partner_id=partner_id, today=vendor_today())
            if state.stage is not None and state.since is not None:
                messages.warning(
                    request,
                    _(
                        "Your account is %(days)s days overdue (since %(since)s): %(stage)s. "
                        "Please pay the overdue invoices (R-INV-5)."
                    )
                    % {"days": state.days, "since": state.since.isoformat(), "stage": state.stage.name},
                )
                if request.path != reverse(BALANCE_URL):
                    return redirect(BALANCE_URL)
        return self.get_response(request)
