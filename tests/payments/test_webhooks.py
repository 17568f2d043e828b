"""R-INV-4: provider webhooks verified by signature, tested with recorded provider payloads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client

from pbxportal.common.actor import Actor
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.payments.models import Checkout, Payment, WebhookEvent
from pbxportal.payments.services import checkout_start
from tests.payments.conftest import recorded
from tests.pbx.builders import World


def _checkout(world: World, invoice: Invoice, provider: str, amount: str, reference: str) -> Checkout:
    checkout = checkout_start(
        actor=Actor(user=world.user), invoice_id=invoice.pk, provider_code=provider, amount=Decimal(amount)
    )
    # the recorded payload names the reference the sandbox saw; give this checkout that reference
    Checkout.objects.filter(pk=checkout.pk).update(reference=reference)
    return checkout


def _deliver(provider: str, record: dict[str, Any], body: str | None = None) -> Any:
    return Client().post(
        f"/api/v1/payments/webhooks/{provider}",
        data=(body if body is not None else record["body"]).encode(),
        content_type="application/json",
        headers=record["headers"],
    )


def test_card_webhook_records_a_partial_payment_once_even_when_replayed(
    billed: tuple[World, Invoice], provider_secrets: None
) -> None:
    # given a card checkout of 200.00 on a 480.00 invoice, and the provider's recorded webhook
    world, invoice = billed
    checkout = _checkout(world, invoice, "card", "200.00", "chk_recorded_card_1")
    record = recorded("card_checkout_completed.json")
    # when the webhook is delivered, then delivered again (a replay)
    first = _deliver("card", record)
    second = _deliver("card", record)
    # then the payment is applied once, partially
    assert first.status_code == 200, first.content
    assert first.json()["outcome"] == "paid 200 EUR"
    assert second.status_code == 200
    assert second.json()["outcome"].startswith("replayed")
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("200.00")
    assert invoice.status == InvoiceStatus.DUE
    checkout.refresh_from_db()
    assert checkout.status == "paid"


def test_forged_card_webhook_changes_nothing(billed: tuple[World, Invoice], provider_secrets: None) -> None:
    # given the recorded webhook with its amount raised by a forger (the signature is the original's)
    world, invoice = billed
    _checkout(world, invoice, "card", "200.00", "chk_recorded_card_1")
    record = recorded("card_checkout_completed.json")
    forged = record["body"].replace('"amount_total": 20000', '"amount_total": 48000')
    assert forged != record["body"]
    # when it is delivered
    response = _deliver("card", record, body=forged)
    # then it is refused and nothing is recorded
    assert response.status_code == 403
    assert response.json()["error"]["rule"] == "R-INV-4"
    assert not Payment.objects.exists() and not WebhookEvent.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_card_webhook_signed_with_another_secret_is_refused(
    billed: tuple[World, Invoice], provider_secrets: None, settings: Any
) -> None:
    # given an endpoint whose secret is not the one the payload was signed with
    world, invoice = billed
    _checkout(world, invoice, "card", "200.00", "chk_recorded_card_1")
    settings.PAYMENT_CARD_WEBHOOK_SECRET = "whsec_someone_else"
    # when the recorded webhook arrives / then it is refused
    assert _deliver("card", recorded("card_checkout_completed.json")).status_code == 403
    assert not Payment.objects.exists()


def test_stale_card_webhook_is_refused(
    billed: tuple[World, Invoice], provider_secrets: None, frozen: Any
) -> None:
    # given a correctly signed webhook replayed an hour after it was sent
    world, invoice = billed
    _checkout(world, invoice, "card", "200.00", "chk_recorded_card_1")
    frozen.shift(3600)
    # when it is delivered / then the timestamp tolerance refuses it
    assert _deliver("card", recorded("card_checkout_completed.json")).status_code == 403
    assert not Payment.objects.exists()


def test_paypal_webhooks_complete_the_invoice_after_a_card_part(
    billed: tuple[World, Invoice], provider_secrets: None
) -> None:
    # given 200.00 paid by card and a PayPal checkout for the remaining 280.00
    world, invoice = billed
    _checkout(world, invoice, "card", "200.00", "chk_recorded_card_1")
    assert _deliver("card", recorded("card_checkout_completed.json")).status_code == 200
    _checkout(world, invoice, "paypal", "280.00", "chk_recorded_paypal_1")
    record = recorded("paypal_capture_completed.json")
    # when PayPal's recorded webhook arrives twice
    assert _deliver("paypal", record).json()["outcome"] == "paid 280.00 EUR"
    assert _deliver("paypal", record).json()["outcome"].startswith("replayed")
    # then the invoice is paid, by two payments
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.amount_paid == Decimal("480.00")
    assert sorted(Payment.objects.values_list("method", flat=True)) == ["card", "paypal"]


def test_forged_paypal_webhook_changes_nothing(billed: tuple[World, Invoice], provider_secrets: None) -> None:
    # given the recorded PayPal webhook with a made-up signature
    world, invoice = billed
    _checkout(world, invoice, "paypal", "280.00", "chk_recorded_paypal_1")
    record = recorded("paypal_capture_completed.json")
    record["headers"]["PAYPAL-TRANSMISSION-SIG"] = "bm90IGEgc2lnbmF0dXJl"
    # when it is delivered / then it is refused and nothing changes
    assert _deliver("paypal", record).status_code == 403
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_checkout_redirects_to_the_hosted_page(
    billed: tuple[World, Invoice], client_for: Any, recorded_stripe: Any
) -> None:
    # given a partner user on its balance page
    world, invoice = billed
    client = client_for(world.user)
    # when it pays the invoice by card
    response = client.post(f"/payments/invoices/{invoice.pk}/pay/", {"provider": "card", "amount": ""})
    # then it is redirected to the provider's hosted page for the whole amount
    assert response.status_code == 302
    checkout = Checkout.objects.get()
    assert response["Location"] == checkout.redirect_url
    # (a Stripe Checkout Session created for the whole amount with the checkout's reference)
    assert checkout.redirect_url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    [sent] = recorded_stripe.requests
    assert sent["form"]["line_items[0][price_data][unit_amount]"] == "48000"
    assert sent["form"]["client_reference_id"] == checkout.reference
    assert checkout.amount == Decimal("480")
