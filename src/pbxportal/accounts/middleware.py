"""MFA required: staff (settings.STAFF_MFA_REQUIRED) and users of a partner with ``mfa_required``
must set up TOTP before anything else; pages redirect to the set-up, the API answers 403."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from pbxportal.common.errors import error_body

# Sign-in, sign-out, the MFA pages themselves, static files and the probes stay reachable.
EXEMPT_PREFIXES = (
    "/2fa/",
    "/reauthenticate/",
    "/login/",
    "/logout/",
    "/password/",
    "/static/",
    "/healthz",
    "/metrics",
)


def mfa_required_for(user: object) -> bool:
    if getattr(user, "staff_role", ""):
        return bool(settings.STAFF_MFA_REQUIRED)
    partner = getattr(user, "partner", None)
    return bool(partner is not None and partner.mfa_required)


def has_totp(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and mfa_required_for(user)
            and not has_totp(user)
        ):
            if request.path.startswith("/api/"):
                body = error_body(
                    "mfa_required", "Set up two-factor authentication (TOTP) in the portal first."
                )
                return JsonResponse(body, status=403)
            return redirect("mfa_activate_totp")
        return self.get_response(request)
