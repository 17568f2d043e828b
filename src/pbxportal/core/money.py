"""Exact money: Decimal amounts with an ISO 4217 currency, never floats (R-CAT-6).

Amounts keep whatever precision they are given (per-call usage amounts carry at least 6
decimals); only invoice lines are rounded, once, to the currency's minor unit, half up
(``round_line``). Rounding is half *away from zero* (``ROUND_HALF_UP`` in ``decimal``), so a
credit note's line is exactly the negated charge line (R-INV-1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Self

import pycountry

__all__ = [
    "CurrencyError",
    "Money",
    "minor_units",
    "round_half_up",
    "round_line",
    "sum_money",
]

# ISO 4217 exponents that differ from the usual 2; every other valid code has 2.
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
            "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip

# ISO 4217 codes whose minor unit is "N.A." (metals, SDR, bond units, test, no currency):
# nothing can be invoiced in them, so they are refused rather than given a made-up exponent.
_NOT_INVOICEABLE = frozenset(
    ("XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX")
)


class CurrencyError(ValueError):
    """An unknown currency code, or two currencies mixed in one operation (R-CAT-6)."""


def minor_units(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (ISO 4217 exponent), R-CAT-6.

    The code must be an upper-case ISO 4217 alpha-3 code known to pycountry; anything else
    raises ``CurrencyError`` naming it. Upper case is required (not normalised) because
    currencies are compared as strings everywhere else.
    """
    if (
        not isinstance(currency, str)
        or len(currency) != 3
        or not currency.isascii()
        or not currency.isupper()
        or pycountry.currencies.get(alpha_3=currency) is None
    ):
        raise CurrencyError(f"unknown currency code {currency!r} (expected an ISO 4217 code like 'EUR')")
    if currency in _NOT_INVOICEABLE:
        raise CurrencyError(f"currency code {currency!r} has no minor unit and cannot be invoiced")
    return _MINOR_UNITS.get(currency, 2)


# No amount the product handles comes near this; beyond it a value is a mistake or an attack
# (an amount of "1e400" would otherwise fail deep in a quantize).
AMOUNT_LIMIT = Decimal(10) ** 15


def _require_decimal(value: object, what: str) -> Decimal:
    # bool is an int subclass but never an amount; floats are inexact (R-CAT-6).
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal or an int, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{what} must be finite, not {amount}")
    if abs(amount) >= AMOUNT_LIMIT:
        raise ValueError(f"{what} must be less than {AMOUNT_LIMIT:,} in absolute value, not {amount:.6g}")
    return amount


def round_half_up(amount: Decimal, places: int) -> Decimal:
    """Round ``amount`` to ``places`` decimals, halves away from zero (R-CAT-6, R-CO-3)."""
    amount = _require_decimal(amount, "amount")
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_line(amount: Decimal, currency: str) -> Decimal:
    """Round an invoice line amount to ``currency``'s minor unit, half up (R-CAT-6)."""
    return round_half_up(amount, minor_units(currency))


@dataclass(frozen=True)
class Money:
    """A Decimal amount in one currency (R-CAT-6).

    Arithmetic between different currencies raises ``CurrencyError``; floats raise
    ``TypeError``. Amounts are not rounded on construction (usage keeps its decimals); call
    ``rounded()`` for an invoice line. ``==`` is plain value equality (different currencies
    are simply unequal) so that Money stays usable in sets and dicts; ordering mixed
    currencies raises.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        # Ints are accepted for convenience and stored as Decimal so equal values hash alike.
        object.__setattr__(self, "amount", _require_decimal(self.amount, "Money amount"))
        minor_units(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(Decimal(0), currency)

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> Self:
        """Build from a decimal string (``"12.30"``), a Decimal or an int; never a float."""
        if not isinstance(amount, str):
            return cls(_require_decimal(amount, "Money amount"), currency)
        try:
            parsed = Decimal(amount.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {amount!r}") from None
        return cls(parsed, currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            # Money * Money and Money * float have no meaning here; Python turns this into TypeError.
            return NotImplemented
        return Money(self.amount * _require_decimal(factor, "factor"), self.currency)

    __rmul__ = __mul__

    def _ordering_operand(self, other: object) -> Decimal | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other)
        return other.amount

    def __lt__(self, other: Money) -> bool:
        amount = self._ordering_operand(other)
        return NotImplemented if amount is None else self.amount < amount

    def __le__(self, other: Money) -> bool:
        amount = self._ordering_operand(other)
        return NotImplemented if amount is None else self.amount <= amount

    def __gt__(self, other: Money) -> bool:
        amount = self._ordering_operand(other)
        return NotImplemented if amount is None else self.amount > amount

    def __ge__(self, other: Money) -> bool:
        amount = self._ordering_operand(other)
        return NotImplemented if amount is None else self.amount >= amount

    def rounded(self) -> Money:
        """This amount rounded to the currency's minor unit, half up (R-CAT-6)."""
        return Money(round_line(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        # Pad to the minor unit ("12.30 EUR") but never hide extra usage decimals.
        places = minor_units(self.currency)
        amount = self.amount
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent > -places:
            amount = amount.quantize(Decimal(1).scaleb(-places))
        return f"{amount:f} {self.currency}"


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Sum ``items``, all in ``currency`` (``CurrencyError`` otherwise); zero when empty."""
    total = Money.zero(currency)
    for item in items:
        total += item
    return total
