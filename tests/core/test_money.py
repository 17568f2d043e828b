"""Exact money and the rounding policy (R-CAT-6)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbxportal.core.money import (
    CurrencyError,
    Money,
    minor_units,
    round_half_up,
    round_line,
    sum_money,
)

CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "KRW", "BHD", "KWD", "OMR", "TND", "JOD", "CLF"]

amounts = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6)
currencies = st.sampled_from(CURRENCIES)
money = st.builds(Money, amounts, currencies)
two_currencies = st.lists(currencies, min_size=2, max_size=2, unique=True)


# -- minor units ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("GBP", 2),
        ("AED", 2),
        ("SAR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("XOF", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("JOD", 3),
        ("CLF", 4),
    ],
)
def test_minor_units_follow_iso_4217(currency: str, places: int) -> None:
    # given an ISO 4217 currency / when asking its exponent / then it is the ISO one
    assert minor_units(currency) == places


@pytest.mark.parametrize("code", ["EUX", "ZZZ", "eur", "Eur", "EURO", "EU", "", "XAU", "XXX", "XTS"])
def test_minor_units_refuse_unknown_or_uninvoiceable_codes_naming_them(code: str) -> None:
    # given a code that is not an upper-case invoiceable ISO 4217 currency
    # when / then asking its minor unit fails and the message names the code
    with pytest.raises(CurrencyError, match=repr(code)):
        minor_units(code)


def test_currency_error_is_a_value_error() -> None:
    assert issubclass(CurrencyError, ValueError)


# -- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "places", "expected"),
    [
        ("2.345", 2, "2.35"),
        ("2.335", 2, "2.34"),
        ("2.344999", 2, "2.34"),
        ("-2.345", 2, "-2.35"),
        ("2.5", 0, "3"),
        ("3.5", 0, "4"),
        ("0.0005", 3, "0.001"),
        ("1.000000", 2, "1.00"),
        ("7", 2, "7.00"),
    ],
)
def test_round_half_up_rounds_halves_away_from_zero(amount: str, places: int, expected: str) -> None:
    # given an amount / when rounding half up / then halves go up (away from zero)
    result = round_half_up(Decimal(amount), places)

    assert result == Decimal(expected)
    assert str(result) == expected  # the exponent is the requested one, too


@pytest.mark.parametrize(("amount", "places"), [("2.345", 2), ("0.125", 2), ("2.5", 0), ("-0.005", 2)])
def test_round_half_up_differs_from_bankers_rounding_on_halves(amount: str, places: int) -> None:
    # given a half after an even digit, where half-even would round towards zero
    value = Decimal(amount)

    # when / then half-up does not agree with half-even
    assert round_half_up(value, places) != value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1.005", "EUR", "1.01"),
        ("1.004999", "EUR", "1.00"),
        ("1.5", "JPY", "2"),
        ("2.5", "KRW", "3"),
        ("0.0005", "KWD", "0.001"),
        ("10.12345", "BHD", "10.123"),
        ("0.00005", "CLF", "0.0001"),
    ],
)
def test_round_line_rounds_to_the_currency_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert str(round_line(Decimal(amount), currency)) == expected


def test_rounding_refuses_floats() -> None:
    with pytest.raises(TypeError):
        round_half_up(2.345, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        round_line(2.345, "EUR")  # type: ignore[arg-type]


@given(amount=amounts, currency=currencies)
def test_round_line_is_within_half_a_minor_unit_idempotent_and_symmetric(
    amount: Decimal, currency: str
) -> None:
    # given any amount / when rounding it to an invoice line
    rounded = round_line(amount, currency)
    unit = Decimal(1).scaleb(-minor_units(currency))

    # then it moved by at most half a minor unit, rounding again changes nothing,
    # and a credit (the negated amount) rounds to the negated line (R-INV-1)
    assert abs(rounded - amount) <= unit / 2
    assert round_line(rounded, currency) == rounded
    assert round_line(-amount, currency) == -rounded


# -- Money construction --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.30", Decimal("12.30")),
        (" 12.30 ", Decimal("12.30")),
        (Decimal("12.30"), Decimal("12.30")),
        (12, Decimal(12)),
    ],
)
def test_money_of_accepts_strings_decimals_and_ints(value: str | Decimal | int, expected: Decimal) -> None:
    # given an exact amount / when building Money / then the amount is that Decimal
    m = Money.of(value, "EUR")

    assert type(m.amount) is Decimal
    assert m.amount == expected
    assert m.currency == "EUR"


def test_money_keeps_usage_precision() -> None:
    # Per-call amounts keep at least 6 decimals (R-CAT-6): no rounding on construction.
    assert Money.of("0.0123456", "EUR").amount == Decimal("0.0123456")


@pytest.mark.parametrize("value", [1.5, 0.1, float("nan")])
def test_money_refuses_floats(value: float) -> None:
    with pytest.raises(TypeError):
        Money(value, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of(value, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, None, "1.00", [1]])
def test_money_constructor_refuses_non_decimal_amounts(value: object) -> None:
    with pytest.raises(TypeError):
        Money(value, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["abc", "", "1,00", "NaN", "Infinity", "-inf"])
def test_money_of_refuses_non_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        Money.of(text, "EUR")


def test_money_refuses_unknown_currency() -> None:
    with pytest.raises(CurrencyError, match="'EUX'"):
        Money.of("1", "EUX")


def test_money_zero() -> None:
    assert Money.zero("JPY") == Money.of(0, "JPY")


def test_money_is_immutable_and_hashable() -> None:
    m = Money.of("1.50", "EUR")

    with pytest.raises(AttributeError):
        m.amount = Decimal(2)  # type: ignore[misc]
    # equal values hash alike whatever their exponent or the int they came from
    assert {Money.of("1.5", "EUR"), m, Money.of(2, "EUR"), Money.of("2.00", "EUR")} == {
        m,
        Money.of(2, "EUR"),
    }


# -- Money arithmetic ----------------------------------------------------------------------


def test_money_arithmetic_in_one_currency() -> None:
    a = Money.of("10.25", "EUR")
    b = Money.of("0.75", "EUR")

    assert a + b == Money.of("11.00", "EUR")
    assert a - b == Money.of("9.50", "EUR")
    assert -a == Money.of("-10.25", "EUR")
    assert a * 3 == Money.of("30.75", "EUR")
    assert 3 * a == Money.of("30.75", "EUR")
    assert a * Decimal("0.5") == Money.of("5.125", "EUR")
    assert Decimal("0.5") * a == Money.of("5.125", "EUR")


def test_money_comparisons_in_one_currency() -> None:
    small, big = Money.of("1.00", "EUR"), Money.of("2.00", "EUR")

    assert small < big
    assert small <= big
    assert big > small
    assert big >= small
    assert small <= Money.of("1", "EUR")
    assert sorted([big, small]) == [small, big]


def test_money_of_different_currencies_is_unequal_not_an_error() -> None:
    # == stays total so Money works in sets, dicts and `in`; ordering is what raises.
    assert Money.of(1, "EUR") != Money.of(1, "USD")
    assert Money.of(1, "EUR") not in [Money.of(1, "USD")]


@pytest.mark.parametrize("factor", [1.5, 2.0, Money.of(2, "EUR"), "2", True])
def test_money_multiplies_only_by_decimal_or_int(factor: object) -> None:
    m = Money.of("10", "EUR")

    with pytest.raises(TypeError):
        m * factor  # type: ignore[operator]
    with pytest.raises(TypeError):
        factor * m  # type: ignore[arg-type]


@pytest.mark.parametrize("other", [1, Decimal(1), 1.0])
def test_money_does_not_add_or_compare_with_bare_numbers(other: object) -> None:
    m = Money.of("1", "EUR")

    with pytest.raises(TypeError):
        m + other  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = m < other  # type: ignore[operator]


MIXED_OPERATIONS: list[Callable[[Any, Any], Any]] = [
    operator.add,
    operator.sub,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
]


@given(a=amounts, b=amounts, pair=two_currencies, op=st.sampled_from(MIXED_OPERATIONS))
def test_money_refuses_mixed_currencies(
    a: Decimal, b: Decimal, pair: list[str], op: Callable[[Any, Any], Any]
) -> None:
    # given amounts in two different currencies / when combining them / then CurrencyError
    left, right = Money(a, pair[0]), Money(b, pair[1])

    with pytest.raises(CurrencyError):
        op(left, right)
    with pytest.raises(CurrencyError):
        sum_money([Money.zero(pair[0]), right], pair[0])


@given(value=st.floats(allow_nan=True, allow_infinity=True), currency=currencies, m=money)
def test_money_refuses_floats_everywhere(value: float, currency: str, m: Money) -> None:
    # given any float / when it is used as an amount or a factor / then TypeError (R-CAT-6)
    with pytest.raises(TypeError):
        Money(value, currency)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m * value  # type: ignore[operator]
    with pytest.raises(TypeError):
        value * m  # type: ignore[operator]


@given(a=money, b=amounts, c=amounts)
def test_money_addition_and_subtraction_are_exact(a: Money, b: Decimal, c: Decimal) -> None:
    # given three amounts in one currency / then addition is exact, associative and undone by -
    mb, mc = Money(b, a.currency), Money(c, a.currency)

    assert (a + mb) - mb == a
    assert (a + mb) + mc == a + (mb + mc)
    assert a + (-a) == Money.zero(a.currency)


# -- rounding, formatting and sums ---------------------------------------------------------


def test_money_rounded_uses_the_currency_minor_unit() -> None:
    assert Money.of("1.005", "EUR").rounded() == Money.of("1.01", "EUR")
    assert Money.of("1.5", "JPY").rounded() == Money.of("2", "JPY")
    assert Money.of("1.0005", "KWD").rounded() == Money.of("1.001", "KWD")
    assert Money.of("-1.005", "EUR").rounded() == Money.of("-1.01", "EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("12.3", "EUR", "12.30 EUR"),
        ("12.30", "EUR", "12.30 EUR"),
        ("0", "EUR", "0.00 EUR"),
        ("-5", "EUR", "-5.00 EUR"),
        ("1E+3", "EUR", "1000.00 EUR"),
        ("1500", "JPY", "1500 JPY"),
        ("1.5", "KWD", "1.500 KWD"),
        ("0.012345", "EUR", "0.012345 EUR"),  # usage decimals are shown, not hidden
    ],
)
def test_money_str(amount: str, currency: str, text: str) -> None:
    assert str(Money.of(amount, currency)) == text


def test_sum_money() -> None:
    items = [Money.of("1.10", "EUR"), Money.of("2.20", "EUR"), Money.of("-0.30", "EUR")]

    assert sum_money(items, "EUR") == Money.of("3.00", "EUR")
    assert sum_money(iter(items), "EUR") == Money.of("3.00", "EUR")


def test_sum_money_of_nothing_is_zero_in_the_currency() -> None:
    total = sum_money([], "JPY")

    assert total == Money.zero("JPY")
    assert total.currency == "JPY"


def test_sum_money_refuses_another_currency() -> None:
    with pytest.raises(CurrencyError):
        sum_money([Money.of("1", "USD")], "EUR")
