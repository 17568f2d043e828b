"""Terms, anchored expiry dates and half-open periods (R-CAT-3, R-PBX-4, R-CO-1).

Every date here is a calendar date in the vendor's time zone; turning an instant into that
date is the caller's job. Periods are half-open, ``[start, end)``: a term period ends on the
expiry date, which is the first day of the next period, so consecutive periods tile without
a gap or an overlap.

Expiry dates are always computed from the original anchor (the PBX's start date), never from
the previous expiry, so a PBX anchored on the 31st comes back to the 31st whenever the month
has one (R-PBX-4).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from dateutil.relativedelta import relativedelta

__all__ = [
    "Period",
    "Term",
    "add_months_anchored",
    "last_day_of_month",
    "term_end",
    "term_period_containing",
    "term_periods",
]


class Term(StrEnum):
    """The subscription terms of the catalog (R-CAT-3)."""

    MONTHLY = "monthly"
    YEARLY = "yearly"
    FIVE_YEAR = "five_year"
    LIFETIME = "lifetime"

    @property
    def months(self) -> int | None:
        """Length of one term in months; ``None`` for lifetime (no expiry)."""
        return _TERM_MONTHS[self]

    @property
    def is_recurring(self) -> bool:
        """True for terms that expire and renew (R-CO-2, R-HW-1 need one)."""
        return self.months is not None


_TERM_MONTHS: dict[Term, int | None] = {
    Term.MONTHLY: 1,
    Term.YEARLY: 12,
    Term.FIVE_YEAR: 60,
    Term.LIFETIME: None,
}


def _require_date(value: object, what: str) -> date:
    # datetime is a date subclass; letting one in would mix instants into calendar arithmetic.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime.date, not {type(value).__name__}")
    return value


def add_months_anchored(anchor: date, months: int) -> date:
    """``anchor`` plus ``months`` calendar months, the day clamped to the month's end (R-PBX-4).

    31 January + 1 month is 28 (or 29) February, + 2 months is 31 March: always add to the
    original anchor, never chain results, or the anchor day drifts down for good.
    """
    _require_date(anchor, "anchor")
    result: date = anchor + relativedelta(months=months)
    return result


# --- Calendar months (usage months, allowance months, bundle switches) -----------------------


def month_of(at: datetime, tz: tzinfo) -> date:
    """The first day of the month holding the instant ``at`` in the time zone ``tz`` (the caller
    passes the vendor's): the month a call's usage and allowance belong to (R-VT-2)."""
    if at.tzinfo is None:
        raise TypeError("at must be timezone-aware")
    local = at.astimezone(tz)
    return date(local.year, local.month, 1)


def first_of_month(day: date) -> date:
    return _require_date(day, "day").replace(day=1)


def next_month_start(day: date) -> date:
    """The first day of the month after the one holding ``day``."""
    _require_date(day, "day")
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_label(month: date) -> str:
    """``YYYY-MM``, as in usage invoices' keys and descriptions."""
    return f"{month.year:04d}-{month.month:02d}"


def _recurring_months(term: Term) -> int:
    months = Term(term).months
    if months is None:
        raise ValueError(f"a {Term(term).value} term has no expiry and no term periods")
    return months


def term_end(anchor: date, term: Term, n: int = 1) -> date | None:
    """Expiry of the ``n``-th term from ``anchor`` (R-PBX-4); ``None`` for lifetime (R-CAT-3).

    ``n=0`` is the anchor itself.
    """
    _require_date(anchor, "anchor")
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    months = Term(term).months
    if months is None:
        return None
    return add_months_anchored(anchor, months * n)


@dataclass(frozen=True, order=True)
class Period:
    """A half-open range of calendar days ``[start, end)``: ``end`` is not part of it.

    A term period runs from one expiry date (or the anchor) to the next: the change date is
    inside, the expiry date is not (R-CO-3). Ordering is by start, then end.
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        _require_date(self.start, "Period start")
        _require_date(self.end, "Period end")
        if not self.start < self.end:
            raise ValueError(f"a period needs start < end, got [{self.start}, {self.end})")

    @property
    def days(self) -> int:
        """Number of days in the period (the end day excluded)."""
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return self.start <= _require_date(day, "day") < self.end

    def overlap(self, other: Period) -> Period | None:
        """The days in both periods, or ``None`` when they share none."""
        start = max(self.start, other.start)
        end = min(self.end, other.end)
        return Period(start, end) if start < end else None

    def clip(self, start: date | None = None, end: date | None = None) -> Period | None:
        """This period limited to ``[start, end)`` (either bound optional); ``None`` if empty.

        E.g. the part of a billing month during which a trunk was active.
        """
        new_start = self.start if start is None else max(self.start, _require_date(start, "start"))
        new_end = self.end if end is None else min(self.end, _require_date(end, "end"))
        return Period(new_start, new_end) if new_start < new_end else None

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def term_period_containing(anchor: date, term: Term, on: date) -> Period:
    """The term period ``[anchor + k terms, anchor + (k+1) terms)`` that contains ``on``.

    R-PBX-4, R-CO-3: this is the current term of a PBX anchored on ``anchor``; its end is the
    expiry date and its length the ``term_days`` of proration. ``ValueError`` when ``on`` is
    before the anchor or for a lifetime term.
    """
    _require_date(anchor, "anchor")
    _require_date(on, "on")
    months = _recurring_months(term)
    if on < anchor:
        raise ValueError(f"{on} is before the anchor {anchor}")
    # Estimate k from the month difference, then correct for the day of the month.
    elapsed_months = (on.year - anchor.year) * 12 + (on.month - anchor.month)
    k = elapsed_months // months
    while add_months_anchored(anchor, k * months) > on:
        k -= 1
    while add_months_anchored(anchor, (k + 1) * months) <= on:
        k += 1
    return Period(add_months_anchored(anchor, k * months), add_months_anchored(anchor, (k + 1) * months))


def term_periods(anchor: date, term: Term, until: date) -> Iterator[Period]:
    """The consecutive term periods from ``anchor`` that start before ``until`` (R-PBX-4).

    The last one may run past ``until``. Nothing when ``until <= anchor``; ``ValueError``
    for a lifetime term.
    """
    _require_date(anchor, "anchor")
    _require_date(until, "until")
    months = _recurring_months(term)
    return _iter_term_periods(anchor, months, until)


def _iter_term_periods(anchor: date, months: int, until: date) -> Iterator[Period]:
    # A separate generator so that bad arguments fail at the call, not at the first next().
    k = 0
    start = anchor
    while start < until:
        end = add_months_anchored(anchor, (k + 1) * months)
        yield Period(start, end)
        k += 1
        start = end


def last_day_of_month(d: date) -> bool:
    """Whether ``d`` is the last calendar day of its month (R-PBX-8 refuses decreases then)."""
    _require_date(d, "d")
    return d.day == calendar.monthrange(d.year, d.month)[1]
