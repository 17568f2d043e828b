from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from pbxportal.invoicing.models import Invoice
from pbxportal.payments import providers
from pbxportal.payments.providers.paypal import signed_message
from tests.pbx.builders import World

RECORDED = Path(__file__).parent / "recorded"
RECORDED_AT = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
START = date(2025, 3, 10)


# PayPal signs with the key of the certificate at PAYPAL-CERT-URL; offline, the tests stand in a
# test certificate at the recorded URL and sign the recorded transmissions with its key.
PAYPAL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.sandbox.paypal.com")])
PAYPAL_CERT = (
    x509.CertificateBuilder()
    .subject_name(_name)
    .issuer_name(_name)
    .public_key(PAYPAL_KEY.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
    .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
    .sign(PAYPAL_KEY, hashes.SHA256())
    .public_bytes(serialization.Encoding.PEM)
)


def paypal_sign(record: dict[str, Any], webhook_id: str = "WH-RECORDED", body: str | None = None) -> None:
    headers = record["headers"]
    message = signed_message(
        transmission_id=headers["PAYPAL-TRANSMISSION-ID"],
        transmission_time=headers["PAYPAL-TRANSMISSION-TIME"],
        webhook_id=webhook_id,
        body=(body if body is not None else record["body"]).encode(),
    )
    signature = PAYPAL_KEY.sign(message, padding.PKCS1v15(), hashes.SHA256())
    headers["PAYPAL-TRANSMISSION-SIG"] = base64.b64encode(signature).decode()


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text())
    if name.startswith("paypal_") and "headers" in data:
        paypal_sign(data)
    return data


@pytest.fixture
def provider_secrets(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.PAYMENT_CARD_WEBHOOK_SECRET = "whsec_recorded_test"
    settings.PAYMENT_PAYPAL_WEBHOOK_ID = "WH-RECORDED"

    def fetch(url: str) -> bytes:
        assert url == recorded_cert_url(), url
        return PAYPAL_CERT

    monkeypatch.setattr(providers, "_paypal_cert_fetcher", fetch)


def recorded_cert_url() -> str:
    data = json.loads((RECORDED / "paypal_capture_completed.json").read_text())
    return str(data["headers"]["PAYPAL-CERT-URL"])


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(RECORDED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def billed(db: Any, frozen: Any) -> tuple[World, Invoice]:
    """A partner with one issued invoice of 480.00 EUR (4 yearly UC-Business users)."""
    world = World()
    pbx = world.pbx(start=START)
    invoice = Invoice.objects.get(pbx=pbx)
    assert invoice.total == 480
    return world, invoice
