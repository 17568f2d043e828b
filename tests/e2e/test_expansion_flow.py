"""Browser flow (R-EX-2, R-EX-3, R-LIC-1..3): a partner orders an extension expansion for its
software PBX and pays offline; staff record the bank transfer; the simulated PBX picks up the new
capacity on its next poll over HTTP."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from pbxportal.accounts.models import Customer, User
from pbxportal.bench.agents import agent_poll, agent_simulate
from pbxportal.common.actor import Actor
from pbxportal.common.timeutil import vendor_today
from pbxportal.core import licence
from pbxportal.expansions.models import ExpansionOrder, OrderStatus
from pbxportal.licensing.keys import published_keys
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import pbx_create
from tests.e2e.conftest import Login


def test_order_an_extension_expansion_pay_offline_and_the_pbx_picks_it_up(
    page: Page, login: Login, demo_data: dict[str, str], live_server: Any
) -> None:
    # given the demo software-PBX partner (gamma, Gold USD book) with an activated software PBX
    admin = User.objects.get(username="gamma-admin")
    customer = Customer.objects.filter(partner=admin.partner).first()
    assert customer is not None
    created = pbx_create(
        actor=Actor(user=admin),
        customer_id=customer.pk,
        model_code="PSE-ENTERPRISE",
        name="lakeside",
        term="yearly",
        licences={},
        today=vendor_today(),
    )
    pbx = Pbx.objects.get(name="lakeside")
    assert created.pbx is not None
    key = created.pbx.new_pbx_key  # shown once at creation, never stored
    [simulated] = agent_simulate(url=live_server.url, pbx_keys=[key], polls=1, interval=0, say=print)
    assert simulated.version == 1

    # when the partner orders 20 extensions on the PBX's services page and checks out offline
    login(page, "gamma-admin", demo_data["gamma-admin"])
    page.goto(f"/pbxs/{pbx.pk}/expansions/")
    expect(page.locator("main")).to_contain_text("50 extensions")
    page.fill("#qty_PSE-EXT", "20")
    page.get_by_role("button", name="Checkout").click()
    expect(page.locator(".total")).to_have_text("48.00 USD")
    page.check("input[name=payment_method][value=offline]")
    page.fill("#pi_number", "PI-LAKE-1")
    page.get_by_role("button", name="Place order").click()
    # then the order waits for the bank transfer, and the PBX's next poll is unchanged (304)
    expect(page.locator("h1")).to_contain_text("Awaiting payment")
    invoice_number = page.locator(".invoice-number").inner_text()
    assert agent_poll(url=live_server.url, pbx=simulated)[0] == 304

    # when staff record the transfer on the offline payments page
    page.get_by_role("button", name="Log out").click()
    login(page, "admin", demo_data["admin"])
    page.goto("/payments/staff/offline/")
    page.fill("#id_invoice_number", invoice_number)
    page.fill("#id_amount", "48.00")
    page.fill("#id_received_on", vendor_today().isoformat())
    page.fill("#id_pi_number", "PI-LAKE-1")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".alert")).to_contain_text("Recorded 48.00")
    assert ExpansionOrder.objects.get(pbx=pbx).status == OrderStatus.PAID

    # then the simulated PBX's next poll returns version 2 with 70 extensions, signed by the vendor
    status, wire = agent_poll(url=live_server.url, pbx=simulated)
    assert status == 200 and simulated.version == 2
    assert licence.verify(wire, published_keys(), min_version=1).capacity["extensions"] == 70
