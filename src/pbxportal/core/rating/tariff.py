"""The rate table: destinations by longest prefix, their area and per-minute rate (R-VT-7).

A row names a prefix of E.164 digits (no ``+``), its Call Termination Area (CTA1..CTA6),
the number type it covers (``fixed``, ``mobile`` or ``any``), its country and its rates.
``RateTable.match`` returns the row with the longest prefix of the number.

Fixed and mobile apart: the number type is *not* looked up separately (phonenumbers'
type guess needs full metadata per number and is wrong for ported and new ranges). A table
that prices mobiles apart lists the mobile ranges as longer prefixes (``447`` under ``44``),
so the longest prefix already picks the mobile row; ``kind`` is descriptive, shown on usage
lines. This keeps one rule (longest prefix) for every destination, and the vectorised rater
can use the same rule over integer prefixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["AREAS", "KINDS", "RATE_DECIMALS", "RateTable", "TariffRow", "UnknownDestination"]

AREAS: tuple[str, ...] = ("CTA1", "CTA2", "CTA3", "CTA4", "CTA5", "CTA6")
KINDS: tuple[str, ...] = ("fixed", "mobile", "any")
# Rates are catalog prices; 6 decimals keep the vectorised rater exact in integer micro-units.
RATE_DECIMALS = 6

_PREFIX = re.compile(r"[1-9][0-9]{0,14}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def _check_rate(value: object, what: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be a finite non-negative Decimal, not {value!r}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_DECIMALS:
        raise ValueError(f"{what} {value} has more than {RATE_DECIMALS} decimals")


@dataclass(frozen=True, slots=True)
class TariffRow:
    """One destination of the rate table (R-VT-3, R-VT-4, R-VT-7).

    ``rate_per_minute`` prices voice (per started minute in CTA1 beyond the allowance, per
    second at rate/60 in CTA2..CTA6); ``rate_per_sms`` prices one SMS, ``None`` where the
    destination takes no SMS.
    """

    prefix: str
    area: str
    kind: str
    country: str
    rate_per_minute: Decimal
    currency: str
    rate_per_sms: Decimal | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str) or not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"prefix must be 1 to 15 E.164 digits without '+', not {self.prefix!r}")
        if self.area not in AREAS:
            raise ValueError(f"area must be one of {', '.join(AREAS)}, not {self.area!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not isinstance(self.country, str) or not _COUNTRY.fullmatch(self.country):
            raise ValueError(f"country must be an ISO 3166 alpha-2 code, not {self.country!r}")
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"currency must be an ISO 4217 code, not {self.currency!r}")
        _check_rate(self.rate_per_minute, "rate_per_minute")
        if self.rate_per_sms is not None:
            _check_rate(self.rate_per_sms, "rate_per_sms")


class UnknownDestination(LookupError):
    """No prefix of the rate table matches the number (R-VT-7): an error, never a zero."""

    def __init__(self, number: str) -> None:
        super().__init__(f"unknown destination {number}")
        self.number = number


class RateTable:
    """Tariff rows by prefix, matched by the longest prefix of an E.164 number (R-VT-7)."""

    __slots__ = ("_by_prefix", "_lengths")

    def __init__(self, rows: Iterable[TariffRow]) -> None:
        by_prefix: dict[str, TariffRow] = {}
        for row in rows:
            if row.prefix in by_prefix:
                raise ValueError(f"prefix {row.prefix} appears twice in the rate table")
            by_prefix[row.prefix] = row
        self._by_prefix = by_prefix
        self._lengths = tuple(sorted({len(prefix) for prefix in by_prefix}, reverse=True))

    def match(self, e164: str) -> TariffRow:
        """The row with the longest prefix of ``e164`` (``+`` optional); else ``UnknownDestination``."""
        digits = e164[1:] if e164.startswith("+") else e164
        if digits.isascii() and digits.isdigit():
            for length in self._lengths:
                if length <= len(digits):
                    row = self._by_prefix.get(digits[:length])
                    if row is not None:
                        return row
        raise UnknownDestination(e164)

    @property
    def rows(self) -> tuple[TariffRow, ...]:
        """All rows, ordered by prefix."""
        return tuple(self._by_prefix[prefix] for prefix in sorted(self._by_prefix))

    def __iter__(self) -> Iterator[TariffRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self._by_prefix)
