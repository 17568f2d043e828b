"""The built-in sandbox provider (R-INV-4): a provider's test mode served by the portal itself.

``hosted_page_url`` is the portal's own page ``/payments/sandbox/<reference>/``; there test card
numbers succeed (``4242 4242 4242 4242``) or are declined (``4000 0000 0000 0002``), and the page
then sends a signed webhook to the portal's ``/api/v1/payments/webhooks/sandbox`` like a real
provider: ``Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`` with
``PAYMENT_SANDBOX_WEBHOOK_SECRET``, 5 minutes' tolerance; replays are refused by event id.
The default of the embedded run; off in production unless ``PAYMENT_SANDBOX_ENABLED=1``.

Saved cards (build item 6): ``/payments/sandbox/setup/<reference>/`` is the hosted "save card"
page. ``4242 4242 4242 4242`` is saved and its charges succeed; ``4000 0000 0000 0341`` is saved
but every charge of it is declined (like Stripe's test card); ``4000 0000 0000 0002`` is refused
when saving. A ``setup.succeeded`` / ``setup.declined`` webhook, signed like the others, follows.
Off-session charges answer at once (like a confirmed PaymentIntent); the sandbox keeps no vault
of its own: its payment-method id carries the test card's last four digits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from pbxportal.payments.providers.base import CardDetails, ChargeResult, InvalidSignature, ProviderEvent

HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300
SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
CHARGE_FAILS = "4000000000000341"


def sign(*, body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def card_outcome(number: str) -> str | None:
    """``succeeded`` or ``declined`` for the test cards; None for any other number."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return {SUCCEEDS: "succeeded", DECLINED: "declined"}.get(digits)


def setup_outcome(number: str) -> str | None:
    """``succeeded`` (4242…, 0341…) or ``declined`` (0002…) when saving; None for other numbers."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return {SUCCEEDS: "succeeded", CHARGE_FAILS: "succeeded", DECLINED: "declined"}.get(digits)


def setup_event_body(*, reference: str, outcome: str, customer: str, number: str, year: int) -> bytes:
    """The JSON of a sandbox ``setup.succeeded`` / ``setup.declined`` webhook."""
    last4 = "".join(ch for ch in number if ch.isdigit())[-4:]
    data: dict[str, object] = {"reference": reference, "customer": customer}
    if outcome == "succeeded":
        data.update(
            payment_method=f"pm_sbx_{last4}_{secrets.token_hex(8)}",
            brand="visa",
            last4=last4,
            exp_month=12,
            exp_year=year + 3,
        )
    return json.dumps(
        {"id": "evt_sbx_" + secrets.token_hex(12), "type": f"setup.{outcome}", "data": data}
    ).encode()


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

    def customer_create(self, *, partner_key: str, name: str, email: str) -> str:
        return "cus_sbx_" + secrets.token_hex(10)

    def setup_page_url(self, *, reference: str, customer_ref: str, currency: str) -> str:
        from django.urls import reverse

        return reverse("payments:sandbox_setup_page", args=[reference])

    def describe_method(self, method_ref: str) -> CardDetails:
        parts = method_ref.split("_")
        return CardDetails(brand="visa", last4=parts[2] if len(parts) > 3 else "")

    def charge_saved(
        self, *, reference: str, customer_ref: str, method_ref: str, amount: Decimal, currency: str
    ) -> ChargeResult:
        if not method_ref.startswith("pm_sbx_"):
            return ChargeResult(status="failed", decline_reason="no_such_payment_method")
        if self.describe_method(method_ref).last4 == CHARGE_FAILS[-4:]:
            return ChargeResult(
                status="failed",
                provider_ref="pay_sbx_" + secrets.token_hex(12),
                decline_reason="card_declined",
            )
        return ChargeResult(status="succeeded", provider_ref="pay_sbx_" + secrets.token_hex(12))

    def detach_method(self, method_ref: str) -> None:
        """The sandbox keeps no vault: nothing to forget."""

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
        if str(event.get("type", "")).startswith("setup."):
            succeeded = event["type"] == "setup.succeeded"
            return ProviderEvent(
                event_id=event["id"],
                event_type=event["type"],
                paid=False,
                declined=not succeeded,
                kind="setup",
                reference=data.get("reference", ""),
                customer_ref=data.get("customer", ""),
                method_ref=data.get("payment_method", ""),
                card=CardDetails(
                    brand=data.get("brand", ""),
                    last4=data.get("last4", ""),
                    exp_month=data.get("exp_month"),
                    exp_year=data.get("exp_year"),
                )
                if succeeded
                else None,
            )
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
