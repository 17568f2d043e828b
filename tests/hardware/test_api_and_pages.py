"""The HWaaS API and pages: the same services behind both, refusals in the one error shape,
another partner's agreements (with their files) and orders answering 404 (R-TEN-1)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from pbxportal.accounts.models import Customer, Partner, PartnerRole, User
from pbxportal.hardware.models import HardwareOrder, HwaasAgreement, OrderTransition, StockItem
from tests.hardware.helpers import PDF, pdf_upload
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other(world: World) -> User:
    """A user of another partner, with the same price book."""
    partner = Partner.objects.create(name="Other", code="other", country="IT", price_book=world.book)
    return User.objects.create_user(
        "other-admin", password="x" * 12, partner=partner, partner_role=PartnerRole.ADMIN
    )


def test_api_flow_upload_accept_cart_checkout_and_staff_moves(world: World) -> None:
    partner, manager = _client(world.user), _client(world.manager)
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    # the partner uploads the signed agreement (multipart) ...
    response = partner.post(
        "/api/v1/hardware/agreements", {"customer_id": world.customer.pk, "file": pdf_upload()}
    )
    assert response.status_code == 201, response.content
    agreement = response.json()
    assert agreement["status"] == "pending" and agreement["content_type"] == "application/pdf"
    # ... and cannot open a cart yet (R-HW-2), in the one error shape
    refused = partner.post("/api/v1/hardware/orders", {"pbx_id": pbx.pk}, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["error"]["rule"] == "R-HW-2"
    # the area manager downloads the file and accepts it
    download = manager.get(f"/api/v1/hardware/agreements/{agreement['id']}/file")
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Type"] == "application/pdf" and "attachment" in download["Content-Disposition"]
    accepted = manager.post(f"/api/v1/hardware/agreements/{agreement['id']}/accept")
    assert accepted.json()["status"] == "accepted"
    # the partner opens a cart, sees the devices for the PBX's term, adds some and previews
    order = partner.post(
        "/api/v1/hardware/orders", {"pbx_id": pbx.pk}, content_type="application/json"
    ).json()
    devices = partner.get(f"/api/v1/hardware/pbxs/{pbx.pk}/devices").json()
    assert [d["plan_code"] for d in devices] == ["HW-PHONE-yearly"]
    lines = partner.post(
        f"/api/v1/hardware/orders/{order['id']}/lines",
        {"product_code": "HW-PHONE", "quantity": 2},
        content_type="application/json",
    ).json()["lines"]
    assert lines[0]["quantity"] == 2
    preview = partner.get(f"/api/v1/hardware/orders/{order['id']}/preview").json()
    assert preview["refused"] is None and len(preview["lines"]) == 1
    # checkout, with an idempotency key sent twice: one order placed, one answer
    first = partner.post(f"/api/v1/hardware/orders/{order['id']}/checkout", HTTP_IDEMPOTENCY_KEY="checkout-1")
    again = partner.post(f"/api/v1/hardware/orders/{order['id']}/checkout", HTTP_IDEMPOTENCY_KEY="checkout-1")
    assert first.status_code == 200 and again.content == first.content
    placed = first.json()
    assert placed["status"] == "placed" and placed["lines"][0]["invoice_id"] is not None
    # shipping before confirming is an illegal transition: 409 with the rule, nothing written
    transitions = OrderTransition.objects.count()
    illegal = manager.post(f"/api/v1/hardware/orders/{order['id']}/ship", {}, content_type="application/json")
    assert illegal.status_code == 409
    assert illegal.json()["error"]["code"] == "illegal_transition"
    assert illegal.json()["error"]["rule"] == "R-HW-3"
    assert OrderTransition.objects.count() == transitions
    # the partner cannot confirm its own order
    forbidden = partner.post(
        f"/api/v1/hardware/orders/{order['id']}/confirm", {}, content_type="application/json"
    )
    assert forbidden.status_code == 403
    # staff: stock received, confirm, ship, deliver; the partner sees the history
    admin = _client(world.staff)
    stock = admin.post(
        "/api/v1/hardware/stock/adjust",
        {"product_code": "HW-PHONE", "delta": 5},
        content_type="application/json",
    ).json()
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (5, 2, 3)
    for move in ("confirm", "ship", "deliver"):
        moved = manager.post(
            f"/api/v1/hardware/orders/{order['id']}/{move}", {}, content_type="application/json"
        )
        assert moved.status_code == 200, moved.content
    seen = partner.get(f"/api/v1/hardware/orders/{order['id']}").json()
    assert seen["status"] == "delivered"
    assert [t["to_status"] for t in seen["transitions"]] == [
        "draft",
        "placed",
        "confirmed",
        "shipped",
        "delivered",
    ]
    assert admin.get("/api/v1/hardware/stock").json() == [
        {
            "code": "HW-PHONE",
            "name": "Hw-Phone",
            "on_hand": 3,
            "reserved": 0,
            "available": 3,
            "back_ordered": 0,
        },
        {
            "code": "MONTHLY-ONLY",
            "name": "Monthly-Only",
            "on_hand": 0,
            "reserved": 0,
            "available": 0,
            "back_ordered": 0,
        },
    ]


def test_another_partners_agreement_file_and_orders_answer_404(world: World, other: User) -> None:
    # given an agreement (with its file) and an order of the world's partner
    partner = _client(world.user)
    agreement_id = partner.post(
        "/api/v1/hardware/agreements", {"customer_id": world.customer.pk, "file": pdf_upload()}
    ).json()["id"]
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    order = HardwareOrder.objects.create(partner=world.partner, customer=world.customer, pbx=pbx)
    intruder = _client(other)
    # when another partner asks for them, by API and by page / then 404, nothing revealed
    for url in (
        f"/api/v1/hardware/agreements/{agreement_id}",
        f"/api/v1/hardware/agreements/{agreement_id}/file",
        f"/api/v1/hardware/orders/{order.pk}",
        f"/hwaas/agreements/{agreement_id}/file/",
        f"/hwaas/orders/{order.pk}/",
    ):
        response = intruder.get(url)
        assert response.status_code == 404, url
        assert PDF not in response.content
    assert intruder.post(f"/api/v1/hardware/orders/{order.pk}/checkout").status_code == 404
    assert intruder.post(f"/hwaas/orders/{order.pk}/cancel/").status_code == 404
    assert intruder.get("/api/v1/hardware/agreements").json()["items"] == []
    # and its own customer cannot be used to upload against another's... its own list stays empty
    assert not HwaasAgreement.objects.filter(partner__code="other").exists()
    # while the owner downloads its own file through the page
    own = partner.get(f"/hwaas/agreements/{agreement_id}/file/")
    assert own.status_code == 200 and own.content == PDF


def _form_flow(world: World, client: Client, manager: Client) -> HardwareOrder:
    pbx = world.pbx(term="monthly", start=date(2024, 3, 1))
    client.post("/hwaas/agreements/", {"customer": world.customer.pk, "file": pdf_upload()})
    agreement = HwaasAgreement.objects.get()
    manager.post(f"/staff/hwaas/agreements/{agreement.pk}/decide/", {"decision": "accept"})
    response = client.post("/hwaas/orders/new/", {"pbx_id": pbx.pk})
    order = HardwareOrder.objects.get()
    assert response.url == f"/hwaas/orders/{order.pk}/"
    return order


def test_pages_cart_saved_then_checked_out_and_staff_ship(world: World) -> None:
    client, manager, admin = _client(world.user), _client(world.manager), _client(world.staff)
    order = _form_flow(world, client, manager)
    # add 2 devices, change to 3, save: back to the orders list with the draft in it
    client.post(
        f"/hwaas/orders/{order.pk}/cart/", {"action": "add", "product_code": "HW-PHONE", "quantity": "2"}
    )
    saved = client.post(
        f"/hwaas/orders/{order.pk}/cart/", {"action": "save", "qty-HW-PHONE": "3"}, follow=True
    )
    assert b"saved as a draft" in saved.content and order.number.encode() in saved.content
    cart = client.get(f"/hwaas/orders/{order.pk}/")
    assert b'value="3"' in cart.content and b"Check out" in cart.content
    client.post(f"/hwaas/orders/{order.pk}/checkout/")
    order.refresh_from_db()
    assert order.status == "placed"
    # staff see the back-order and cannot ship it yet; the refusal names the rule
    stock = admin.get("/staff/hwaas/stock/")
    assert b"back-ordered 3" in stock.content
    manager.post(f"/staff/hwaas/orders/{order.pk}/transition/", {"to": "confirmed"})
    refused = manager.post(f"/staff/hwaas/orders/{order.pk}/transition/", {"to": "shipped"}, follow=True)
    assert b"R-HW-4" in refused.content
    admin.post("/staff/hwaas/stock/", {"product_code": "HW-PHONE", "delta": "4", "note": "received"})
    assert StockItem.objects.get(product__code="HW-PHONE").on_hand == 4
    manager.post(f"/staff/hwaas/orders/{order.pk}/transition/", {"to": "shipped", "note": "UPS 1Z"})
    manager.post(f"/staff/hwaas/orders/{order.pk}/transition/", {"to": "delivered"})
    page = client.get(f"/hwaas/orders/{order.pk}/")
    assert b"Delivered" in page.content and b"UPS 1Z" in page.content
    # an illegal move from the staff page is refused with the rule and writes nothing
    before = OrderTransition.objects.count()
    illegal = manager.post(f"/staff/hwaas/orders/{order.pk}/transition/", {"to": "confirmed"}, follow=True)
    assert b"R-HW-3" in illegal.content and OrderTransition.objects.count() == before


def test_rejected_agreement_shows_its_reason_to_the_partner(world: World) -> None:
    client, manager = _client(world.user), _client(world.manager)
    client.post("/hwaas/agreements/", {"customer": world.customer.pk, "file": pdf_upload()})
    agreement = HwaasAgreement.objects.get()
    listed = manager.get("/staff/hwaas/agreements/")
    assert world.customer.name.encode() in listed.content
    manager.post(
        f"/staff/hwaas/agreements/{agreement.pk}/decide/", {"decision": "reject", "reason": "Unsigned"}
    )
    page = client.get("/hwaas/agreements/")
    assert b"Rejected" in page.content and b"Unsigned" in page.content


def test_upload_of_a_wrong_type_is_refused_on_the_page(world: Any) -> None:
    client = _client(world.user)
    page = client.post(
        "/hwaas/agreements/",
        {"customer": world.customer.pk, "file": pdf_upload("a.pdf", b"GIF89a not allowed")},
    )
    assert b"must be a PDF, PNG or JPEG" in page.content and b"R-HW-2" in page.content
    assert not HwaasAgreement.objects.exists()
    assert not Customer.objects.exclude(pk=world.customer.pk).exists()
