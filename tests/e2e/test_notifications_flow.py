"""Issue 16 item 7 in a real browser: staff approve a number order; the partner sees the bell's
count, opens the notification list and follows the notification to the order."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from playwright.sync_api import Page, expect

from pbxportal.common.actor import Actor
from pbxportal.voice import services as voice
from tests.e2e.conftest import Login
from tests.e2e.test_ui import _axe_violations
from tests.voice.builders import VoiceWorld
from tests.voice.test_numbers import complete_order

PASSWORD = "x" * 12


def test_staff_approve_a_number_order_and_the_partner_follows_the_notification(
    page: Page, login: Login, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    # given a submitted number order in review
    world = VoiceWorld()
    pbx = world.pbx(start=date(2025, 1, 10))
    order_id = complete_order(world, pbx.pk)
    voice.number_order_submit(actor=world.actor, order_id=order_id)
    voice.number_order_review(actor=Actor(user=world.staff), order_id=order_id)

    # when staff approve it from the review page
    login(page, world.staff.username, PASSWORD)
    page.goto("/voice/staff/number-orders/?status=in_review")
    page.fill(f"[aria-label='Number for order {order_id}']", "02 1234 5678")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Order {order_id}")

    # then the partner's bell shows one unread notification
    page.context.clear_cookies()
    login(page, world.user.username, PASSWORD)
    bell = page.locator("#notification-bell")
    if not bell.is_visible():
        page.locator(".navbar-toggler").click()
    expect(bell.locator("[data-unread]")).to_have_text("1 unread")
    # ... the list shows it, and following it opens the order
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    # (the list with an unread notification passes axe-core, WCAG 2.1 A/AA)
    assert _axe_violations(page) == []
    item = page.locator("[data-notification]").first
    expect(item).to_contain_text(f"Number order #{order_id} approved: +390212345678")
    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/voice/number-orders/{order_id}/$"))
    expect(page.locator("body")).to_contain_text("+390212345678")
    # ... and the notification is read: the bell has no count any more
    expect(page.locator("#notification-bell [data-unread]")).to_have_count(0)
    # the preferences page passes axe-core too
    page.goto("/notifications/preferences/")
    assert _axe_violations(page) == []


def test_vendor_admin_replaces_a_template_in_the_browser(page: Page, login: Login) -> None:
    from pbxportal.catalog import doc_templates
    from pbxportal.demo.seed import CATALOGS

    # given the HWaaS agreement template of the demo catalog
    world = VoiceWorld()
    doc_templates.template_load(
        code="hwaas-agreement",
        kind="hwaas_agreement",
        country="",
        title="HWaaS agreement",
        path=CATALOGS / "per_user" / "templates" / "hwaas-agreement.pdf",
    )
    # when the vendor admin opens it from the Documents page and uploads a new file
    login(page, world.staff.username, PASSWORD)
    page.goto("/documents/")
    page.locator("[data-template=hwaas-agreement]").get_by_role(
        "link", name="Replace or see versions"
    ).click()
    assert _axe_violations(page) == []
    page.set_input_files(
        "#id_file",
        files=[{"name": "agreement-2027.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}],
    )
    page.get_by_role("button", name="Upload as a new version").click()
    # then version 2 is current, and version 1 is still listed
    expect(page.locator(".alert-success")).to_contain_text("version 2")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody tr").first).to_contain_text("agreement-2027.pdf")
