"""R-INV-4: the built-in sandbox provider — the portal's hosted test page, test cards that succeed
or are declined, a signed webhook; a checkout never asks more than is due; forged or replayed
sandbox webhooks change nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.payments.models import Checkout, CheckoutStatus, Payment
from pbxportal.payments.providers.sandbox import SandboxProvider, event_body
from tests.pbx.builders import World


def _checkout(client: Client, invoice: Invoice, amount: str | None = None) -> Any:
    payload: dict[str, Any] = {"invoice_id": invoice.pk, "provider": "sandbox"}
    if amount:
        payload["amount"] = amount
    return client.post(
        "/api/v1/payments/checkouts", data=json.dumps(payload), content_type="application/json"
    )


def test_a_test_card_pays_the_invoice_through_the_hosted_page(
    billed: tuple[World, Invoice], client_for: Any
) -> None:
    world, invoice = billed
    client = client_for(world.user)
    # when the partner checks out with the sandbox and pays with the succeeding test card
    response = _checkout(client, invoice)
    assert response.status_code == 201, response.content
    url = response.json()["redirect_url"]
    assert url.startswith("/payments/sandbox/chk_")
    assert "480.00 EUR" in client.get(url).content.decode()
    paid = client.post(url, {"card_number": "4242 4242 4242 4242"})
    # then the webhook completed it and the partner lands on the paid invoice
    assert paid.status_code == 302 and paid["Location"] == f"/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == 0
    assert Payment.objects.get().method == "sandbox"


def test_a_declined_card_leaves_the_invoice_due(billed: tuple[World, Invoice], client_for: Any) -> None:
    world, invoice = billed
    client = client_for(world.user)
    url = _checkout(client, invoice).json()["redirect_url"]
    page = client.post(url, {"card_number": "4000 0000 0000 0002"})
    assert page.status_code == 200 and "declined" in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE and invoice.amount_due == Decimal("480.00")
    assert Checkout.objects.get().status == CheckoutStatus.FAILED and not Payment.objects.exists()


def test_an_unknown_card_is_a_400_naming_the_test_cards(
    billed: tuple[World, Invoice], client_for: Any
) -> None:
    world, invoice = billed
    client = client_for(world.user)
    url = _checkout(client, invoice).json()["redirect_url"]
    page = client.post(url, {"card_number": "1234"})
    assert page.status_code == 400 and "4242" in page.content.decode()


def test_a_checkout_never_asks_more_than_is_due(billed: tuple[World, Invoice], client_for: Any) -> None:
    world, invoice = billed
    refused = _checkout(client_for(world.user), invoice, amount="480.01")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"amount": "more than due"}


def test_a_second_concurrent_sandbox_payment_becomes_account_credit(
    billed: tuple[World, Invoice], client_for: Any
) -> None:
    # given two checkouts of the whole invoice opened before either was paid
    world, invoice = billed
    client = client_for(world.user)
    first, second = (_checkout(client, invoice).json()["redirect_url"] for _ in range(2))
    # when both are paid
    client.post(first, {"card_number": "4242424242424242"})
    client.post(second, {"card_number": "4242424242424242"})
    # then the invoice is paid once and the second payment is account credit
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("480.00")
    balance = client.get("/api/v1/payments/balance").json()
    assert Decimal(balance["credit"]) == Decimal("480.00")


def _signed(secret: str, body: bytes) -> dict[str, str]:
    return SandboxProvider(webhook_secret=secret).signed_headers(body, timezone.now())


def test_forged_and_replayed_sandbox_webhooks_change_nothing(
    billed: tuple[World, Invoice], client_for: Any, settings: Any
) -> None:
    world, invoice = billed
    url = _checkout(client_for(world.user), invoice).json()["redirect_url"]
    reference = url.rstrip("/").rsplit("/", 1)[1]
    body = event_body(reference=reference, outcome="succeeded", amount=Decimal("480.00"), currency="EUR")
    webhook = "/api/v1/payments/webhooks/sandbox"
    # a forged one (signed with another secret) is refused
    forged = Client().post(webhook, body, content_type="application/json", headers=_signed("guess", body))
    assert forged.status_code == 403 and forged.json()["error"]["rule"] == "R-INV-4"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE
    # a genuine one pays; the same delivery replayed changes nothing
    headers = _signed(settings.PAYMENT_SANDBOX_WEBHOOK_SECRET, body)
    assert Client().post(webhook, body, content_type="application/json", headers=headers).status_code == 200
    replay = Client().post(webhook, body, content_type="application/json", headers=headers)
    assert replay.json()["outcome"].startswith("replayed")
    assert Payment.objects.count() == 1


def test_the_sandbox_is_off_in_production_settings(
    billed: tuple[World, Invoice], settings: Any, client_for: Any
) -> None:
    settings.PAYMENT_SANDBOX_ENABLED = False
    assert client_for(billed[0].user).get("/payments/sandbox/chk_x/").status_code == 404
    body = b"{}"
    response = Client().post(
        "/api/v1/payments/webhooks/sandbox", body, content_type="application/json", headers=_signed("x", body)
    )
    assert response.status_code == 404
