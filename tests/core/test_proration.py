"""Prorated charges within a term (R-CO-3, R-CO-4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbxportal.core.money import Money, minor_units, round_half_up, round_line
from pbxportal.core.periods import Period, Term, term_period_containing
from pbxportal.core.proration import full_term, prorate

SEED_TERM = Period(date(2020, 5, 15), date(2021, 5, 15))
SEED_CHANGE = date(2020, 8, 10)


def _exact_half_up(value: Decimal, currency: str) -> Decimal:
    # Independent oracle: the R-CO-3 formula in a context wide enough to be exact for the tests.
    with localcontext() as ctx:
        ctx.prec = 80
        return round_line(value, currency)


# -- the seed example ----------------------------------------------------------------------


@pytest.mark.parametrize("price", ["120.00", "99.99", "1000", "2.7375", "10.0375", "0.01", "1234.5678"])
def test_seed_example_yearly_pbx_service_ordered_mid_term(price: str) -> None:
    # given a yearly PBX activated 15 May 2020, so expiring 15 May 2021 (R-CO-3 seed)
    term = term_period_containing(date(2020, 5, 15), Term.YEARLY, SEED_CHANGE)
    unit_price = Decimal(price)

    # when the voice trunk is ordered on 10 August 2020
    charge = prorate(
        unit_price=unit_price, quantity=1, currency="EUR", term_period=term, change_date=SEED_CHANGE
    )

    # then it is charged 278 of 365 days, rounded once, half up, to cents
    assert charge.days_charged == 278
    assert charge.days_in_term == 365
    assert charge.period == Period(date(2020, 8, 10), date(2021, 5, 15))
    assert charge.term_period == SEED_TERM
    assert charge.amount == round_half_up(unit_price * 278 / 365, 2)


@pytest.mark.parametrize(
    ("price", "half_up", "half_even"),
    [
        # 2.7375 * 278 / 365 = 2.085 exactly; 10.0375 * 278 / 365 = 7.645 exactly
        ("2.7375", "2.09", "2.08"),
        ("10.0375", "7.65", "7.64"),
    ],
)
def test_seed_example_rounds_half_up_not_half_even(price: str, half_up: str, half_even: str) -> None:
    # given a price whose prorated value falls exactly on half a cent
    exact = Decimal(price) * 278 / 365
    assert exact.quantize(Decimal("0.01"), ROUND_HALF_EVEN) == Decimal(half_even)

    # when prorating it
    charge = prorate(
        unit_price=Decimal(price), quantity=1, currency="EUR", term_period=SEED_TERM, change_date=SEED_CHANGE
    )

    # then the half goes up (R-CAT-6), where banker's rounding would have gone down
    assert charge.amount == Decimal(half_up)


def test_prorated_charge_shows_how_it_was_computed() -> None:
    # R-CO-4: full price, days charged, days in term and period are on the line
    charge = prorate(
        unit_price=Decimal("36.50"),
        quantity=4,
        currency="EUR",
        term_period=SEED_TERM,
        change_date=SEED_CHANGE,
    )

    assert charge.unit_price == Decimal("36.50")
    assert charge.quantity == 4
    assert charge.full_price == Decimal("146.00")
    assert (charge.days_charged, charge.days_in_term) == (278, 365)
    assert charge.currency == "EUR"
    assert charge.amount == Decimal("111.20")  # 146 * 278 / 365 = 111.2 exactly
    assert charge.money == Money.of("111.20", "EUR")
    assert str(charge.amount) == "111.20"


# -- boundaries of the term ----------------------------------------------------------------


def test_change_on_the_first_day_charges_the_full_term() -> None:
    charge = prorate(
        unit_price=Decimal("100"),
        quantity=1,
        currency="EUR",
        term_period=SEED_TERM,
        change_date=SEED_TERM.start,
    )

    assert (charge.days_charged, charge.days_in_term) == (365, 365)
    assert charge.amount == Decimal("100.00")


def test_change_on_the_last_day_before_expiry_charges_one_day() -> None:
    # given a change on the day before expiry (allowed, with a warning, R-PBX-6)
    last_day = SEED_TERM.end - timedelta(days=1)

    charge = prorate(
        unit_price=Decimal("365"), quantity=1, currency="EUR", term_period=SEED_TERM, change_date=last_day
    )

    # then exactly one day is charged: the change day is inclusive
    assert charge.days_charged == 1
    assert charge.period == Period(last_day, SEED_TERM.end)
    assert charge.amount == Decimal("1.00")


@pytest.mark.parametrize(
    "change_date",
    [
        SEED_TERM.end,  # the expiry date belongs to the next term
        SEED_TERM.start - timedelta(days=1),
        date(2030, 1, 1),
    ],
)
def test_change_outside_the_term_period_is_refused(change_date: date) -> None:
    with pytest.raises(ValueError, match="not in the term period"):
        prorate(
            unit_price=Decimal("100"),
            quantity=1,
            currency="EUR",
            term_period=SEED_TERM,
            change_date=change_date,
        )


@pytest.mark.parametrize(
    ("anchor", "term", "change_date", "days_charged", "days_in_term"),
    [
        # leap year: a yearly term holding 29 Feb 2024 has 366 days
        (date(2024, 1, 15), Term.YEARLY, date(2024, 3, 1), 320, 366),
        # monthly PBX anchored 31 Jan 2023: its first term is [31 Jan, 28 Feb), 28 days
        (date(2023, 1, 31), Term.MONTHLY, date(2023, 2, 14), 14, 28),
        # ... and its second [28 Feb, 31 Mar), 31 days
        (date(2023, 1, 31), Term.MONTHLY, date(2023, 3, 1), 30, 31),
        # five-year PBX started 29 Feb 2024: its first term is [2024-02-29, 2029-02-28)
        (date(2024, 2, 29), Term.FIVE_YEAR, date(2028, 2, 29), 365, 1826),
    ],
)
def test_term_days_follow_the_calendar(
    anchor: date, term: Term, change_date: date, days_charged: int, days_in_term: int
) -> None:
    # given the term period of a PBX on the change date
    term_period = term_period_containing(anchor, term, change_date)

    # when prorating a change
    charge = prorate(
        unit_price=Decimal("100"),
        quantity=1,
        currency="EUR",
        term_period=term_period,
        change_date=change_date,
    )

    # then term_days is that period's length in calendar days
    assert (charge.days_charged, charge.days_in_term) == (days_charged, days_in_term)
    assert charge.amount == round_half_up(Decimal(100) * days_charged / days_in_term, 2)


# -- quantities, prices and currencies -----------------------------------------------------


def test_zero_quantity_costs_nothing() -> None:
    charge = prorate(
        unit_price=Decimal("100"), quantity=0, currency="EUR", term_period=SEED_TERM, change_date=SEED_CHANGE
    )

    assert charge.amount == Decimal("0.00")
    assert str(charge.amount) == "0.00"


def test_negative_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="quantity"):
        prorate(
            unit_price=Decimal("100"),
            quantity=-1,
            currency="EUR",
            term_period=SEED_TERM,
            change_date=SEED_CHANGE,
        )


@pytest.mark.parametrize(
    ("unit_price", "quantity", "error"),
    [
        (100.0, 1, TypeError),  # R-CAT-6: never a float
        (Decimal("NaN"), 1, ValueError),
        (Decimal("100"), 1.0, TypeError),
        (Decimal("100"), True, TypeError),
    ],
)
def test_inexact_or_odd_inputs_are_refused(
    unit_price: object, quantity: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        prorate(
            unit_price=unit_price,  # type: ignore[arg-type]
            quantity=quantity,  # type: ignore[arg-type]
            currency="EUR",
            term_period=SEED_TERM,
            change_date=SEED_CHANGE,
        )


@pytest.mark.parametrize(
    ("currency", "price", "expected"),
    [
        ("EUR", "1000", "761.64"),  # 761.6438...
        ("JPY", "100000", "76164"),  # 76164.38...
        ("KWD", "100", "76.164"),  # 76.16438...
        ("BHD", "0.730", "0.556"),  # 0.556 exactly: 0.730 * 278 / 365
    ],
)
def test_amount_is_rounded_to_the_currency_minor_unit(currency: str, price: str, expected: str) -> None:
    charge = prorate(
        unit_price=Decimal(price),
        quantity=1,
        currency=currency,
        term_period=SEED_TERM,
        change_date=SEED_CHANGE,
    )

    assert str(charge.amount) == expected


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="'EUX'"):
        prorate(
            unit_price=Decimal("100"),
            quantity=1,
            currency="EUX",
            term_period=SEED_TERM,
            change_date=SEED_CHANGE,
        )


def test_a_negative_price_prorates_to_the_mirror_credit() -> None:
    # A credit (R-PBX-10 corrections) must be exactly the negated charge: halves round away from zero.
    def amount(unit_price: Decimal) -> Decimal:
        return prorate(
            unit_price=unit_price, quantity=1, currency="EUR", term_period=SEED_TERM, change_date=SEED_CHANGE
        ).amount

    assert amount(Decimal("-2.7375")) == -amount(Decimal("2.7375")) == Decimal("-2.09")


# -- a part of a term (until) --------------------------------------------------------------


def test_until_charges_a_part_of_the_term() -> None:
    charge = prorate(
        unit_price=Decimal("365"),
        quantity=2,
        currency="EUR",
        term_period=SEED_TERM,
        change_date=SEED_CHANGE,
        until=date(2020, 9, 10),
    )

    assert charge.period == Period(SEED_CHANGE, date(2020, 9, 10))
    assert (charge.days_charged, charge.days_in_term) == (31, 365)
    assert charge.amount == Decimal("62.00")


@pytest.mark.parametrize(
    "until", [SEED_CHANGE, SEED_CHANGE - timedelta(days=1), SEED_TERM.end + timedelta(days=1)]
)
def test_until_must_be_after_the_change_and_not_after_the_expiry(until: date) -> None:
    with pytest.raises(ValueError, match="until"):
        prorate(
            unit_price=Decimal("1"),
            quantity=1,
            currency="EUR",
            term_period=SEED_TERM,
            change_date=SEED_CHANGE,
            until=until,
        )


# -- full terms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "quantity", "currency", "expected"),
    [
        ("10.005", 1, "EUR", "10.01"),
        ("3.3333", 3, "EUR", "10.00"),
        ("0.125", 2, "EUR", "0.25"),
        ("999.5", 1, "JPY", "1000"),
        ("12", 0, "EUR", "0.00"),
    ],
)
def test_full_term_charges_the_whole_term_price(
    price: str, quantity: int, currency: str, expected: str
) -> None:
    # given a renewal for the next term (R-PBX-5)
    charge = full_term(unit_price=Decimal(price), quantity=quantity, currency=currency, term_period=SEED_TERM)

    # then every day of the term is charged and the amount is the rounded term price
    assert charge.days_charged == charge.days_in_term == 365
    assert charge.period == charge.term_period == SEED_TERM
    assert charge.amount == round_line(Decimal(price) * quantity, currency)
    assert str(charge.amount) == expected


# -- properties ----------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=100_000, places=4, allow_nan=False, allow_infinity=False)
quantities = st.integers(min_value=0, max_value=500)
currencies = st.sampled_from(["EUR", "USD", "JPY", "KWD", "BHD"])
anchors = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
terms = st.sampled_from([Term.MONTHLY, Term.YEARLY, Term.FIVE_YEAR])


@st.composite
def term_and_offsets(draw: st.DrawFn) -> tuple[Period, list[int]]:
    anchor = draw(anchors)
    term = draw(terms)
    term_period = term_period_containing(anchor, term, anchor)
    offsets = draw(
        st.lists(st.integers(min_value=1, max_value=term_period.days - 1), unique=True, max_size=12)
    )
    return term_period, sorted(offsets)


@given(case=term_and_offsets(), unit_price=prices, quantity=quantities, currency=currencies)
def test_prorated_parts_of_a_term_sum_to_the_full_price(
    case: tuple[Period, list[int]], unit_price: Decimal, quantity: int, currency: str
) -> None:
    # given a term split at arbitrary dates into consecutive parts
    term_period, offsets = case
    cuts = [term_period.start, *(term_period.start + timedelta(days=o) for o in offsets), term_period.end]

    # when each part is prorated on its own
    parts = [
        prorate(
            unit_price=unit_price,
            quantity=quantity,
            currency=currency,
            term_period=term_period,
            change_date=start,
            until=end,
        )
        for start, end in pairwise(cuts)
    ]
    whole = full_term(unit_price=unit_price, quantity=quantity, currency=currency, term_period=term_period)

    # then the days add up, and the amounts differ from the full price by at most one minor unit per part
    assert sum(p.days_charged for p in parts) == whole.days_in_term
    minor_unit = Decimal(1).scaleb(-minor_units(currency))
    assert abs(sum(p.amount for p in parts) - whole.amount) <= len(parts) * minor_unit


@given(anchor=anchors, term=terms, offset=st.integers(min_value=0), unit_price=prices, quantity=quantities)
def test_prorated_amount_is_the_formula_rounded_once(
    anchor: date, term: Term, offset: int, unit_price: Decimal, quantity: int
) -> None:
    # given any change day within a term
    term_period = term_period_containing(anchor, term, anchor)
    change_date = term_period.start + timedelta(days=offset % term_period.days)

    # when prorating
    charge = prorate(
        unit_price=unit_price,
        quantity=quantity,
        currency="EUR",
        term_period=term_period,
        change_date=change_date,
    )

    # then it is exactly R-CO-3's formula, rounded once, half up
    remaining = (term_period.end - change_date).days
    assert charge.days_charged == remaining
    assert charge.amount == _exact_half_up(unit_price * quantity * remaining / term_period.days, "EUR")
    # and never more than the full term
    assert 0 <= charge.amount <= round_line(unit_price * quantity, "EUR")


@given(
    anchor=anchors,
    term=terms,
    offsets=st.lists(st.integers(min_value=0), min_size=2, max_size=2),
    unit_price=prices,
)
def test_a_later_change_never_costs_more(
    anchor: date, term: Term, offsets: list[int], unit_price: Decimal
) -> None:
    # given two change days in the same term, the second one later
    term_period = term_period_containing(anchor, term, anchor)
    early, late = sorted(term_period.start + timedelta(days=o % term_period.days) for o in offsets)

    def amount(day: date) -> Decimal:
        return prorate(
            unit_price=unit_price, quantity=1, currency="EUR", term_period=term_period, change_date=day
        ).amount

    # then the later change is charged no more than the earlier one
    assert amount(late) <= amount(early)
