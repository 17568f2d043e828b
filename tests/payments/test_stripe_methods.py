"""Saved cards with Stripe through its official library (issue 14, build item 6; R-INV-4), tested
with recorded provider messages and no network: the library's requests are answered from
``recorded/stripe_saved_methods.json`` by an injected ``stripe.HTTPClient``; webhook events are
signed with the endpoint secret exactly as Stripe signs them and verified with
``stripe.Webhook.construct_event``. A setup completed saves the method; a payment_intent's failure
records the attempt failed; a forged signature changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from django.test import Client

from pbxportal.common.actor import Actor
from pbxportal.common.timeutil import vendor_today
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.invoicing.services import invoice_issue
from pbxportal.payments import methods, providers
from pbxportal.payments.models import (
    AttemptStatus,
    ChargeAttempt,
    CheckoutStatus,
    MethodSetup,
    Payment,
    SavedPaymentMethod,
    WebhookEvent,
)
from tests.invoicing.helpers import line
from tests.pbx.builders import World

RECORDED = json.loads((Path(__file__).parent / "recorded" / "stripe_saved_methods.json").read_text())
SECRET = "whsec_recorded_test"


def _render(template: Any, values: Mapping[str, str]) -> str:
    text = json.dumps(template)
    if "amount" in values:
        text = text.replace('"{amount}"', str(int(values["amount"])))
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


class RecordedStripe(stripe.HTTPClient):
    """Answers each request the library sends with its recorded response; any other request fails."""

    name = "recorded"

    def __init__(self, intent: str = "processing") -> None:
        super().__init__()
        self.intent = intent
        self.values: dict[str, str] = {"email": ""}
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, **_: Any
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        assert parts.netloc == "api.stripe.com", url
        key = f"{method} {parts.path}"
        if key == "post /v1/payment_intents":
            key += f" {self.intent}"
        assert key in RECORDED["exchanges"], f"no recorded exchange for {key}"
        form = dict(parse_qsl(post_data or ""))
        self.requests.append((key, form, dict(headers or {})))
        for field, name in (
            ("name", "name"),
            ("email", "email"),
            ("metadata[partner]", "partner"),
            ("customer", "customer"),
            ("client_reference_id", "client_reference_id"),
            ("metadata[reference]", "reference"),
            ("amount", "amount"),
        ):
            if field in form:
                self.values[name] = form[field]
        exchange = RECORDED["exchanges"][key]
        body = _render(exchange["body"], self.values)
        return body, exchange["status"], {"Content-Type": "application/json", "Request-Id": "req_recorded"}

    def close(self) -> None:
        pass


def signed(body: str, secret: str = SECRET) -> dict[str, str]:
    """The ``Stripe-Signature`` header Stripe sends: t=<unix>,v1=HMAC-SHA256(secret, "t.body")."""
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}"}


def event(kind: str, **values: str) -> str:
    return _render(RECORDED["events"][kind], values)


def deliver(body: str, headers: dict[str, str]) -> Any:
    return Client().post(
        "/api/v1/payments/webhooks/card", data=body.encode(), content_type="application/json", headers=headers
    )


@pytest.fixture
def recorded_stripe(settings: Any, monkeypatch: pytest.MonkeyPatch) -> RecordedStripe:
    settings.STRIPE_API_KEY = "sk_test_recorded"
    settings.PAYMENT_CARD_WEBHOOK_SECRET = SECRET
    client = RecordedStripe()
    monkeypatch.setattr(providers, "_stripe_http_client", client)
    return client


@pytest.fixture
def world(db: Any) -> World:
    return World()


def _saved_card(world: World) -> SavedPaymentMethod:
    return SavedPaymentMethod.objects.create(
        partner=world.partner,
        provider="card",
        customer_ref="cus_RecordedPartner1",
        method_ref="pm_1RecordedVisa4242",
        brand="visa",
        last4="4242",
        is_default=True,
    )


def _renewal(world: World, capture: Callable[..., Any]) -> Invoice:
    """A renewal invoice of 480.00 issued today: its after-commit hook charges the saved card (the
    webhook then answers today, so the retry falls on the schedule's day from the issue date)."""
    with capture(execute=True):
        invoice = invoice_issue(
            partner=world.partner,
            lines=[line("480.00")],
            issued_on=vendor_today(),
            source_key="renewal:recorded:1",
        )
    return invoice


def test_stripe_setup_completed_saves_the_method(world: World, recorded_stripe: RecordedStripe) -> None:
    # when the partner starts saving a card with Stripe
    setup = methods.method_setup_start(actor=Actor(user=world.user), provider_code="card")
    # then a Customer was created once per partner and a Checkout Session in setup mode opened
    assert setup.redirect_url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    (customer_key, customer_form, customer_headers), (session_key, form, headers) = recorded_stripe.requests
    assert customer_key == "post /v1/customers" and customer_form["metadata[partner]"] == "p"
    assert customer_headers["Idempotency-Key"] == "customer-p"
    assert session_key == "post /v1/checkout/sessions"
    assert (form["mode"], form["customer"], form["currency"]) == ("setup", "cus_RecordedPartner1", "eur")
    assert form["client_reference_id"] == setup.reference == form["setup_intent_data[metadata][reference]"]
    assert headers["Idempotency-Key"] == f"setup-{setup.reference}"
    assert setup.customer_ref == "cus_RecordedPartner1"
    # when Stripe's checkout.session.completed (mode setup) arrives, signed
    body = event("checkout.session.completed", reference=setup.reference)
    response = deliver(body, signed(body))
    # then the card is saved from its SetupIntent and PaymentMethod: ids, brand, last four, expiry
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "saved visa •••• 4242 12/2030"
    method = SavedPaymentMethod.objects.get()
    assert (method.provider, method.customer_ref, method.method_ref) == (
        "card",
        "cus_RecordedPartner1",
        "pm_1RecordedVisa4242",
    )
    assert (method.brand, method.last4, method.exp_month, method.exp_year, method.is_default) == (
        "visa",
        "4242",
        12,
        2030,
        True,
    )
    assert MethodSetup.objects.get().status == CheckoutStatus.PAID
    # a replayed delivery changes nothing
    assert deliver(body, signed(body)).json()["outcome"].startswith("replayed")
    assert SavedPaymentMethod.objects.count() == 1


def test_a_forged_setup_webhook_saves_nothing(world: World, recorded_stripe: RecordedStripe) -> None:
    setup = methods.method_setup_start(actor=Actor(user=world.user), provider_code="card")
    body = event("checkout.session.completed", reference=setup.reference)
    response = deliver(body, signed(body, secret="whsec_someone_else"))
    assert response.status_code == 403 and response.json()["error"]["rule"] == "R-INV-4"
    assert not SavedPaymentMethod.objects.exists() and not WebhookEvent.objects.exists()
    assert MethodSetup.objects.get().status == CheckoutStatus.OPEN


def test_payment_intent_payment_failed_records_the_attempt_failed(
    world: World, recorded_stripe: RecordedStripe, django_capture_on_commit_callbacks: Any
) -> None:
    # given a saved Stripe card and a renewal invoice: the off-session PaymentIntent is processing
    _saved_card(world)
    invoice = _renewal(world, django_capture_on_commit_callbacks)
    attempt = ChargeAttempt.objects.get()
    assert (attempt.status, attempt.provider_ref, attempt.amount) == (
        AttemptStatus.PENDING,
        "pi_3RecordedOffSession1",
        Decimal("480.00"),
    )
    ((key, form, headers),) = recorded_stripe.requests
    assert key == "post /v1/payment_intents processing"
    assert (form["off_session"], form["confirm"], form["amount"], form["currency"]) == (
        "true",
        "true",
        "48000",
        "eur",
    )
    assert (form["customer"], form["payment_method"]) == ("cus_RecordedPartner1", "pm_1RecordedVisa4242")
    assert form["metadata[reference]"] == attempt.reference
    assert headers["Idempotency-Key"] == f"charge-{attempt.reference}"
    # when Stripe's payment_intent.payment_failed arrives
    body = event("payment_intent.payment_failed", reference=attempt.reference, amount="48000")
    response = deliver(body, signed(body))
    # then the attempt failed with Stripe's decline code, the invoice is still due, a retry is set
    assert response.status_code == 200 and response.json()["outcome"] == f"charge failed {attempt.reference}"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_reason) == (AttemptStatus.FAILED, "insufficient_funds")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE and invoice.amount_due == Decimal("480.00")
    assert not Payment.objects.exists()
    retry = ChargeAttempt.objects.get(number=2)
    assert retry.status == AttemptStatus.SCHEDULED and retry.scheduled_on == vendor_today() + timedelta(
        days=3
    )


def test_a_declined_off_session_charge_is_recorded_with_its_decline_code(
    world: World, recorded_stripe: RecordedStripe, django_capture_on_commit_callbacks: Any
) -> None:
    recorded_stripe.intent = "declined"  # Stripe answers 402 card_error: the library raises CardError
    _saved_card(world)
    invoice = _renewal(world, django_capture_on_commit_callbacks)
    attempt = ChargeAttempt.objects.get(number=1)
    assert (attempt.status, attempt.decline_reason, attempt.provider_ref) == (
        AttemptStatus.FAILED,
        "insufficient_funds",
        "pi_3RecordedOffSession3",
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE and not Payment.objects.exists()


def test_a_succeeded_charge_pays_once_and_a_forged_one_changes_nothing(
    world: World, recorded_stripe: RecordedStripe, django_capture_on_commit_callbacks: Any
) -> None:
    _saved_card(world)
    invoice = _renewal(world, django_capture_on_commit_callbacks)
    attempt = ChargeAttempt.objects.get()
    body = event("payment_intent.succeeded", reference=attempt.reference, amount="48000")
    # a forger replays the genuine signature on another body, or signs with another secret
    forged = body.replace('"amount_received": 48000', '"amount_received": 96000')
    assert forged != body
    assert deliver(forged, signed(body)).status_code == 403
    assert deliver(body, signed(body, secret="whsec_dev_card")).status_code == 403
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.PENDING
    assert not Payment.objects.exists() and not WebhookEvent.objects.exists()
    # the genuine event pays the invoice, once
    response = deliver(body, signed(body))
    assert response.json()["outcome"] == f"charge succeeded {attempt.reference}"
    assert deliver(body, signed(body)).json()["outcome"].startswith("replayed")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    payment = Payment.objects.get()
    assert (payment.method, payment.provider_ref, payment.amount) == ("card", "pi_3RecordedOffSession1", 480)


def test_a_synchronously_succeeded_charge_pays_the_invoice(
    world: World, recorded_stripe: RecordedStripe, django_capture_on_commit_callbacks: Any
) -> None:
    recorded_stripe.intent = "succeeded"
    _saved_card(world)
    invoice = _renewal(world, django_capture_on_commit_callbacks)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert ChargeAttempt.objects.get().status == AttemptStatus.SUCCEEDED
    assert Payment.objects.get().provider_ref == "pi_3RecordedOffSession2"


def test_money_taken_after_a_lost_answer_is_recorded_not_lost(
    world: World, recorded_stripe: RecordedStripe, django_capture_on_commit_callbacks: Any
) -> None:
    # given an off-session charge whose answer was lost (a network error): counted failed
    class Unreachable(RecordedStripe):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            raise stripe.APIConnectionError("connection reset")

    providers._stripe_http_client = Unreachable()
    _saved_card(world)
    invoice = _renewal(world, django_capture_on_commit_callbacks)
    attempt = ChargeAttempt.objects.get(number=1)
    assert attempt.status == AttemptStatus.FAILED and attempt.decline_reason.startswith("provider error")
    # when Stripe's payment_intent.succeeded for it arrives after all
    body = event("payment_intent.succeeded", reference=attempt.reference, amount="48000")
    assert deliver(body, signed(body)).status_code == 200
    # then the payment is recorded and the invoice paid; the scheduled retry will find nothing due
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.payment is not None
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and Payment.objects.count() == 1
