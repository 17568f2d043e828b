"""Template context for every page: the vendor, the kind of user, and the navigation.

Each app adds its own menu entries through ``partner_nav`` / ``staff_nav`` on its AppConfig
(lists of ``(label, url name)``), so a new app needs no edit of the base template.
"""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


def _nav(attribute: str) -> list[dict[str, str]]:
    items = []
    for config in apps.get_app_configs():
        for label, url_name in getattr(config, attribute, []):
            items.append({"label": label, "url": reverse(url_name)})
    return items


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    is_partner = bool(user and user.is_authenticated and getattr(user, "partner_id", None))
    is_staff = bool(user and user.is_authenticated and getattr(user, "staff_role", ""))
    return {
        "vendor_name": settings.VENDOR_NAME,
        "is_partner_user": is_partner,
        "is_staff_user": is_staff,
        "nav": _nav("partner_nav") if is_partner else _nav("staff_nav") if is_staff else [],
    }
