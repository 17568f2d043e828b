"""The staff corrections page in a real browser (issue 13 item 6, R-CO-4, R-PBX-10): what applying a
correction will issue is shown before its Apply button, and applying issues exactly that."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from pbxportal.common.timeutil import vendor_today
from pbxportal.invoicing.models import Invoice, InvoiceKind
from pbxportal.pbx import services as pbx_services
from tests.e2e.conftest import Login
from tests.pbx.builders import World


def test_staff_see_the_credit_note_a_correction_will_issue_then_apply_it(page: Page, login: Login) -> None:
    # given a PBX activated today with 4 users and a correction to 2 filed by its partner
    world = World()
    today = vendor_today()
    pbx = world.pbx(start=today, name="fresh-pbx")
    pbx_services.correction_file(
        actor=world.actor, pbx_id=pbx.pk, change_date=today, quantities={"UC-BUSINESS": 2}, today=today
    )
    # when staff open the corrections page
    login(page, "care", "x" * 12)
    page.goto("/staff/corrections/")
    # then the row shows the credit note applying it will issue, before the Apply button
    row = page.locator("tbody tr", has_text="fresh-pbx")
    expect(row.locator(".preview-credit-note")).to_contain_text("-240.00 EUR")
    expect(row.get_by_role("button", name="Apply")).to_be_visible()
    # when staff apply it / then exactly that credit note is issued
    row.get_by_role("button", name="Apply").click()
    expect(page.locator("body")).to_contain_text("applied")
    note = Invoice.objects.get(pbx=pbx, kind=InvoiceKind.CREDIT_NOTE)
    assert note.net_total == Decimal("-240.00")
