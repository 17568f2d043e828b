"""Card payments through Stripe's official library (R-INV-4): a Checkout Session per payment and
webhooks verified with ``stripe.Webhook.construct_event`` (the library's own ``Stripe-Signature``
check, 5 minutes' tolerance). The HTTP client is injectable (``stripe.HTTPClient``), so tests play
recorded request/response pairs without Stripe's network."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import stripe

from pbxportal.core.money import minor_units
from pbxportal.payments.providers.base import InvalidSignature, ProviderEvent

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
    ) -> None:
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

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        try:
            verified = stripe.Webhook.construct_event(body, headers.get(HEADER, ""), self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(str(exc.user_message or "the signature does not match")) from None
        except ValueError:
            raise InvalidSignature("the body is not a Stripe event") from None
        event: dict[str, Any] = verified.to_dict()
        obj = event["data"]["object"]
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
