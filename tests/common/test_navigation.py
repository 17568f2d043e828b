"""The menus in one place (common/navigation.py, R-UI-1): role-aware entries, the active entry,
breadcrumbs, and adding an entry as one line."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pbxportal.common import navigation
from pbxportal.common.navigation import BILLING, Entry, Group


def _partner(role: str) -> Any:
    return SimpleNamespace(is_authenticated=True, partner_id=1, partner_role=role, staff_role="")


def _staff(role: str) -> Any:
    return SimpleNamespace(is_authenticated=True, partner_id=None, partner_role="", staff_role=role)


def _labels(user: Any, path: str = "/") -> set[str]:
    return {e["label"] for g in navigation.menu_for(user, path) for e in g["entries"]}


def test_a_sales_user_is_not_offered_pay_and_a_billing_user_is() -> None:
    assert "Account balance" not in _labels(_partner("sales"))
    assert navigation.may(_partner("sales"))["pay"] is False
    assert "Account balance" in _labels(_partner("billing"))
    assert navigation.may(_partner("billing"))["pay"] is True
    assert navigation.may(_partner("admin"))["pay"] is True


def test_staff_see_invoices_and_pbxs_and_never_partner_actions() -> None:
    labels = _labels(_staff("customer_care"))
    assert {"Invoices", "PBXs", "Partners", "Bill runs"} <= labels
    assert not any(navigation.may(_staff("vendor_admin")).values())


def test_anonymous_users_get_no_menu() -> None:
    assert navigation.menu_for(SimpleNamespace(is_authenticated=False), "/") == []


@pytest.mark.django_db
def test_the_longest_matching_entry_is_active_and_named_in_the_breadcrumbs() -> None:
    user = _partner("admin")
    groups = navigation.menu_for(user, "/invoices/12/")
    active = [e["label"] for g in groups for e in g["entries"] if e["active"]]
    assert active == ["Invoices"]
    assert [g["label"] for g in groups if g["active"]] == ["Billing"]
    crumbs = [c["label"] for c in navigation.breadcrumbs(user, "/invoices/12/")]
    assert crumbs == ["Dashboard", "Billing", "Invoices"]


def test_adding_an_entry_is_one_line_and_an_unknown_page_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    menu = (
        Group(
            "Billing",
            (Entry("Invoices", "invoicing:list"), Entry("Credit notes", "invoicing:list", roles=BILLING)),
        ),
        Group("Later", (Entry("Not built yet", "nowhere:page"),)),
    )
    monkeypatch.setattr(navigation, "PARTNER_MENU", menu)
    assert _labels(_partner("billing")) == {"Invoices", "Credit notes"}
    assert _labels(_partner("sales")) == {"Invoices"}
    assert [g["label"] for g in navigation.menu_for(_partner("billing"), "/")] == ["Billing"]


def test_payment_methods_are_offered_to_billing_users_and_the_tax_report_to_the_vendor_admin() -> None:
    assert "Payment methods" in _labels(_partner("billing"))
    assert "Payment methods" in _labels(_partner("admin"))
    assert "Payment methods" not in _labels(_partner("sales"))
    assert "Tax report" in _labels(_staff("vendor_admin"))
    assert "Tax report" not in _labels(_staff("customer_care"))
