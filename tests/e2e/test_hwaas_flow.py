"""Hardware as a service in a real browser (issue 6): the partner uploads the customer's signed
agreement, the area manager accepts it (R-HW-2), the partner fills a cart, saves it as a draft,
comes back and checks out (R-HW-3), staff confirm and ship it (R-HW-4), the partner sees it
delivered with its history."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from pbxportal.common.timeutil import vendor_today
from pbxportal.hardware.models import HardwareOrder, StockItem
from pbxportal.pbx.models import Subscription
from tests.e2e.conftest import Login, open_menu
from tests.hardware.helpers import PDF
from tests.pbx.builders import World

PASSWORD = "x" * 12


def _as(page: Page, login: Login, username: str) -> None:
    page.context.clear_cookies()
    login(page, username, PASSWORD)


def test_agreement_accepted_cart_saved_checked_out_shipped_and_delivered(page: Page, login: Login) -> None:
    # given a partner with a customer and a monthly PBX, and devices in the warehouse
    world = World()
    pbx = world.pbx(term="monthly", start=vendor_today())

    # when the partner uploads the agreement signed by its customer
    _as(page, login, world.user.username)
    open_menu(page, "Orders", "HWaaS agreements")
    page.select_option("#id_customer", label="C")
    page.set_input_files(
        "#id_file", files=[{"name": "signed.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".alert.success")).to_contain_text("area manager will review it")
    expect(page.locator("tbody tr").first).to_contain_text("Waiting for review")
    # then no cart can be opened for that customer yet
    open_menu(page, "Orders", "Hardware orders")
    expect(page.locator("form.card")).to_contain_text("accepted HWaaS agreement")

    # when the area manager accepts it
    _as(page, login, world.manager.username)
    open_menu(page, "Review", "HWaaS agreements")
    row = page.locator("tr", has_text="signed.pdf")
    row.get_by_role("button", name="Accept").click()
    expect(page.locator(".alert.success")).to_contain_text("accepted")

    # and the partner opens a cart for the PBX, adds 2 phones, changes to 3 and saves it
    _as(page, login, world.user.username)
    open_menu(page, "Orders", "Hardware orders")
    page.select_option("#pbx_id", str(pbx.pk))
    page.get_by_role("button", name="New cart").click()
    page.select_option("#product_code", "HW-PHONE")
    page.fill("[aria-label='Quantity to add']", "2")
    page.get_by_role("button", name="Add to cart").click()
    page.fill("[aria-label='Quantity of HW-PHONE']", "3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert.success")).to_contain_text("saved as a draft")
    order = HardwareOrder.objects.get()
    assert order.status == "draft"

    # then, coming back to the draft from the Orders list, it checks out
    open_menu(page, "Orders", "Hardware orders")
    page.get_by_role("link", name=order.number).click()
    expect(page.locator("[aria-label='Quantity of HW-PHONE']")).to_have_value("3")
    expect(page.locator(".card", has_text="Charged today")).to_contain_text("Hw-Phone")
    page.get_by_role("button", name="Check out").click()
    expect(page.locator("#order-status")).to_have_text("Placed")
    assert Subscription.objects.get(pbx=pbx, product__code="HW-PHONE").quantity == 3
    StockItem.objects.filter(product__code="HW-PHONE").update(on_hand=10)

    # when staff confirm and ship it with a tracking number, and mark it delivered
    _as(page, login, world.manager.username)
    open_menu(page, "Hardware", "Hardware orders")
    page.get_by_role("link", name=order.number).click()
    page.get_by_role("button", name="Mark confirmed").click()
    expect(page.locator("#order-status")).to_have_text("Confirmed")
    page.fill("[aria-label='Note for Shipped']", "UPS 1Z999")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.locator("#order-status")).to_have_text("Shipped")
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.locator("#order-status")).to_have_text("Delivered")
    stock = StockItem.objects.get(product__code="HW-PHONE")
    assert (stock.on_hand, stock.reserved) == (7, 0)

    # then the partner sees it delivered, with its history
    _as(page, login, world.user.username)
    open_menu(page, "Orders", "Hardware orders")
    expect(page.locator(f"tr[data-order='{order.pk}'] .order-status")).to_have_text("Delivered")
    page.get_by_role("link", name=order.number).click()
    expect(page.locator("#history tbody tr")).to_have_count(5)
    expect(page.locator("#history")).to_contain_text("UPS 1Z999")
