"""The portal's django-allauth adapter: no public sign-up, role-based landing page after login."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


def landing_url(user: Any) -> str:
    """Staff land on the staff dashboard, partner users on theirs (R-UI-1, docs/ui.md)."""
    return reverse("dashboard:staff") if getattr(user, "staff_role", "") else reverse("dashboard:partner")


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Users are invited by a partner admin or created by staff (docs/accounts.md).
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return landing_url(request.user)
