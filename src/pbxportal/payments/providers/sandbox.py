"""The built-in sandbox provider (R-INV-4): a provider's test mode served by the portal itself.

``hosted_page_url`` is the portal's own page ``/payments/sandbox/<reference>/``; there test card
numbers succeed (``4242 4242 4242 4242``) or are declined (``4000 0000 0000 0002``), and the page
then sends a signed webhook to the portal's ``/api/v1/payments/webhooks/sandbox`` like a real
provider: ``Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`` with
``PAYMENT_SANDBOX_WEBHOOK_SECRET``, 5 minutes' tolerance; replays are refused by event id.
The default of the embedded run; off in production unless ``PAYMENT_SANDBOX_ENABLED=1``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from pbxportal.payments.providers.base import InvalidSignature, ProviderEvent

HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300
SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"


def sign(*, body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def card_outcome(number: str) -> str | None:
    """``succeeded`` or ``declined`` for the test cards; None for any other number."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return {SUCCEEDS: "succeeded", DECLINED: "declined"}.get(digits)


def event_body(*, reference: str, outcome: str, amount: Decimal, currency: str) -> bytes:
    """The JSON a sandbox webhook carries."""
    return json.dumps(
        {
            "id": "evt_sbx_" + secrets.token_hex(12),
            "type": f"payment.{outcome}",
            "data": {
                "reference": reference,
                "payment_id": "pay_sbx_" + secrets.token_hex(12),
                "amount": str(amount),
                "currency": currency,
            },
        }
    ).encode()


class SandboxProvider:
    code = "sandbox"

    def __init__(self, *, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    def hosted_page_url(self, *, reference: str, amount: Decimal, currency: str, description: str) -> str:
        from django.urls import reverse

        return reverse("payments:sandbox_page", args=[reference])

    def signed_headers(self, body: bytes, now: datetime) -> dict[str, str]:
        return {
            HEADER: sign(body=body, secret=self.webhook_secret, timestamp=int(now.timestamp())),
            "Content-Type": "application/json",
        }

    def _verify(self, body: bytes, header: str, now: datetime) -> None:
        parts = dict(item.strip().partition("=")[::2] for item in header.split(",") if "=" in item)
        try:
            timestamp = int(parts["t"])
        except (KeyError, ValueError):
            raise InvalidSignature("no timestamp in the signature header") from None
        if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidSignature("the signature's timestamp is outside the tolerance")
        expected = sign(body=body, secret=self.webhook_secret, timestamp=timestamp).split("v1=")[1]
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise InvalidSignature("the signature does not match")

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        self._verify(body, headers.get(HEADER, ""), now)
        event = json.loads(body)
        data = event.get("data", {})
        paid = event.get("type") == "payment.succeeded"
        return ProviderEvent(
            event_id=event["id"],
            event_type=event.get("type", ""),
            paid=paid,
            declined=event.get("type") == "payment.declined",
            reference=data.get("reference", ""),
            provider_ref=data.get("payment_id", ""),
            amount=Decimal(str(data.get("amount", "0"))),
            currency=data.get("currency", ""),
        )
