"""Payment providers behind one interface (R-INV-4): a hosted payment page to redirect to, and a
webhook whose signature is verified before anything is believed."""

from __future__ import annotations

from typing import Any

from pbxportal.payments.providers.base import (
    CardDetails,
    ChargeResult,
    InvalidSignature,
    PaymentProvider,
    ProviderEvent,
    SavesMethods,
)
from pbxportal.payments.providers.paypal import PayPalProvider
from pbxportal.payments.providers.sandbox import SandboxProvider
from pbxportal.payments.providers.stripe_card import StripeProvider

__all__ = [
    "CardDetails",
    "ChargeResult",
    "InvalidSignature",
    "PaymentProvider",
    "ProviderEvent",
    "SavesMethods",
    "enabled_providers",
    "method_providers",
    "provider",
    "saving_provider",
]


# Tests inject a stripe.HTTPClient playing recorded exchanges; None is the library's own client.
_stripe_http_client: Any = None
# Tests inject an httpx transport playing recorded PayPal exchanges and a test certificate.
_paypal_transport: Any = None
_paypal_cert_fetcher: Any = None


def enabled_providers() -> list[tuple[str, str]]:
    """The providers a partner may choose, (code, label); the sandbox first when it is enabled."""
    from django.conf import settings

    sandbox = [("sandbox", "Sandbox card (test mode)")] if settings.PAYMENT_SANDBOX_ENABLED else []
    return [*sandbox, ("card", "Card"), ("paypal", "PayPal")]


def provider(code: str) -> PaymentProvider:
    """The configured adapter for ``code`` (``card`` or ``paypal``)."""
    from django.conf import settings

    if code == "card":
        return StripeProvider(
            api_key=settings.STRIPE_API_KEY,
            webhook_secret=settings.PAYMENT_CARD_WEBHOOK_SECRET,
            success_url=settings.PORTAL_BASE_URL + "/payments/balance/?paid=1",
            cancel_url=settings.PORTAL_BASE_URL + "/payments/balance/",
            http_client=_stripe_http_client,
            setup_return_url=settings.PORTAL_BASE_URL + "/payments/methods/",
        )
    if code == "paypal":
        return PayPalProvider(
            client_id=settings.PAYPAL_CLIENT_ID,
            client_secret=settings.PAYPAL_CLIENT_SECRET,
            api_base=settings.PAYPAL_API_BASE,
            webhook_id=settings.PAYMENT_PAYPAL_WEBHOOK_ID,
            return_url=settings.PORTAL_BASE_URL + "/payments/paypal/return/",
            cancel_url=settings.PORTAL_BASE_URL + "/payments/balance/",
            transport=_paypal_transport,
            cert_fetcher=_paypal_cert_fetcher,
        )
    if code == "sandbox" and settings.PAYMENT_SANDBOX_ENABLED:
        return SandboxProvider(webhook_secret=settings.PAYMENT_SANDBOX_WEBHOOK_SECRET)
    raise KeyError(code)


def method_providers() -> list[tuple[str, str]]:
    """The providers a card can be saved with (build item 6); PayPal vaulting is not supported
    (docs/payments.md)."""
    return [(code, label) for code, label in enabled_providers() if code in ("sandbox", "card")]


def saving_provider(code: str) -> SavesMethods:
    """The adapter of ``code`` as one that saves and charges cards; KeyError when it does not."""
    if code not in dict(method_providers()):
        raise KeyError(code)
    adapter = provider(code)
    assert isinstance(adapter, (SandboxProvider, StripeProvider))
    return adapter
