"""The card provider, Stripe-style: a hosted Checkout page and ``Stripe-Signature: t=…,v1=…``
webhooks, HMAC-SHA256 over ``"{t}.{body}"`` with the endpoint's secret, 5 minutes' tolerance."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from pbxportal.core.money import minor_units
from pbxportal.payments.providers.base import InvalidSignature, ProviderEvent

TOLERANCE_SECONDS = 300
HEADER = "Stripe-Signature"


def sign(*, body: bytes, secret: str, timestamp: int) -> str:
    """The header value a provider sends (used to build recorded payloads and by tests)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class CardProvider:
    code = "card"

    def __init__(self, *, checkout_url: str, webhook_secret: str) -> None:
        self.checkout_url = checkout_url
        self.webhook_secret = webhook_secret

    def hosted_page_url(self, *, reference: str, amount: Decimal, currency: str, description: str) -> str:
        cents = int(amount * 10 ** minor_units(currency))
        query = urlencode(
            {
                "client_reference_id": reference,
                "amount": cents,
                "currency": currency.lower(),
                "description": description,
            }
        )
        return f"{self.checkout_url}?{query}"

    def _verify(self, body: bytes, header: str, now: datetime) -> None:
        parts: dict[str, list[str]] = {}
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            parts.setdefault(key, []).append(value)
        try:
            timestamp = int(parts["t"][0])
        except (KeyError, ValueError):
            raise InvalidSignature("no timestamp in the signature header") from None
        if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidSignature("the signature's timestamp is outside the tolerance")
        expected = sign(body=body, secret=self.webhook_secret, timestamp=timestamp).split("v1=")[1]
        if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
            raise InvalidSignature("the signature does not match")

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        self._verify(body, headers.get(HEADER, ""), now)
        event = json.loads(body)
        obj = event.get("data", {}).get("object", {})
        paid = event.get("type") == "checkout.session.completed" and obj.get("payment_status") == "paid"
        if not paid:
            return ProviderEvent(event_id=event["id"], event_type=event.get("type", ""), paid=False)
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
