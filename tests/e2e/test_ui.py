"""The portal UI (R-UI-1, issue 16): menus in one place and role-aware, pages that fit a phone,
no WCAG 2.1 A/AA violation (axe-core), the dashboard as the landing page."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import Page, expect

from pbxportal.accounts.models import PartnerRole, User
from pbxportal.common.timeutil import vendor_today
from pbxportal.expansions.models import ExpansionOrder
from pbxportal.hardware.models import HardwareOrder
from pbxportal.invoicing.models import Invoice
from pbxportal.pbx import services as pbx_services
from pbxportal.pbx.models import Pbx
from pbxportal.voice.models import NumberOrder
from tests.e2e.conftest import Login, log_out, menu_entries, open_menu
from tests.pbx.builders import World

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1366, "height": 900}


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _axe_violations(page: Page) -> list[dict[str, object]]:
    # Evaluated through the DevTools protocol: the portal's Content-Security-Policy (script-src
    # 'self', issue 13) rightly refuses an inline <script>, and the pages keep it while checked.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        WCAG_21_AA,
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result
    ]


def _detail_pages(username: str) -> list[str]:
    """The detail pages of the demo data this user reaches from its lists (demo/activity.py): the
    PBX workspace with a voice trunk, its usage, an overdue invoice, the orders."""
    milano = Pbx.objects.get(name="rossi-milano")
    overdue = Invoice.objects.get(pbx__name="rossi-magazzino", status="overdue")
    hardware = HardwareOrder.objects.get(pbx=milano)
    number_order = NumberOrder.objects.get(pbx__name="bianchi-cloud")
    expansion = ExpansionOrder.objects.get(pbx__name="lakeside-resort")
    pages = [
        reverse("pbx:detail", args=[milano.pk]),
        reverse("voice:usage", args=[milano.pk]),
        reverse("invoicing:detail", args=[overdue.pk]),
    ]
    if username == "admin":  # the vendor admin
        pages += [
            reverse("pbx:detail", args=[Pbx.objects.get(name="lakeside-resort").pk]),
            reverse("hardware:staff_order_detail", args=[hardware.pk]),
            reverse("expansions:order_detail", args=[expansion.pk]),
        ]
    else:
        pages += [
            reverse("hardware:order_detail", args=[hardware.pk]),
            reverse("voice:number_order", args=[number_order.pk]),
        ]
    return pages


def _every_menu_page(page: Page, check: object, username: str = "") -> dict[str, object]:
    """Open every page of the menu the user sees, and with ``username`` the demo data's detail pages
    (each tab of a PBX workspace opened in turn); ``check(page)`` returns a problem or None."""
    problems: dict[str, object] = {}
    page.goto("/dashboard/")
    urls = ["/dashboard/"] + [url for _, _, url in menu_entries(page)]
    for url in urls + (_detail_pages(username) if username else []):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        tabs = page.get_by_role("tab").all()
        for tab in tabs or [None]:
            name = url
            if tab is not None:
                tab.click()
                name = f"{url}#{tab.get_attribute('aria-controls')}"
            problem = check(page)  # type: ignore[operator]
            if problem:
                problems[name] = problem
    return problems


def test_no_menu_page_is_wider_than_a_phone(page: Page, login: Login, demo_data: dict[str, str]) -> None:
    # given a partner admin and a vendor admin on a 390 px wide phone
    page.set_viewport_size(PHONE)
    for username in ("alpha-admin", "admin"):
        login(page, username, demo_data[username])
        # when they open every page of their menu
        too_wide = _every_menu_page(
            page, lambda p: _page_width(p) if _page_width(p) > PHONE["width"] else None, username
        )
        # then no page is wider than the screen (wide tables scroll inside their box)
        assert too_wide == {}, f"{username}: pages wider than {PHONE['width']} px: {too_wide}"
        log_out(page)


def test_the_layout_fits_tablet_and_desktop(page: Page, login: Login, demo_data: dict[str, str]) -> None:
    # given a partner admin / when the dashboard and the PBX list are shown at 768 and 1366 px
    login(page, "alpha-admin", demo_data["alpha-admin"])
    for size in (TABLET, DESKTOP):
        page.set_viewport_size(size)
        for url in ("/dashboard/", "/pbxs/", "/invoices/"):
            page.goto(url)
            # then nothing overflows the width
            assert _page_width(page) <= size["width"], (url, size)
    # and at 1366 px the menu is shown open, at 768 px it is behind the toggle
    page.set_viewport_size(DESKTOP)
    expect(page.locator(".navbar-toggler")).to_be_hidden()
    page.set_viewport_size(TABLET)
    expect(page.locator(".navbar-toggler")).to_be_visible()


def test_axe_finds_no_wcag_violation_on_the_partner_admins_pages(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given the demo partner admin, whose demo data has PBXs, invoices and orders
    # when every page of its menu, each PBX workspace tab and the detail pages are checked by axe-core
    login(page, "alpha-admin", demo_data["alpha-admin"])
    violations = _every_menu_page(page, _axe_violations, "alpha-admin")
    # then none has a WCAG 2.1 A or AA violation
    assert violations == {}, json.dumps(violations, indent=1)


def test_axe_finds_no_wcag_violation_on_the_vendor_admins_pages(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    login(page, "admin", demo_data["admin"])
    violations = _every_menu_page(page, _axe_violations, "admin")
    assert violations == {}, json.dumps(violations, indent=1)


def test_menus_are_grouped_role_aware_and_mark_the_active_page(page: Page, login: Login) -> None:
    # given a partner with an admin and a sales user, and a vendor admin
    world = World()
    User.objects.create_user(
        "p-sales", password="x" * 12, partner=world.partner, partner_role=PartnerRole.SALES
    )

    # when the partner admin opens its invoices from the Billing menu
    login(page, "p-admin", "x" * 12)
    groups = {group for group, _, _ in menu_entries(page)}
    assert groups == {"Customers & PBXs", "Orders", "Billing", "Account"}
    open_menu(page, "Billing", "Invoices")
    # then the entry and its group are marked active, and the breadcrumbs name them
    expect(page.locator(".dropdown-item.active")).to_have_text("Invoices")
    expect(page.locator(".dropdown-item.active")).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-menu-group='Billing'] > button")).to_have_class(
        "nav-link dropdown-toggle btn btn-link active"
    )
    expect(page.locator(".breadcrumb")).to_contain_text("Billing")
    admin_entries = {entry for _, entry, _ in menu_entries(page)}
    assert {"Account balance", "API tokens"} <= admin_entries

    # when the sales user logs in, it is not offered what its role may not do (Pay, API tokens)
    log_out(page)
    login(page, "p-sales", "x" * 12)
    sales_entries = {entry for _, entry, _ in menu_entries(page)}
    assert "Account balance" not in sales_entries
    assert "API tokens" not in sales_entries
    assert {"Customers", "PBXs", "Invoices"} <= sales_entries
    # and a role is shown in words
    expect(page.locator(".who")).to_contain_text("(Sales)")

    # when the vendor admin logs in, its menu has Invoices and PBXs, and the invoice list names partners
    pbx = world.pbx(start=vendor_today())
    invoice = Invoice.objects.filter(pbx=pbx).exclude(number=None).get()
    log_out(page)
    login(page, "care", "x" * 12)
    staff_entries = {entry for _, entry, _ in menu_entries(page)}
    assert {"Invoices", "PBXs", "Partners", "Bill runs", "Overdue"} <= staff_entries
    expect(page.locator(".who")).to_contain_text("Vendor admin")
    open_menu(page, "Billing", "Invoices")
    row = page.locator("tr", has_text=str(invoice.number))
    expect(row.locator(".invoice-partner")).to_have_text("P")
    open_menu(page, "Partners", "PBXs")
    expect(page.locator("main")).to_contain_text(pbx.name)


def test_partner_admin_lands_on_the_dashboard_and_reaches_each_item_in_one_click(
    page: Page, login: Login
) -> None:
    # given a partner with a PBX filed for a correction today, and a yearly PBX started 350 days
    # ago (its term ends in 15 days) whose first invoice fell due yesterday
    world = World()
    today = vendor_today()
    fresh = world.pbx(start=today, name="fresh-pbx")
    correction = pbx_services.correction_file(
        actor=world.actor, pbx_id=fresh.pk, change_date=today, quantities={"UC-BUSINESS": 3}, today=today
    )
    old = world.pbx(start=today - timedelta(days=350), name="old-pbx")
    overdue = Invoice.objects.filter(pbx=old).exclude(number=None).order_by("id").first()
    assert overdue is not None
    Invoice.objects.filter(pk=overdue.pk).update(due_on=today - timedelta(days=1))

    # when the partner admin logs in, it lands on the dashboard
    login(page, "p-admin", "x" * 12)
    expect(page).to_have_url(f"{page.url.split('/dashboard/')[0]}/dashboard/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("#balance .overdue-amount")).not_to_have_text("0.00 EUR")

    # then one click on the expiring PBX opens it
    page.locator("#expiring").get_by_role("link", name="old-pbx").click()
    expect(page).to_have_url(f"{page.url.split('/pbxs/')[0]}/pbxs/{old.pk}/")
    page.go_back()
    # and one click on the overdue invoice opens it
    page.locator("#overdue-invoices").get_by_role("link", name=str(overdue.number)).click()
    expect(page.locator("h1")).to_contain_text(str(overdue.number))
    page.go_back()
    # and one click on the pending order (the filed correction) opens its PBX
    page.locator("#open-orders").get_by_role("link", name=f"#{correction.pk} on fresh-pbx").click()
    expect(page).to_have_url(f"{page.url.split('/pbxs/')[0]}/pbxs/{fresh.pk}/#corrections")
    # (the PBX workspace opens on its Corrections tab, listing the filed correction)
    expect(page.get_by_role("tab", name="Corrections")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#corrections")).to_be_visible()
    expect(page.locator("#corrections tbody tr")).to_have_count(1)


def test_the_pbx_workspace_has_tabs_and_a_short_page(page: Page, login: Login) -> None:
    # given a partner with a cloud PBX, on a 1366 px screen
    world = World()
    pbx = world.pbx(start=vendor_today(), cloud=True, name="tabbed")
    page.set_viewport_size(DESKTOP)
    login(page, "p-admin", "x" * 12)
    page.goto(f"/pbxs/{pbx.pk}/")
    # then the workspace has its tabs, the overview open and the rest behind their tabs
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_text(
        [
            "Overview",
            "Licences",
            "Services",
            "Voice and numbers",
            "Hardware",
            "Licence and SSH",
            "Corrections",
            "Invoices",
            "History",
        ]
    )
    expect(page.locator("#overview")).to_be_visible()
    expect(page.locator("#service_product_code")).to_be_hidden()
    assert int(page.evaluate("document.documentElement.scrollHeight")) < 1400
    # when it opens the Services tab, the service form shows and the address names the tab
    page.get_by_role("tab", name="Services").click()
    expect(page.locator("#service_product_code")).to_be_visible()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#services")
    # and a reload lands on the same tab
    page.reload()
    expect(page.locator("#service_product_code")).to_be_visible()


def test_the_axe_check_reports_a_violation_when_there_is_one(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given a page of the portal with an unlabelled input added to it
    login(page, "alpha-admin", demo_data["alpha-admin"])
    page.goto("/dashboard/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=bad>')")
    # then the same check the page tests use reports it (the check is not blind)
    assert "label" in {v["id"] for v in _axe_violations(page)}


def test_every_page_has_a_favicon(page: Page, login: Login, demo_data: dict[str, str]) -> None:
    login(page, "alpha-admin", demo_data["alpha-admin"])
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


def test_the_staff_dashboard_shows_bill_runs_overdue_partners_and_queues_each_one_click_away(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given the demo data: one bill run that renewed spree-dental, alpha overdue since yesterday,
    # and one item in each review queue (demo/activity.py)
    overdue = Invoice.objects.get(pbx__name="rossi-magazzino")
    awaited = ExpansionOrder.objects.get(pbx__name="lakeside-resort").invoice
    assert awaited is not None
    # when the vendor admin logs in, it lands on the staff dashboard
    login(page, "admin", demo_data["admin"])
    expect(page.locator("h1")).to_have_text("Staff dashboard")
    # then the bill run is listed with its PBXs done and its invoice
    run = page.locator("#bill-runs tbody tr")
    expect(run).to_have_count(1)
    expect(run).to_contain_text("1 of 1")
    expect(run.locator("td").nth(4)).to_have_text("1")
    # and the overdue partner with its days and amount
    row = page.locator("#overdue-partners tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Alpha Telecom (demo)")
    expect(row.locator("td").nth(1)).to_have_text("1")
    expect(row.locator("td").nth(3)).to_have_text(f"{overdue.amount_due:,.2f} EUR")
    # and each review queue counts one item, and one click opens the page that lists it
    queues = {
        "HWaaS agreements to review": ("hardware:staff_agreements", "Dubai Trading LLC"),
        "Number documents to review": ("voice:staff_number_orders", "bianchi-cloud"),
        "Corrections to decide": ("pbx:staff_corrections", "bianchi-cloud"),
        "Offline payments awaited": ("payments:staff_offline", str(awaited.number)),
    }
    for key, (url_name, listed) in queues.items():
        queue = page.locator(f"[data-queue='{key}']")
        expect(queue.locator(".badge")).to_have_text("1")
        queue.get_by_role("link").click()
        expect(page).to_have_url(re.compile(re.escape(reverse(url_name)) + "$"))
        expect(page.locator("main")).to_contain_text(listed)
        page.go_back()
