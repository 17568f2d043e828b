"""R-EX-2 as API operations: review and place an expansion order (billing contact, payment method,
PI number, auto-renew) through the same service as the pages; the invoice is then paid through the
payments API (sandbox here), and the order is delivered (R-EX-3)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from pbxportal.expansions.models import OrderStatus
from tests.expansions.builders import SoftwareWorld
from tests.expansions.test_checkout import active_pbx


@pytest.fixture
def world(db: Any) -> SoftwareWorld:
    return SoftwareWorld()


def _post(client: Client, body: dict[str, Any], key: str = "") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        "/api/v1/expansions/checkout", json.dumps(body), content_type="application/json", headers=headers
    )


def test_preview_then_place_then_pay_an_expansion_order_through_the_api(
    world: SoftwareWorld, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pbx, _ = active_pbx(world, "hotel-api")
    client = client_for(world.user)
    body = {
        "pbx_id": pbx.pk,
        "services": [{"product_code": "PSE-EXT", "quantity": 20}],
        "payment_method": "offline",
        "billing_contact_id": world.contact.pk,
        "pi_number": "PI-API-1",
        "auto_renew": True,
    }
    # when the partner reviews the checkout
    preview = _post(client, {**body, "preview": True})
    assert preview.status_code == 200, preview.content
    assert preview.json()["order"] is None and Decimal(preview.json()["total"]) == Decimal("48.00")
    # and places it (twice with the same Idempotency-Key: one order)
    placed = _post(client, body, key="order-1")
    again = _post(client, body, key="order-1")
    assert placed.status_code == 201, placed.content
    assert again.json() == placed.json()
    order = placed.json()["order"]
    assert order["status"] == OrderStatus.AWAITING_PAYMENT and order["pi_number"] == "PI-API-1"
    assert Decimal(order["amount_due"]) == Decimal("48.00") and order["invoice_number"].startswith("INV-")
    # then paying its invoice through the payments API (sandbox) delivers it
    pay = client.post(
        "/api/v1/payments/checkouts",
        json.dumps({"invoice_id": order["invoice_id"], "provider": "sandbox"}),
        content_type="application/json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(pay.json()["redirect_url"], {"card_number": "4242 4242 4242 4242"})
    fetched = client.get(f"/api/v1/expansions/orders/{order['id']}").json()
    assert fetched["status"] == OrderStatus.PAID and Decimal(fetched["amount_due"]) == 0


def test_a_bad_checkout_is_a_400_naming_the_field(world: SoftwareWorld, client_for: Any) -> None:
    pbx, _ = active_pbx(world, "hotel-api")
    refused = _post(
        client_for(world.user),
        {"pbx_id": pbx.pk, "services": [{"product_code": "PSE-EXT"}], "payment_method": "bitcoin"},
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"payment_method": "invalid"}
