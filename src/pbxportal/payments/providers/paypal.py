"""The PayPal provider: a hosted approval page and webhooks with PayPal's transmission headers.

PayPal signs ``"{transmission_id}|{transmission_time}|{webhook_id}|{crc32(body)}"``. A real
deployment verifies it with RSA-SHA256 against the certificate named in ``PAYPAL-CERT-URL``
(which must be on ``api.paypal.com`` / ``api.sandbox.paypal.com`` and chain to PayPal's CA), or
asks PayPal's ``/v1/notifications/verify-webhook-signature`` endpoint; both need PayPal's network.
This adapter signs the same string with HMAC-SHA256 and a configured webhook secret, so the
recorded-payload tests run offline (docs/payments.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from pbxportal.payments.providers.base import InvalidSignature, ProviderEvent

TOLERANCE_SECONDS = 300


def signed_string(*, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> str:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"


def sign(*, body: bytes, secret: str, webhook_id: str, transmission_id: str, transmission_time: str) -> str:
    message = signed_string(
        transmission_id=transmission_id, transmission_time=transmission_time, webhook_id=webhook_id, body=body
    )
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


class PayPalProvider:
    code = "paypal"

    def __init__(self, *, checkout_url: str, webhook_id: str, webhook_secret: str) -> None:
        self.checkout_url = checkout_url
        self.webhook_id = webhook_id
        self.webhook_secret = webhook_secret

    def hosted_page_url(self, *, reference: str, amount: Decimal, currency: str, description: str) -> str:
        query = urlencode(
            {
                "custom_id": reference,
                "amount": f"{amount:.2f}",
                "currency_code": currency,
                "description": description,
            }
        )
        return f"{self.checkout_url}?{query}"

    def _verify(self, body: bytes, headers: Mapping[str, str], now: datetime) -> None:
        transmission_id = headers.get("PAYPAL-TRANSMISSION-ID", "")
        transmission_time = headers.get("PAYPAL-TRANSMISSION-TIME", "")
        given = headers.get("PAYPAL-TRANSMISSION-SIG", "")
        if not (transmission_id and transmission_time and given):
            raise InvalidSignature("PayPal transmission headers missing")
        try:
            sent = datetime.fromisoformat(transmission_time.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidSignature("bad PAYPAL-TRANSMISSION-TIME") from None
        if abs((now - sent).total_seconds()) > TOLERANCE_SECONDS:
            raise InvalidSignature("the transmission time is outside the tolerance")
        expected = sign(
            body=body,
            secret=self.webhook_secret,
            webhook_id=self.webhook_id,
            transmission_id=transmission_id,
            transmission_time=transmission_time,
        )
        if not hmac.compare_digest(expected, given):
            raise InvalidSignature("the transmission signature does not match")

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        self._verify(body, headers, now)
        event = json.loads(body)
        resource = event.get("resource", {})
        if event.get("event_type") != "PAYMENT.CAPTURE.COMPLETED" or resource.get("status") != "COMPLETED":
            return ProviderEvent(event_id=event["id"], event_type=event.get("event_type", ""), paid=False)
        return ProviderEvent(
            event_id=event["id"],
            event_type=event["event_type"],
            paid=True,
            reference=resource["custom_id"],
            provider_ref=resource["id"],
            amount=Decimal(resource["amount"]["value"]),
            currency=resource["amount"]["currency_code"],
        )
