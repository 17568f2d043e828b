"""Monthly allowances of the voice trunk: the CTA1 pool and the CTA2 bundle (R-VT-2, R-VT-5).

Allowances are per PBX per calendar month, in the PBX's rating zone (the vendor's time zone
unless configured otherwise). The month is ``[first day 00:00, next first day 00:00)`` local
time, as instants; a local midnight that does not exist or exists twice (a DST change at
midnight) is read with ``fold=0``, like every local time in the rating core.

The CTA1 pool holds ``minutes_per_user`` minutes per counted user (3000 in the seed's
catalog), in seconds. It is sized by the counted users in force at the start of the month,
or from the first event when the trunk is activated during the month, and grows at once
when users are added. It never shrinks within the month: its size at an instant is the
highest counted-user figure seen from the start of the month up to that instant (a high-water
mark, so dropping to 2 users and coming back to 3 gives no more than the 4 users the month
started with). Unused seconds do not carry over: every month starts afresh.

The CTA2 bundle (CLASSOUND-FLAT-CTA2) holds a fixed number of minutes and SMS per PBX per
month, 1000 and 50 in the seed's catalog. A PBX holds one bundle or the other (R-VT-5).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "AllowancePool",
    "Cta2Bundle",
    "UserCountEvent",
    "month_bounds",
    "month_number",
    "period_label",
    "zone",
]

UserCountEvent = tuple[datetime, int]
"""``(at, counted_users)``: from ``at`` on, the PBX has that many counted users (R-VT-1)."""


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """The time zone named ``name`` (IANA); ``UTC`` is the standard library's UTC."""
    return UTC if name == "UTC" else ZoneInfo(name)


def month_number(at: datetime, zone_name: str) -> int:
    """``year * 12 + month - 1`` of the calendar month holding the instant ``at`` in the zone."""
    local = _aware(at, "at").astimezone(zone(zone_name))
    return local.year * 12 + local.month - 1


def period_label(number: int) -> str:
    """``YYYY-MM`` of a month number."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_bounds(number: int, zone_name: str) -> tuple[datetime, datetime]:
    """The month ``number`` as a half-open pair of UTC instants (local midnights, ``fold=0``)."""
    tz = zone(zone_name)
    start = datetime(number // 12, number % 12 + 1, 1, tzinfo=tz)
    following = number + 1
    end = datetime(following // 12, following % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, not naive {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class AllowancePool:
    """The CTA1 allowance of one PBX for one month, in seconds (R-VT-2).

    ``steps`` is the pool's size as a step function: ``(from, seconds)`` pairs in time order
    with non-decreasing sizes; before the first step, and when there is none, the pool is 0.
    Build it with ``for_period``.
    """

    period_start: datetime
    period_end: datetime
    steps: tuple[tuple[datetime, int], ...]

    @classmethod
    def for_period(
        cls,
        *,
        events: Iterable[UserCountEvent],
        period_start: datetime,
        period_end: datetime,
        minutes_per_user: int,
    ) -> AllowancePool:
        """The pool of ``[period_start, period_end)`` from the PBX's counted-user events."""
        _aware(period_start, "period_start")
        _aware(period_end, "period_end")
        if minutes_per_user < 0:
            raise ValueError(f"minutes_per_user must not be negative, not {minutes_per_user}")
        ordered = sorted(events, key=lambda event: event[0])
        users = 0
        for at, counted in ordered:
            if _aware(at, "event time") > period_start:
                break
            users = counted
        steps: list[tuple[datetime, int]] = [(period_start, users * minutes_per_user * 60)]
        for at, counted in ordered:
            if period_start < at < period_end and counted > users:
                users = counted
                steps.append((at, users * minutes_per_user * 60))
        return cls(period_start=period_start, period_end=period_end, steps=tuple(steps))

    def seconds_at(self, at: datetime) -> int:
        """Size of the pool at the instant ``at``: users added at ``at`` already count."""
        index = bisect_right([start for start, _ in self.steps], _aware(at, "at")) - 1
        return self.steps[index][1] if index >= 0 else 0

    @property
    def final_seconds(self) -> int:
        """Size of the pool at the end of the month (its largest)."""
        return self.steps[-1][1] if self.steps else 0


@dataclass(frozen=True, slots=True)
class Cta2Bundle:
    """CLASSOUND-FLAT-CTA2: minutes and SMS to CTA2 destinations per PBX per month (R-VT-5)."""

    minutes: int
    sms: int

    def __post_init__(self) -> None:
        if self.minutes < 0 or self.sms < 0:
            raise ValueError(f"bundle sizes must not be negative: {self.minutes} minutes, {self.sms} SMS")

    @property
    def seconds(self) -> int:
        """The bundle's voice allowance in seconds."""
        return self.minutes * 60
