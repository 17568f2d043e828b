"""Template context for every page: the vendor, the kind of user, the menus and breadcrumbs.

The menus are defined in one place, ``common/navigation.py`` (grouped, role-aware).
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pbxportal.common import navigation


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    is_partner = bool(user and user.is_authenticated and getattr(user, "partner_id", None))
    is_staff = bool(user and user.is_authenticated and getattr(user, "staff_role", ""))
    path = request.path
    return {
        "vendor_name": settings.VENDOR_NAME,
        "is_partner_user": is_partner,
        "is_staff_user": is_staff,
        "menu": navigation.menu_for(user, path),
        "home": navigation.home_for(user),
        "breadcrumbs": navigation.breadcrumbs(user, path),
        "may": navigation.may(user),
    }
