from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class InvalidSignature(Exception):
    """A webhook whose signature does not verify: it is refused and changes nothing (R-INV-4)."""


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


class PaymentProvider(Protocol):
    code: str

    def hosted_page_url(self, *, reference: str, amount: Decimal, currency: str, description: str) -> str:
        """Where the partner is redirected to pay on the provider's own page."""
        ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], now: datetime) -> ProviderEvent:
        """Verify the signature (raise InvalidSignature) and read the event."""
        ...
