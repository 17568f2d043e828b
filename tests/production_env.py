"""The environment production needs (shared by the ops and settings tests)."""

from __future__ import annotations

import secrets


def production_secrets() -> dict[str, str]:
    """The secrets production requires besides SECRET_KEY (each refused at its development
    default): the webhook secrets and the licence signing key (R-INV-4, R-LIC-1)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "PAYMENT_CARD_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(50),
        "PAYMENT_PAYPAL_WEBHOOK_ID": secrets.token_urlsafe(50),
        "PAYMENT_SANDBOX_WEBHOOK_SECRET": secrets.token_urlsafe(50),
        "LICENCE_SIGNING_KEY_PEM": pem.decode(),
    }
