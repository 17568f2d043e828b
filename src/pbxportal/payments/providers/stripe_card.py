"""Card payments through Stripe's official library (R-INV-4): a Checkout Session per payment and
webhooks verified with ``stripe.Webhook.construct_event`` (the library's own ``Stripe-Signature``
check, 5 minutes' tolerance). The HTTP client is injectable (``stripe.HTTPClient``), so tests play
recorded request/response pairs without Stripe's network.

Saved cards (build item 6): a Customer per partner, a Checkout Session in ``setup`` mode to save a
card, the card read back from its PaymentMethod (brand, last four, expiry: never the number), and
off-session PaymentIntents (``confirm=True, off_session=True``) to charge it. Webhooks:
``checkout.session.completed`` (mode ``setup``) / ``setup_intent.succeeded`` save the card;
``payment_intent.succeeded`` / ``payment_intent.payment_failed`` settle a charge attempt whose
reference is in the PaymentIntent's metadata."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import stripe

from pbxportal.core.money import minor_units
from pbxportal.payments.providers.base import CardDetails, ChargeResult, InvalidSignature, ProviderEvent

HEADER = "Stripe-Signature"


def to_minor(amount: Decimal, currency: str) -> int:
    """Stripe amounts are integers in the currency's minor unit (R-CAT-6: exact, no float)."""
    value = amount * 10 ** minor_units(currency)
    if value != value.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency")
    return int(value)


class StripeProvider:
    code = "card"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        success_url: str,
        cancel_url: str,
        http_client: stripe.HTTPClient | None = None,
        setup_return_url: str = "",
    ) -> None:
        self.setup_return_url = setup_return_url or success_url
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.http_client = http_client

    def _client(self) -> stripe.StripeClient:
        return stripe.StripeClient(self.api_key, http_client=self.http_client, max_network_retries=0)

    def hosted_page_url(self, *, reference: str, amount: Decimal, currency: str, description: str) -> str:
        """Create the Checkout Session (one per payment) and return Stripe's hosted page URL."""
        session = self._client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "client_reference_id": reference,
                "success_url": self.success_url,
                "cancel_url": self.cancel_url,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency.lower(),
                            "unit_amount": to_minor(amount, currency),
                            "product_data": {"name": description},
                        },
                    }
                ],
                "metadata": {"reference": reference},
            },
            options={"idempotency_key": f"checkout-{reference}"},
        )
        return str(session.url)

    def customer_create(self, *, partner_key: str, name: str, email: str) -> str:
        params: dict[str, Any] = {"name": name, "metadata": {"partner": partner_key}}
        if email:
            params["email"] = email
        customer = self._client().v1.customers.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"customer-{partner_key}"},
        )
        return str(customer.id)

    def setup_page_url(self, *, reference: str, customer_ref: str, currency: str) -> str:
        """A Checkout Session in setup mode: Stripe's hosted page saves the card to the customer."""
        params: Any = {
            "mode": "setup",
            "currency": currency.lower(),
            "customer": customer_ref,
            "payment_method_types": ["card"],
            "client_reference_id": reference,
            "success_url": self.setup_return_url,
            "cancel_url": self.setup_return_url,
            "metadata": {"reference": reference},
            "setup_intent_data": {"metadata": {"reference": reference}},
        }
        session = self._client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"setup-{reference}"}
        )
        return str(session.url)

    def setup_intent_method(self, setup_intent_ref: str) -> str:
        """The PaymentMethod a completed SetupIntent saved."""
        intent = self._client().v1.setup_intents.retrieve(setup_intent_ref)
        method = intent.payment_method
        return str(method if isinstance(method, str) else getattr(method, "id", ""))

    def describe_method(self, method_ref: str) -> CardDetails:
        method = self._client().v1.payment_methods.retrieve(method_ref)
        card = method.card
        if card is None:
            return CardDetails(brand=str(method.type))
        return CardDetails(
            brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year
        )

    def charge_saved(
        self, *, reference: str, customer_ref: str, method_ref: str, amount: Decimal, currency: str
    ) -> ChargeResult:
        """An off-session PaymentIntent, confirmed at once; a decline is Stripe's CardError."""
        try:
            intent = self._client().v1.payment_intents.create(
                params={
                    "amount": to_minor(amount, currency),
                    "currency": currency.lower(),
                    "customer": customer_ref,
                    "payment_method": method_ref,
                    "off_session": True,
                    "confirm": True,
                    "metadata": {"reference": reference},
                },
                options={"idempotency_key": f"charge-{reference}"},
            )
        except stripe.CardError as exc:
            error = exc.error
            intent_ref = ""
            if error is not None and error.payment_intent is not None:
                intent_ref = str(error.payment_intent.id or "")
            reason = (error.decline_code if error is not None else None) or exc.code or "card_declined"
            return ChargeResult(status="failed", provider_ref=intent_ref, decline_reason=str(reason))
        if intent.status == "succeeded":
            return ChargeResult(status="succeeded", provider_ref=intent.id)
        if intent.status == "processing":
            return ChargeResult(status="pending", provider_ref=intent.id)
        return ChargeResult(status="failed", provider_ref=intent.id, decline_reason=str(intent.status))

    def detach_method(self, method_ref: str) -> None:
        self._client().v1.payment_methods.detach(method_ref)

    def _method_event(self, event: dict[str, Any]) -> ProviderEvent | None:
        """Events of saved cards and off-session charges; None for any other event."""
        obj = event["data"]["object"]
        common = {"event_id": event["id"], "event_type": event["type"], "paid": False}
        kind = event["type"]
        if kind == "checkout.session.completed" and obj.get("mode") == "setup":
            return ProviderEvent(
                **common,
                kind="setup",
                reference=obj.get("client_reference_id") or "",
                customer_ref=obj.get("customer") or "",
                provider_ref=obj.get("setup_intent") or "",
            )
        if kind in ("setup_intent.succeeded", "setup_intent.setup_failed"):
            return ProviderEvent(
                **common,
                kind="setup",
                declined=kind == "setup_intent.setup_failed",
                reference=(obj.get("metadata") or {}).get("reference", ""),
                customer_ref=obj.get("customer") or "",
                method_ref=obj.get("payment_method") or "",
                provider_ref=obj["id"],
            )
        if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            reference = (obj.get("metadata") or {}).get("reference", "")
            if not reference.startswith("chg_"):
                return None  # a Checkout Session's PaymentIntent: its session event pays
            currency = str(obj["currency"]).upper()
            error = obj.get("last_payment_error") or {}
            succeeded = kind == "payment_intent.succeeded"
            received = obj.get("amount_received") if succeeded else obj.get("amount")
            return ProviderEvent(
                event_id=event["id"],
                event_type=kind,
                paid=succeeded,
                declined=not succeeded,
                kind="charge",
                reference=reference,
                provider_ref=obj["id"],
                amount=Decimal(int(received or 0)) / 10 ** minor_units(currency),
                currency=currency,
                decline_reason=str(error.get("decline_code") or error.get("code") or ""),
            )
        return None

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        try:
            verified = stripe.Webhook.construct_event(body, headers.get(HEADER, ""), self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(str(exc.user_message or "the signature does not match")) from None
        except ValueError:
            raise InvalidSignature("the body is not a Stripe event") from None
        event: dict[str, Any] = verified.to_dict()
        obj = event["data"]["object"]
        method_event = self._method_event(event)
        if method_event is not None:
            return method_event
        if event["type"] == "checkout.session.async_payment_failed":
            return ProviderEvent(
                event_id=event["id"], event_type=event["type"], paid=False, declined=True,
                reference=obj.get("client_reference_id") or "",
            )  # fmt: skip
        if event["type"] not in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            return ProviderEvent(event_id=event["id"], event_type=event["type"], paid=False)
        if obj.get("payment_status") != "paid":
            return ProviderEvent(event_id=event["id"], event_type=event["type"], paid=False)
        currency = str(obj["currency"]).upper()
        return ProviderEvent(
            event_id=event["id"],
            event_type=event["type"],
            paid=True,
            reference=obj["client_reference_id"],
            provider_ref=obj.get("payment_intent") or obj["id"],
            amount=Decimal(int(obj["amount_total"])) / 10 ** minor_units(currency),
            currency=currency,
        )
