"""R-INV-4: PayPal through its REST API (orders, capture) and webhooks verified as PayPal
specifies (SHA256withRSA by the certificate at PAYPAL-CERT-URL over
transmission_id|time|webhook_id|crc32(body)); seen transmission ids are refused."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from pbxportal.invoicing.models import Invoice
from pbxportal.payments.models import Checkout, Payment
from tests.payments.conftest import paypal_sign, recorded
from tests.payments.paypal_recorded import RecordedPayPal
from tests.pbx.builders import World


def test_a_paypal_checkout_creates_an_order_and_redirects_to_its_approval_page(
    billed: tuple[World, Invoice], client_for: Any, paypal_rest: RecordedPayPal
) -> None:
    world, invoice = billed
    response = client_for(world.user).post(
        f"/payments/invoices/{invoice.pk}/pay/", {"provider": "paypal", "amount": "280.00"}
    )
    assert response.status_code == 302
    assert response["Location"] == "https://www.sandbox.paypal.com/checkoutnow?token=5O190127TN364715T"
    order = json.loads(paypal_rest.seen[1].content)
    checkout = Checkout.objects.get()
    assert order["intent"] == "CAPTURE"
    assert order["purchase_units"][0]["custom_id"] == checkout.reference
    assert order["purchase_units"][0]["amount"] == {"currency_code": "EUR", "value": "280.00"}


def test_the_return_from_paypal_captures_the_order(
    billed: tuple[World, Invoice], client_for: Any, paypal_rest: RecordedPayPal
) -> None:
    world, _ = billed
    response = client_for(world.user).get("/payments/paypal/return/?token=5O190127TN364715T")
    assert response.status_code == 302
    assert paypal_rest.seen[-1].url.path == "/v2/checkout/orders/5O190127TN364715T/capture"
    bad = client_for(world.user).get("/payments/paypal/return/?token=../../x")
    assert bad.status_code == 400 and "token" in bad.content.decode()


def _deliver(record: dict[str, Any], body: str | None = None) -> Any:
    return Client().post(
        "/api/v1/payments/webhooks/paypal",
        data=(body if body is not None else record["body"]).encode(),
        content_type="application/json",
        headers=record["headers"],
    )


@pytest.fixture
def paypal_checkout(billed: tuple[World, Invoice], provider_secrets: None) -> Invoice:
    world, invoice = billed
    checkout = Checkout.objects.create(
        partner=world.partner, invoice=invoice, provider="paypal", reference="chk_recorded_paypal_1",
        amount=Decimal("280.00"), currency="EUR", redirect_url="https://www.sandbox.paypal.com/x",
    )  # fmt: skip
    assert checkout.pk
    return invoice


def test_a_tampered_body_fails_the_signature(paypal_checkout: Invoice) -> None:
    record = recorded("paypal_capture_completed.json")
    assert _deliver(record, body=record["body"].replace("280.00", "480.00")).status_code == 403
    assert not Payment.objects.exists()


def test_a_certificate_off_paypals_hosts_is_refused(paypal_checkout: Invoice) -> None:
    record = recorded("paypal_capture_completed.json")
    record["headers"]["PAYPAL-CERT-URL"] = "https://evil.example/cert.pem"
    assert _deliver(record).status_code == 403
    assert not Payment.objects.exists()


def test_a_signature_for_another_webhook_id_is_refused(paypal_checkout: Invoice) -> None:
    record = recorded("paypal_capture_completed.json")
    paypal_sign(record, webhook_id="WH-SOMEONE-ELSE")
    assert _deliver(record).status_code == 403


def test_a_replayed_transmission_id_changes_nothing(paypal_checkout: Invoice) -> None:
    # given the recorded transmission applied once
    record = recorded("paypal_capture_completed.json")
    assert _deliver(record).json()["outcome"] == "paid 280.00 EUR"
    # when the same transmission id comes again carrying another (signed) event
    body = (
        record["body"]
        .replace("WH-7Y7254563A4550640-11V2185806837105M", "WH-OTHER-EVENT")
        .replace("42311647XV020574X", "99999999XV020574X")
    )
    paypal_sign(record, body=body)
    replay = _deliver(record, body=body)
    # then it is refused as a replay and nothing more is paid
    assert replay.status_code == 200 and replay.json()["outcome"].startswith("replayed")
    assert Payment.objects.count() == 1
