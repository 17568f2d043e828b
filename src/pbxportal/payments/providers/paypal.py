"""PayPal through its REST API (R-INV-4): an order per payment (``POST /v2/checkout/orders``,
intent CAPTURE, the checkout reference as ``custom_id``), the buyer approves on PayPal's page, the
portal captures it on return (``POST /v2/checkout/orders/{id}/capture``), and the
``PAYMENT.CAPTURE.COMPLETED`` webhook records the payment.

Webhooks are verified as PayPal specifies for self-verification: the signed message is
``"{transmission_id}|{transmission_time}|{webhook_id}|{crc32(body)}"`` (CRC32 as an unsigned
decimal), the signature ``PAYPAL-TRANSMISSION-SIG`` is base64 RSA ``SHA256withRSA`` by the
certificate at ``PAYPAL-CERT-URL``, which must be an https URL on PayPal's API hosts and valid at
the transmission time. The CRC only binds the body into the RSA signature; the RSA check is what
proves PayPal sent it. Seen transmission ids are kept (``WebhookEvent.transmission_id``), so a
replayed transmission changes nothing.

The HTTP transport (httpx) and the certificate fetcher are injectable: tests play recorded
exchanges and a test certificate (docs/payments.md).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlparse

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pbxportal.payments.providers.base import InvalidSignature, ProviderEvent

TOLERANCE_SECONDS = 300
CERT_HOSTS = frozenset(
    {"api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"}
)

CertFetcher = Callable[[str], bytes]


def signed_message(*, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()


@lru_cache(maxsize=16)
def _fetch_cert(url: str) -> bytes:
    return httpx.get(url, timeout=10).raise_for_status().content


class PayPalProvider:
    code = "paypal"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str,
        webhook_id: str,
        return_url: str,
        cancel_url: str,
        transport: httpx.BaseTransport | None = None,
        cert_fetcher: CertFetcher | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.api_base = api_base.rstrip("/")
        self.webhook_id = webhook_id
        self.return_url = return_url
        self.cancel_url = cancel_url
        self.transport = transport
        self.cert_fetcher = cert_fetcher or _fetch_cert

    # --- REST: orders and capture -----------------------------------------------------------

    def _http(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_base, transport=self.transport, timeout=20)

    def _token(self, http: httpx.Client) -> str:
        response = http.post(
            "/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def hosted_page_url(self, *, reference: str, amount: Decimal, currency: str, description: str) -> str:
        """Create the order; the buyer approves it on PayPal's page (the ``payer-action`` link)."""
        with self._http() as http:
            token = self._token(http)
            response = http.post(
                "/v2/checkout/orders",
                headers={"Authorization": f"Bearer {token}", "PayPal-Request-Id": f"order-{reference}"},
                json={
                    "intent": "CAPTURE",
                    "purchase_units": [
                        {
                            "custom_id": reference,
                            "description": description[:127],
                            "amount": {"currency_code": currency, "value": f"{amount:.2f}"},
                        }
                    ],
                    "payment_source": {
                        "paypal": {
                            "experience_context": {
                                "return_url": self.return_url,
                                "cancel_url": self.cancel_url,
                                "user_action": "PAY_NOW",
                            }
                        }
                    },
                },
            )
            response.raise_for_status()
            links = {link["rel"]: link["href"] for link in response.json()["links"]}
        return links.get("payer-action") or links["approve"]

    def capture(self, *, order_id: str) -> dict[str, object]:
        """Capture an approved order (on the buyer's return); the webhook records the payment."""
        with self._http() as http:
            token = self._token(http)
            response = http.post(
                f"/v2/checkout/orders/{order_id}/capture",
                headers={
                    "Authorization": f"Bearer {token}",
                    "PayPal-Request-Id": f"capture-{order_id}",
                    "Content-Type": "application/json",
                },
            )
            response.raise_for_status()
            captured: dict[str, object] = response.json()
            return captured

    # --- webhooks -----------------------------------------------------------------------------

    def _verify(self, body: bytes, headers: Mapping[str, str], now: datetime) -> None:
        transmission_id = headers.get("PAYPAL-TRANSMISSION-ID", "")
        transmission_time = headers.get("PAYPAL-TRANSMISSION-TIME", "")
        given = headers.get("PAYPAL-TRANSMISSION-SIG", "")
        cert_url = headers.get("PAYPAL-CERT-URL", "")
        if not (transmission_id and transmission_time and given and cert_url):
            raise InvalidSignature("PayPal transmission headers missing")
        if headers.get("PAYPAL-AUTH-ALGO", "SHA256withRSA") != "SHA256withRSA":
            raise InvalidSignature("unsupported PAYPAL-AUTH-ALGO")
        try:
            sent = datetime.fromisoformat(transmission_time.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidSignature("bad PAYPAL-TRANSMISSION-TIME") from None
        if abs((now - sent).total_seconds()) > TOLERANCE_SECONDS:
            raise InvalidSignature("the transmission time is outside the tolerance")
        url = urlparse(cert_url)
        if url.scheme != "https" or url.hostname not in CERT_HOSTS:
            raise InvalidSignature("PAYPAL-CERT-URL is not on PayPal's API hosts")
        try:
            cert = x509.load_pem_x509_certificate(self.cert_fetcher(cert_url))
        except (ValueError, httpx.HTTPError):
            raise InvalidSignature("PayPal's certificate could not be read") from None
        if not (cert.not_valid_before_utc <= sent.astimezone(UTC) <= cert.not_valid_after_utc):
            raise InvalidSignature("PayPal's certificate is not valid at the transmission time")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature("PayPal's certificate has no RSA key")
        message = signed_message(
            transmission_id=transmission_id,
            transmission_time=transmission_time,
            webhook_id=self.webhook_id,
            body=body,
        )
        try:
            key.verify(base64.b64decode(given), message, padding.PKCS1v15(), hashes.SHA256())
        except (CryptoInvalidSignature, ValueError):
            raise InvalidSignature("the transmission signature does not match") from None

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        self._verify(body, headers, now)
        event = json.loads(body)
        resource = event.get("resource", {})
        transmission_id = headers.get("PAYPAL-TRANSMISSION-ID", "")
        if event.get("event_type") == "PAYMENT.CAPTURE.DENIED":
            return ProviderEvent(
                event_id=event["id"], event_type=event["event_type"], paid=False, declined=True,
                reference=resource.get("custom_id", ""), transmission_id=transmission_id,
            )  # fmt: skip
        if event.get("event_type") != "PAYMENT.CAPTURE.COMPLETED" or resource.get("status") != "COMPLETED":
            return ProviderEvent(
                event_id=event["id"], event_type=event.get("event_type", ""), paid=False,
                transmission_id=transmission_id,
            )  # fmt: skip
        return ProviderEvent(
            event_id=event["id"],
            event_type=event["event_type"],
            paid=True,
            reference=resource["custom_id"],
            provider_ref=resource["id"],
            amount=Decimal(resource["amount"]["value"]),
            currency=resource["amount"]["currency_code"],
            transmission_id=transmission_id,
        )
