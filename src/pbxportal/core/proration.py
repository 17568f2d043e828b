"""Prorated charges for changes within a term (R-CO-3, R-CO-4, R-PBX-7).

A service or licence added mid-term is co-termed with its PBX (R-CO-1) and charged for the
days from the change date (inclusive) to the expiry date (exclusive)::

    amount = round_half_up(term_price * remaining_days / term_days, minor_units)

where ``term_days`` is the length of the current term period (365 or 366 for a yearly term,
28 to 31 for a monthly one). The exact value is rounded once per line, never per day or per
unit, so no rounding error accumulates.

The preview of a change and the change itself must call the same function with the same
date, so the what-if invoice equals the real one (R-CO-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from pbxportal.core.money import Money, minor_units
from pbxportal.core.periods import Period

__all__ = ["ProratedCharge", "full_term", "prorate"]


@dataclass(frozen=True)
class ProratedCharge:
    """One prorated invoice line and how it was computed (R-CO-4 shows all of it).

    ``unit_price`` is the full term price per unit; ``period`` is the charged sub-period
    ``[change_date, expiry)`` (or ``until``); ``amount`` is rounded once to the currency's
    minor unit, half up.
    """

    unit_price: Decimal
    quantity: int
    days_charged: int
    days_in_term: int
    period: Period
    term_period: Period
    currency: str
    amount: Decimal

    @property
    def full_price(self) -> Decimal:
        """The unprorated term price of the line: unit price times quantity (R-CO-4)."""
        return self.unit_price * self.quantity

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


def _round_exact_half_up(value: Fraction, places: int) -> Decimal:
    # Rounds the exact rational, so no 28-digit Decimal division happens before the one
    # rounding that R-CO-3 allows; halves go away from zero like round_half_up.
    units = int(abs(value) * 10**places + Fraction(1, 2))  # int() floors a non-negative value
    return Decimal(units if value >= 0 else -units).scaleb(-places)


def prorate(
    *,
    unit_price: Decimal,
    quantity: int,
    currency: str,
    term_period: Period,
    change_date: date,
    until: date | None = None,
) -> ProratedCharge:
    """Charge for ``quantity`` units from ``change_date`` to the end of ``term_period`` (R-CO-3).

    ``days_charged = (term_period.end - change_date).days`` (change date inclusive, expiry
    exclusive), ``days_in_term = term_period.days``. ``until`` (default: the expiry) ends the
    charged sub-period earlier, for a part of a term; the day ``until`` is not charged.

    ``ValueError`` when ``change_date`` is not in the term period, ``until`` is not after it or
    beyond the expiry, or ``quantity`` is negative; ``TypeError`` for a float price (R-CAT-6).
    """
    if isinstance(unit_price, bool) or not isinstance(unit_price, Decimal | int):
        raise TypeError(f"unit_price must be a Decimal, not {type(unit_price).__name__}")
    unit_price = Decimal(unit_price)
    if not unit_price.is_finite():
        raise ValueError(f"unit_price must be finite, not {unit_price}")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise TypeError(f"quantity must be an int, not {type(quantity).__name__}")
    if quantity < 0:
        raise ValueError(f"quantity must be >= 0, not {quantity}")
    places = minor_units(currency)
    if change_date not in term_period:
        raise ValueError(f"change date {change_date} is not in the term period {term_period}")
    end = term_period.end if until is None else until
    if not change_date < end <= term_period.end:
        raise ValueError(f"until {end} must be after {change_date} and at most the expiry {term_period.end}")
    charged = Period(change_date, end)

    exact = Fraction(unit_price) * quantity * charged.days / term_period.days
    return ProratedCharge(
        unit_price=unit_price,
        quantity=quantity,
        days_charged=charged.days,
        days_in_term=term_period.days,
        period=charged,
        term_period=term_period,
        currency=currency,
        amount=_round_exact_half_up(exact, places),
    )


def full_term(*, unit_price: Decimal, quantity: int, currency: str, term_period: Period) -> ProratedCharge:
    """Charge for a whole term period, e.g. a renewal (R-PBX-5): ``round_line(unit_price * quantity)``.

    The same computation as ``prorate`` from the first day of the term, so a full term and a
    change on its first day can never differ.
    """
    return prorate(
        unit_price=unit_price,
        quantity=quantity,
        currency=currency,
        term_period=term_period,
        change_date=term_period.start,
    )
