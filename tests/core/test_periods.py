"""Terms, anchored expiry dates and half-open periods (R-CAT-3, R-PBX-4)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbxportal.core.periods import (
    Period,
    Term,
    add_months_anchored,
    last_day_of_month,
    term_end,
    term_period_containing,
    term_periods,
)

RECURRING = [Term.MONTHLY, Term.YEARLY, Term.FIVE_YEAR]

anchors = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
recurring_terms = st.sampled_from(RECURRING)


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


# -- terms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "months", "recurring"),
    [
        (Term.MONTHLY, 1, True),
        (Term.YEARLY, 12, True),
        (Term.FIVE_YEAR, 60, True),
        (Term.LIFETIME, None, False),
    ],
)
def test_terms(term: Term, months: int | None, recurring: bool) -> None:
    assert term.months == months
    assert term.is_recurring is recurring


def test_terms_are_their_catalog_strings() -> None:
    # The catalog files name terms by these values (R-CAT-1, R-CAT-3).
    assert [t.value for t in Term] == ["monthly", "yearly", "five_year", "lifetime"]
    assert Term("five_year") is Term.FIVE_YEAR
    assert str(Term.YEARLY) == "yearly"


# -- anchored month arithmetic (R-PBX-4) ---------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        # leap year: 31 Jan 2024 -> 29 Feb, then back to the 31st whenever the month has one
        (
            date(2024, 1, 31),
            [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31), date(2024, 6, 30)],
        ),
        # non-leap year: 31 Jan 2023 -> 28 Feb
        (
            date(2023, 1, 31),
            [date(2023, 2, 28), date(2023, 3, 31), date(2023, 4, 30), date(2023, 5, 31), date(2023, 6, 30)],
        ),
    ],
)
def test_monthly_anchor_on_the_31st_clamps_and_never_drifts(anchor: date, expected: list[date]) -> None:
    # given a monthly PBX started on 31 January
    # when computing its successive expiry dates
    expiries = [term_end(anchor, Term.MONTHLY, n) for n in range(1, 6)]

    # then they are the month ends, and the anchor day comes back after February (R-PBX-4)
    assert expiries == expected
    assert [add_months_anchored(anchor, n) for n in range(1, 6)] == expected


def test_monthly_anchor_on_the_31st_tiles_into_periods() -> None:
    # given a monthly PBX started on 31 January 2023
    periods = list(term_periods(date(2023, 1, 31), Term.MONTHLY, until=date(2023, 5, 31)))

    # then each period ends on the next expiry, and term_days follows the clamped months
    assert periods == [
        Period(date(2023, 1, 31), date(2023, 2, 28)),
        Period(date(2023, 2, 28), date(2023, 3, 31)),
        Period(date(2023, 3, 31), date(2023, 4, 30)),
        Period(date(2023, 4, 30), date(2023, 5, 31)),
    ]
    assert [p.days for p in periods] == [28, 31, 30, 31]


@pytest.mark.parametrize(
    ("anchor", "expiries", "term_days"),
    [
        # started on 29 February: clamped to 28 Feb in common years, 29 Feb again in leap years
        (
            date(2024, 2, 29),
            [date(2029, 2, 28), date(2034, 2, 28), date(2039, 2, 28), date(2044, 2, 29)],
            [1826, 1826, 1826, 1827],
        ),
        (
            date(2020, 2, 29),
            [date(2025, 2, 28), date(2030, 2, 28), date(2035, 2, 28), date(2040, 2, 29)],
            [1826, 1826, 1826, 1827],
        ),
        # started on 1 March right after a 29 February: nothing to clamp
        (
            date(2020, 3, 1),
            [date(2025, 3, 1), date(2030, 3, 1), date(2035, 3, 1), date(2040, 3, 1)],
            [1826, 1826, 1826, 1827],
        ),
        # a term that holds two 29 Februaries (2020 and 2024)
        (
            date(2019, 3, 1),
            [date(2024, 3, 1), date(2029, 3, 1), date(2034, 3, 1), date(2039, 3, 1)],
            [1827, 1826, 1826, 1826],
        ),
    ],
)
def test_five_year_terms_across_29_february(anchor: date, expiries: list[date], term_days: list[int]) -> None:
    # given a five-year PBX
    # when listing its first four term periods
    periods = list(term_periods(anchor, Term.FIVE_YEAR, until=expiries[-1]))

    # then the expiries are anchored on the start date and the term lengths count leap days
    assert [p.end for p in periods] == expiries
    assert [term_end(anchor, Term.FIVE_YEAR, n) for n in range(1, 5)] == expiries
    assert [p.days for p in periods] == term_days


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        (date(2020, 2, 29), [date(2021, 2, 28), date(2022, 2, 28), date(2023, 2, 28), date(2024, 2, 29)]),
        (date(2020, 5, 15), [date(2021, 5, 15), date(2022, 5, 15), date(2023, 5, 15), date(2024, 5, 15)]),
    ],
)
def test_yearly_expiries(anchor: date, expected: list[date]) -> None:
    assert [term_end(anchor, Term.YEARLY, n) for n in range(1, 5)] == expected


def test_term_end_of_zero_terms_is_the_anchor() -> None:
    assert term_end(date(2024, 1, 31), Term.MONTHLY, 0) == date(2024, 1, 31)


def test_lifetime_has_no_expiry() -> None:
    # R-CAT-3: lifetime never expires
    assert term_end(date(2024, 1, 31), Term.LIFETIME) is None


def test_term_end_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        term_end(date(2024, 1, 31), Term.MONTHLY, -1)


def test_add_months_anchored_goes_backwards_too() -> None:
    assert add_months_anchored(date(2024, 3, 31), -1) == date(2024, 2, 29)


def test_dates_must_not_be_datetimes() -> None:
    # Instants belong to the caller; mixing them into calendar arithmetic hides time-zone bugs.
    with pytest.raises(TypeError):
        add_months_anchored(datetime(2024, 1, 31, 12, 0), 1)  # noqa: DTZ001


@given(anchor=anchors)
def test_the_anchor_day_never_drifts_over_120_renewals(anchor: date) -> None:
    # given any anchor day 1..31
    # when renewing monthly 120 times
    for n in range(121):
        expiry = add_months_anchored(anchor, n)

        # then each expiry is the anchor day, clamped only in months too short for it
        months = anchor.month - 1 + n
        year, month = anchor.year + months // 12, months % 12 + 1
        assert (expiry.year, expiry.month) == (year, month)
        assert expiry.day == min(anchor.day, _days_in_month(year, month))


@given(day=st.integers(min_value=1, max_value=31), year=st.integers(min_value=1990, max_value=2090))
def test_the_anchor_day_never_drifts_for_every_anchor_day(day: int, year: int) -> None:
    # given a PBX started on day 1..31 of the first month that has it
    month = next(m for m in range(1, 13) if day <= _days_in_month(year, m))
    anchor = date(year, month, day)

    # when renewing for 120 months / then the anchor day comes back every month that has it
    for n in range(121):
        expiry = add_months_anchored(anchor, n)
        if day <= _days_in_month(expiry.year, expiry.month):
            assert expiry.day == day
        else:
            assert last_day_of_month(expiry)


# -- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2024, 1, 1), date(2024, 1, 1)), (date(2024, 1, 2), date(2024, 1, 1))],
)
def test_period_needs_start_before_end(start: date, end: date) -> None:
    with pytest.raises(ValueError):
        Period(start, end)


def test_period_refuses_datetimes() -> None:
    with pytest.raises(TypeError):
        Period(datetime(2024, 1, 1), date(2024, 2, 1))  # noqa: DTZ001


def test_period_is_half_open() -> None:
    # given the period [1 Jan, 1 Feb)
    p = Period(date(2024, 1, 1), date(2024, 2, 1))

    # then the start is in, the end is not, and it has 31 days
    assert date(2024, 1, 1) in p
    assert date(2024, 1, 31) in p
    assert date(2024, 2, 1) not in p
    assert date(2023, 12, 31) not in p
    assert p.days == 31
    assert str(p) == "[2024-01-01, 2024-02-01)"


def test_periods_order_by_start_then_end() -> None:
    a = Period(date(2024, 1, 1), date(2024, 2, 1))
    b = Period(date(2024, 1, 1), date(2024, 3, 1))
    c = Period(date(2024, 2, 1), date(2024, 3, 1))

    assert sorted([c, b, a]) == [a, b, c]


JAN = Period(date(2024, 1, 1), date(2024, 2, 1))


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (Period(date(2024, 1, 15), date(2024, 3, 1)), Period(date(2024, 1, 15), date(2024, 2, 1))),
        (Period(date(2023, 12, 1), date(2024, 1, 10)), Period(date(2024, 1, 1), date(2024, 1, 10))),
        (Period(date(2024, 1, 5), date(2024, 1, 6)), Period(date(2024, 1, 5), date(2024, 1, 6))),
        (JAN, JAN),
        # touching periods share no day: the end is exclusive
        (Period(date(2024, 2, 1), date(2024, 3, 1)), None),
        (Period(date(2023, 12, 1), date(2024, 1, 1)), None),
        (Period(date(2025, 1, 1), date(2025, 2, 1)), None),
    ],
)
def test_period_overlap(other: Period, expected: Period | None) -> None:
    assert JAN.overlap(other) == expected
    assert other.overlap(JAN) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, JAN),
        (date(2024, 1, 10), None, Period(date(2024, 1, 10), date(2024, 2, 1))),
        (None, date(2024, 1, 10), Period(date(2024, 1, 1), date(2024, 1, 10))),
        (date(2023, 6, 1), date(2024, 6, 1), JAN),
        (date(2024, 1, 10), date(2024, 1, 20), Period(date(2024, 1, 10), date(2024, 1, 20))),
        (date(2024, 2, 1), None, None),
        (None, date(2024, 1, 1), None),
        (date(2024, 1, 20), date(2024, 1, 10), None),
    ],
)
def test_period_clip(start: date | None, end: date | None, expected: Period | None) -> None:
    assert JAN.clip(start=start, end=end) == expected


# -- term periods --------------------------------------------------------------------------


def test_seed_example_term_period() -> None:
    # given a yearly PBX activated on 15 May 2020 (R-CO-3 seed)
    # when a service is ordered on 10 August 2020
    period = term_period_containing(date(2020, 5, 15), Term.YEARLY, date(2020, 8, 10))

    # then the current term runs to the expiry on 15 May 2021, 365 days
    assert period == Period(date(2020, 5, 15), date(2021, 5, 15))
    assert period.days == 365


@pytest.mark.parametrize(
    ("anchor", "term", "on", "expected"),
    [
        # on the anchor: the first period
        (date(2020, 5, 15), Term.YEARLY, date(2020, 5, 15), Period(date(2020, 5, 15), date(2021, 5, 15))),
        # the day before expiry: still the first period
        (date(2020, 5, 15), Term.YEARLY, date(2021, 5, 14), Period(date(2020, 5, 15), date(2021, 5, 15))),
        # on the expiry date: the next period has begun (the end is exclusive)
        (date(2020, 5, 15), Term.YEARLY, date(2021, 5, 15), Period(date(2021, 5, 15), date(2022, 5, 15))),
        # anchored on the 31st: 28 Feb starts the next monthly period
        (date(2023, 1, 31), Term.MONTHLY, date(2023, 2, 27), Period(date(2023, 1, 31), date(2023, 2, 28))),
        (date(2023, 1, 31), Term.MONTHLY, date(2023, 2, 28), Period(date(2023, 2, 28), date(2023, 3, 31))),
        (date(2023, 1, 31), Term.MONTHLY, date(2023, 3, 30), Period(date(2023, 2, 28), date(2023, 3, 31))),
        (date(2023, 1, 31), Term.MONTHLY, date(2023, 3, 31), Period(date(2023, 3, 31), date(2023, 4, 30))),
        # far from the anchor
        (date(2023, 1, 31), Term.MONTHLY, date(2033, 2, 1), Period(date(2033, 1, 31), date(2033, 2, 28))),
        (date(2024, 2, 29), Term.FIVE_YEAR, date(2034, 2, 27), Period(date(2029, 2, 28), date(2034, 2, 28))),
        (date(2024, 2, 29), Term.FIVE_YEAR, date(2034, 2, 28), Period(date(2034, 2, 28), date(2039, 2, 28))),
    ],
)
def test_term_period_containing(anchor: date, term: Term, on: date, expected: Period) -> None:
    assert term_period_containing(anchor, term, on) == expected


def test_term_period_containing_refuses_days_before_the_anchor() -> None:
    with pytest.raises(ValueError):
        term_period_containing(date(2020, 5, 15), Term.YEARLY, date(2020, 5, 14))


def test_lifetime_has_no_term_periods() -> None:
    with pytest.raises(ValueError):
        term_period_containing(date(2020, 5, 15), Term.LIFETIME, date(2020, 6, 1))
    with pytest.raises(ValueError):
        term_periods(date(2020, 5, 15), Term.LIFETIME, date(2021, 6, 1))  # fails at the call


def test_term_periods_start_before_until() -> None:
    anchor = date(2020, 5, 15)

    assert list(term_periods(anchor, Term.YEARLY, until=anchor)) == []
    assert list(term_periods(anchor, Term.YEARLY, until=date(2020, 5, 16))) == [
        Period(date(2020, 5, 15), date(2021, 5, 15))
    ]
    # a period starting on `until` is not included
    assert [p.start for p in term_periods(anchor, Term.YEARLY, until=date(2022, 5, 15))] == [
        date(2020, 5, 15),
        date(2021, 5, 15),
    ]


@given(anchor=anchors, term=recurring_terms, span=st.integers(min_value=1, max_value=20 * 366))
def test_term_periods_tile_without_gap_or_overlap(anchor: date, term: Term, span: int) -> None:
    # given the term periods of a PBX over some span
    until = anchor + timedelta(days=span)
    periods = list(term_periods(anchor, term, until))

    # then they start at the anchor, each ends where the next starts, and they cover `until`
    assert periods[0].start == anchor
    assert all(a.end == b.start for a, b in pairwise(periods))
    assert periods[-1].start < until <= periods[-1].end
    assert sum(p.days for p in periods) == (periods[-1].end - anchor).days
    # and every period's end is an anchored expiry
    assert [p.end for p in periods] == [term_end(anchor, term, n) for n in range(1, len(periods) + 1)]


@given(anchor=anchors, term=recurring_terms, offset=st.integers(min_value=0, max_value=20 * 366))
def test_term_period_containing_agrees_with_the_tiling(anchor: date, term: Term, offset: int) -> None:
    # given a day on or after the anchor
    on = anchor + timedelta(days=offset)

    # when finding its term period
    period = term_period_containing(anchor, term, on)

    # then it contains the day and is the period the tiling puts there
    assert on in period
    assert period == list(term_periods(anchor, term, until=on + timedelta(days=1)))[-1]


# -- month ends ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 1, 31), True),
        (date(2024, 1, 30), False),
        (date(2024, 2, 29), True),
        (date(2024, 2, 28), False),
        (date(2023, 2, 28), True),
        (date(2024, 4, 30), True),
        (date(2024, 12, 31), True),
        (date(2024, 12, 1), False),
    ],
)
def test_last_day_of_month(day: date, expected: bool) -> None:
    assert last_day_of_month(day) is expected
