"""The expansion and licence pages (R-EX-1..3, R-LIC-1, R-LIC-2), server-rendered, read without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from pbxportal.common.timeutil import vendor_today
from pbxportal.core import activation_code, licence
from pbxportal.expansions.models import ExpansionOrder, OrderStatus
from pbxportal.licensing.keys import published_keys
from tests.expansions.builders import SoftwareWorld

TODAY = vendor_today()


@pytest.fixture
def world(db: Any) -> SoftwareWorld:
    return SoftwareWorld()


def test_order_expansions_review_and_place_an_offline_order(world: SoftwareWorld) -> None:
    # given an active software PBX and its partner logged in
    pbx = world.pbx(name="hotel-one", start=TODAY)
    Client().post("/api/v1/pbx-agent/activate", {"pbx_key": pbx.new_pbx_key}, content_type="application/json")
    client = Client()
    client.force_login(world.user)
    # when the PBX page is opened, then it links to the services and the licence
    detail = client.get(f"/pbxs/{pbx.pk}/").content.decode()
    assert f"/pbxs/{pbx.pk}/expansions/" in detail and f"/pbxs/{pbx.pk}/licence/" in detail
    # when the services page is opened, then it lists the six R-EX-1 services and the capacity
    page = client.get(f"/pbxs/{pbx.pk}/expansions/").content.decode()
    for name in (
        "Extension expansion",
        "Concurrent-call expansion",
        "Hot standby",
        "Disaster recovery",
        "Hotel PMS integration",
        "Outbound call centre",
    ):
        assert name in page
    assert "<strong>50</strong> extensions" in page
    # when 20 extensions are reviewed, then the checkout shows the price (20 x 2.40) and the contacts
    review = client.get(f"/pbxs/{pbx.pk}/expansions/checkout/", {"qty_PSE-EXT": "20"})
    assert review.status_code == 200
    assert "48.00 USD" in review.content.decode() and world.contact.email in review.content.decode()
    # when the order is placed offline with a PI number
    placed = client.post(
        f"/pbxs/{pbx.pk}/expansions/checkout/",
        {
            "qty_PSE-EXT": "20",
            "billing_contact": str(world.contact.pk),
            "payment_method": "offline",
            "pi_number": "PI-7",
            "auto_renew": "on",
        },
    )
    # then it waits for payment and its page says so
    order = ExpansionOrder.objects.get(pbx=pbx)
    assert placed.status_code == 302 and placed["Location"] == f"/expansion-orders/{order.pk}/"
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.pi_number == "PI-7"
    detail = client.get(placed["Location"]).content.decode()
    assert "Waiting for your bank transfer" in detail and order.invoice.number in detail
    # when the partner cancels it from its page, then it is cancelled
    cancelled = client.post(f"/expansion-orders/{order.pk}/cancel/", follow=True)
    assert "Cancelled" in cancelled.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_refused_checkout_shows_the_rule(world: SoftwareWorld) -> None:
    primary = world.pbx(name="primary", start=TODAY)
    Client().post(
        "/api/v1/pbx-agent/activate", {"pbx_key": primary.new_pbx_key}, content_type="application/json"
    )
    client = Client()
    client.force_login(world.user)
    response = client.post(
        f"/pbxs/{primary.pk}/expansions/checkout/",
        {
            "qty_PSE-HOTSTANDBY": "1",
            "standby_PSE-HOTSTANDBY": "PBX-NONE",
            "billing_contact": str(world.contact.pk),
            "payment_method": "offline",
        },
    )
    assert response.status_code == 422
    assert "R-EX-6" in response.content.decode()
    assert not ExpansionOrder.objects.exists()


def test_licence_history_activation_code_and_download(world: SoftwareWorld) -> None:
    pbx = world.pbx(name="hotel-one", start=TODAY)
    Client().post("/api/v1/pbx-agent/activate", {"pbx_key": pbx.new_pbx_key}, content_type="application/json")
    client = Client()
    client.force_login(world.user)
    # the history lists version 1 with its capacity
    history = client.get(f"/pbxs/{pbx.pk}/licence/").content.decode()
    assert "extensions 50" in history and "concurrent_calls 25" in history
    # a new activation code is shown once, well formed
    shown = client.post(f"/pbxs/{pbx.pk}/licence/activation-code/").content.decode()
    code = shown.split('class="activation-code"')[1].split(">")[1].split("<")[0]
    assert activation_code.is_well_formed(code)
    # the downloaded file is the signed licence
    download = client.get(f"/pbxs/{pbx.pk}/licence/1/download/")
    assert licence.verify(download.content, published_keys()).pbx_serial == pbx.serial
