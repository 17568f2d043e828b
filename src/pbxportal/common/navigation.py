"""The portal's menus, in one place (R-UI-1): grouped, role-aware, with the active entry marked.

Adding a page to a menu is one line in ``PARTNER_MENU`` or ``STAFF_MENU``::

    Entry(gettext_noop("Credit notes"), "invoicing:credit_notes", roles=BILLING),

Labels are marked with ``gettext_noop`` and translated when the menu is built (the page's language,
locale/it/LC_MESSAGES/django.po); ``key`` keeps the English label for ``data-menu-group``.

``roles`` lists the partner roles (for ``PARTNER_MENU``) or staff roles (for ``STAFF_MENU``) that
see the entry; ``None`` means every role of that side. The roles here only decide what a user is
*offered*; the services still check the role of every action (``Actor.require_partner_role``).
Which partner roles may do what mirrors those checks (``ACTIONS``), so a menu never offers what
the service would refuse (a sales user is not offered Pay). See docs/ui.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_noop

# Partner roles (accounts.PartnerRole); "admin" passes every partner check.
ADMIN = frozenset({"admin"})
SALES = frozenset({"admin", "sales"})
BILLING = frozenset({"admin", "billing"})
ORDERING = frozenset({"admin", "sales", "technician"})  # hardware and number orders
SELLING_OR_BILLING = frozenset({"admin", "sales", "billing"})  # expansions, service orders

# What a partner role may do, as the services check it (names used in templates as ``may.pay``).
ACTIONS: dict[str, frozenset[str]] = {
    "pay": BILLING,  # payments.services: require_partner_role("billing")
    "order_hardware": ORDERING,
    "order_numbers": ORDERING,
    "buy_expansions": SELLING_OR_BILLING,
    "change_services": SELLING_OR_BILLING,
    "manage_customers": SALES,
}


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    roles: frozenset[str] | None = None
    # Other URL prefixes that belong to this entry (for the active state), e.g. a detail page.
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    label: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)


PARTNER_MENU: tuple[Group, ...] = (
    Group(
        gettext_noop("Customers & PBXs"),
        (
            Entry(gettext_noop("Customers"), "accounts:dashboard"),
            Entry(gettext_noop("PBXs"), "pbx:list", also=("/subscriptions/",)),
            Entry(gettext_noop("Numbers"), "voice:numbers", also=("/number-orders/", "/number-documents/")),
            Entry(gettext_noop("Price book"), "catalog:price_book"),
            Entry(gettext_noop("Documents"), "catalog:documents"),
        ),
    ),
    Group(
        gettext_noop("Orders"),
        (
            Entry(gettext_noop("Hardware orders"), "hardware:orders", roles=ORDERING),
            Entry(gettext_noop("HWaaS agreements"), "hardware:agreements", roles=ORDERING),
            Entry(gettext_noop("Expansion orders"), "expansions:orders"),
        ),
    ),
    Group(
        gettext_noop("Billing"),
        (
            Entry(gettext_noop("Invoices"), "invoicing:list"),
            Entry(gettext_noop("Account balance"), "payments:balance", roles=BILLING),
            Entry(gettext_noop("Payment methods"), "payments:methods", roles=BILLING),
            Entry(gettext_noop("Billing contacts"), "accounts:billing_contacts", roles=SELLING_OR_BILLING),
        ),
    ),
    Group(
        gettext_noop("Account"),
        (
            Entry(gettext_noop("Users"), "accounts:users", roles=ADMIN),
            Entry(gettext_noop("API tokens"), "accounts:api_tokens", roles=ADMIN),
            Entry(gettext_noop("Audit trail"), "accounts:audit", roles=ADMIN),
            Entry(gettext_noop("Notifications"), "notifications:list"),
            Entry(gettext_noop("Notification preferences"), "notifications:preferences"),
            Entry(gettext_noop("Security (two-factor)"), "mfa_index", also=("/accounts/",)),
        ),
    ),
)

STAFF_MENU: tuple[Group, ...] = (
    Group(
        gettext_noop("Partners"),
        (
            Entry(gettext_noop("Partners"), "accounts:staff_partners"),
            Entry(gettext_noop("PBXs"), "pbx:list"),
            Entry(gettext_noop("Price books"), "catalog:staff_price_books"),
            Entry(gettext_noop("Document templates"), "catalog:documents", also=("/staff/documents/",)),
        ),
    ),
    Group(
        gettext_noop("Review"),
        (
            Entry(gettext_noop("Corrections"), "pbx:staff_corrections"),
            Entry(gettext_noop("HWaaS agreements"), "hardware:staff_agreements"),
            Entry(gettext_noop("Number documents"), "voice:staff_number_orders"),
            Entry(gettext_noop("Bundle switches"), "voice:staff_bundle_switches"),
        ),
    ),
    Group(
        gettext_noop("Hardware"),
        (
            Entry(gettext_noop("Hardware orders"), "hardware:staff_orders"),
            Entry(gettext_noop("Stock"), "hardware:staff_stock"),
        ),
    ),
    Group(
        gettext_noop("Billing"),
        (
            Entry(gettext_noop("Invoices"), "invoicing:list"),
            Entry(gettext_noop("Bill runs"), "invoicing:billruns"),
            Entry(gettext_noop("Offline payments"), "payments:staff_offline"),
            Entry(gettext_noop("Overdue"), "overdue:staff_list"),
            Entry(gettext_noop("Tax report"), "invoicing:tax_report", roles=frozenset({"vendor_admin"})),
        ),
    ),
    Group(
        gettext_noop("Account"),
        (
            Entry(gettext_noop("Audit trail"), "accounts:audit"),
            Entry(gettext_noop("Service tokens"), "accounts:api_tokens"),
            Entry(gettext_noop("Security (two-factor)"), "mfa_index", also=("/accounts/",)),
        ),
    ),
)

HOME = {
    "partner": (gettext_noop("Dashboard"), "dashboard:partner"),
    "staff": (gettext_noop("Dashboard"), "dashboard:staff"),
}


def _role_of(user: Any) -> tuple[str, str]:
    """("partner", role) or ("staff", role) or ("", "")."""
    if not getattr(user, "is_authenticated", False):
        return "", ""
    if getattr(user, "partner_id", None):
        return "partner", user.partner_role
    if getattr(user, "staff_role", ""):
        return "staff", user.staff_role
    return "", ""


def allowed(entry: Entry, side: str, role: str) -> bool:
    if entry.roles is None:
        return True
    # vendor_admin passes every staff check, as Actor.require_staff does.
    return role in entry.roles or (side == "staff" and role == "vendor_admin")


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:  # an app not installed: its entries are simply not offered
        return None


def menu_for(user: Any, path: str) -> list[dict[str, Any]]:
    """The groups and entries this user may see, each entry with ``url`` and ``active``."""
    side, role = _role_of(user)
    groups = PARTNER_MENU if side == "partner" else STAFF_MENU if side == "staff" else ()
    result = []
    for group in groups:
        entries = []
        for entry in group.entries:
            url = _url(entry.url_name)
            if url is None or not allowed(entry, side, role):
                continue
            active = path.startswith(url) or any(path.startswith(p) for p in entry.also)
            # ``label`` in the page's language; ``key`` the English label (data-menu-group, tests).
            entries.append({"label": gettext(entry.label), "key": entry.label, "url": url, "active": active})
        if entries:
            result.append(
                {
                    "label": gettext(group.label),
                    "key": group.label,
                    "entries": entries,
                    "active": any(e["active"] for e in entries),
                }
            )
    # Only the longest match stays active (``/pbxs/`` and ``/pbxs/1/expansions/`` both match).
    _keep_longest_active(result)
    return result


def _keep_longest_active(groups: list[dict[str, Any]]) -> None:
    active = [e for g in groups for e in g["entries"] if e["active"]]
    if len(active) <= 1:
        return
    best = max(active, key=lambda e: len(e["url"]))
    for group in groups:
        for entry in group["entries"]:
            entry["active"] = entry is best
        group["active"] = any(e["active"] for e in group["entries"])


def home_for(user: Any) -> dict[str, str] | None:
    side, _ = _role_of(user)
    if side not in HOME:
        return None
    label, url_name = HOME[side]
    url = _url(url_name)
    return {"label": gettext(label), "url": url} if url else None


def may(user: Any) -> dict[str, bool]:
    """What the user may do, by action name (``{% if may.pay %}`` in templates)."""
    side, role = _role_of(user)
    if side == "staff":
        return dict.fromkeys(ACTIONS, False)
    return {name: side == "partner" and role in roles for name, roles in ACTIONS.items()}


def breadcrumbs(user: Any, path: str) -> list[dict[str, str]]:
    """Home > group > entry for the active entry; a page adds its own last crumb in its template."""
    home = home_for(user)
    crumbs = [home] if home else []
    for group in menu_for(user, path):
        for entry in group["entries"]:
            if entry["active"]:
                crumbs.append({"label": group["label"], "url": ""})
                crumbs.append({"label": entry["label"], "url": entry["url"]})
    return crumbs
