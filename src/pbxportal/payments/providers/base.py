from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class InvalidSignature(Exception):
    """A webhook whose signature does not verify: it is refused and changes nothing (R-INV-4)."""


@dataclass(frozen=True)
class CardDetails:
    """What a saved card shows (never its number): brand, last four digits, expiry."""

    brand: str = ""
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class ChargeResult:
    """A provider's answer to an off-session charge of a saved method: ``succeeded``, ``failed``
    (with the decline reason) or ``pending`` (the provider's webhook tells later)."""

    status: str
    provider_ref: str = ""
    decline_reason: str = ""


@dataclass(frozen=True)
class ProviderEvent:
    """What a verified webhook says. ``paid`` events carry the checkout reference and the amount."""

    event_id: str
    event_type: str
    paid: bool
    declined: bool = False
    reference: str = ""
    provider_ref: str = ""
    amount: Decimal = Decimal(0)
    currency: str = ""
    # A provider's id of this delivery (PayPal's transmission id): a replayed delivery is refused.
    transmission_id: str = ""
    # "payment" (a hosted checkout), "setup" (a card saved: reference is the MethodSetup's) or
    # "charge" (an off-session charge of a saved card: reference is the ChargeAttempt's).
    kind: str = "payment"
    customer_ref: str = ""
    method_ref: str = ""
    card: CardDetails | None = None
    decline_reason: str = ""


class PaymentProvider(Protocol):
    code: str

    def hosted_page_url(self, *, reference: str, amount: Decimal, currency: str, description: str) -> str:
        """Where the partner is redirected to pay on the provider's own page."""
        ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        """Verify the signature (raise InvalidSignature) and read the event."""
        ...


class SavesMethods(Protocol):
    """A provider that saves cards (build item 6) and charges them off-session."""

    code: str

    def customer_create(self, *, partner_key: str, name: str, email: str) -> str:
        """The provider's customer id for a partner (created once per partner and provider)."""
        ...

    def setup_page_url(self, *, reference: str, customer_ref: str, currency: str) -> str:
        """Where the partner saves a card on the provider's own page."""
        ...

    def describe_method(self, method_ref: str) -> CardDetails:
        """Brand, last four digits and expiry of a saved method."""
        ...

    def charge_saved(
        self, *, reference: str, customer_ref: str, method_ref: str, amount: Decimal, currency: str
    ) -> ChargeResult:
        """Charge a saved method off-session (idempotent by ``reference``)."""
        ...

    def detach_method(self, method_ref: str) -> None:
        """Forget a saved method at the provider."""
        ...
