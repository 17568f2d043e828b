"""The automatic-charge retry schedule is data (issue 14, build item 6): day offsets from the
invoice date, one per attempt; two attempts never fall on one day; the schedule ends."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbxportal.core.retry import ScheduleError, attempt_on, next_attempt, parse_schedule

ISSUED = date(2025, 4, 10)


def test_the_schedule_is_read_from_text_or_a_list() -> None:
    assert parse_schedule("0,3,5,7") == (0, 3, 5, 7)
    assert parse_schedule(" 0 ; 2 ") == (0, 2)
    assert parse_schedule([0, 1, 1]) == (0, 1, 1)


@pytest.mark.parametrize("bad", ["", "0,x", "-1,3", "5,3", []])
def test_a_schedule_that_is_not_non_decreasing_whole_days_is_refused(bad: object) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(bad)  # type: ignore[arg-type]


def test_attempts_fall_on_the_offsets_and_end_with_the_schedule() -> None:
    schedule = (0, 3, 5, 7)
    assert [attempt_on(ISSUED, schedule, n) for n in (1, 2, 3, 4)] == [
        date(2025, 4, 10),
        date(2025, 4, 13),
        date(2025, 4, 15),
        date(2025, 4, 17),
    ]
    assert attempt_on(ISSUED, schedule, 5) is None
    # after the first attempt fails on the day of issue, the second is 3 days on
    assert next_attempt(ISSUED, schedule, failed=1, today=ISSUED) == (2, date(2025, 4, 13))
    # after the last one, none is left: the invoice stays due (the overdue clock takes over)
    assert next_attempt(ISSUED, schedule, failed=4, today=date(2025, 4, 17)) is None


def test_a_late_attempt_pushes_the_next_one_to_the_following_day_at_the_earliest() -> None:
    # the clock ran attempt 2 late (on day 6): attempt 3 (day 5) is due the next day, not twice today
    assert next_attempt(ISSUED, (0, 3, 5, 7), failed=2, today=ISSUED + timedelta(days=6)) == (
        3,
        ISSUED + timedelta(days=7),
    )


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=8).map(sorted),
    lateness=st.lists(st.integers(min_value=0, max_value=5), min_size=8, max_size=8),
)
def test_any_schedule_runs_each_attempt_once_on_distinct_increasing_days(
    offsets: list[int], lateness: list[int]
) -> None:
    schedule = parse_schedule(offsets)
    day = attempt_on(ISSUED, schedule, 1)
    assert day is not None
    days = []
    failed = 0
    while True:
        day = day + timedelta(days=lateness[failed])  # the clock may run an attempt late
        days.append(day)
        failed += 1
        following = next_attempt(ISSUED, schedule, failed=failed, today=day)
        if following is None:
            break
        number, day = following
        assert number == failed + 1
        assert day >= ISSUED + timedelta(days=schedule[number - 1])
    assert len(days) == len(schedule)
    assert all(b > a for a, b in itertools.pairwise(days))
