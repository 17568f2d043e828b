"""The automatic-charge retry schedule (issue 14, build item 6), as data.

The schedule is a list of day offsets from the invoice's issue date, one per attempt:
``[0, 3, 5, 7]`` charges on the day of issue, then retries 3, 5 and 7 days after it. After the
last attempt fails the invoice simply stays due (the overdue stages run as for any invoice).
Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from itertools import pairwise


class ScheduleError(ValueError):
    """A retry schedule that is not a non-empty, non-decreasing list of day offsets >= 0."""


def parse_schedule(value: str | Sequence[int]) -> tuple[int, ...]:
    """``"0,3,5,7"`` or ``[0, 3, 5, 7]`` → ``(0, 3, 5, 7)``; refuses anything else."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        try:
            offsets = tuple(int(p) for p in parts)
        except ValueError:
            raise ScheduleError(f"not a list of whole days: {value!r}") from None
    else:
        offsets = tuple(int(v) for v in value)
    if not offsets:
        raise ScheduleError("the schedule needs at least one attempt")
    if any(o < 0 for o in offsets):
        raise ScheduleError(f"day offsets are 0 or more: {offsets}")
    if any(b < a for a, b in pairwise(offsets)):
        raise ScheduleError(f"day offsets never decrease: {offsets}")
    return offsets


def attempt_on(issued_on: date, schedule: Sequence[int], number: int) -> date | None:
    """The day of attempt ``number`` (1-based), or None when the schedule has no such attempt."""
    if number < 1 or number > len(schedule):
        return None
    return issued_on + timedelta(days=schedule[number - 1])


def next_attempt(
    issued_on: date, schedule: Sequence[int], failed: int, today: date
) -> tuple[int, date] | None:
    """After ``failed`` attempts failed (the last one on ``today``): the next attempt's number and
    day, never before tomorrow (two attempts never run on one day), or None when none is left."""
    number = failed + 1
    day = attempt_on(issued_on, schedule, number)
    if day is None:
        return None
    return number, max(day, today + timedelta(days=1))
