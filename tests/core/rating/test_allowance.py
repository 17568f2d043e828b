"""The monthly CTA1 pool and the CTA2 bundle (R-VT-2, R-VT-5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pbxportal.core.rating.allowance import (
    AllowancePool,
    Cta2Bundle,
    month_bounds,
    month_number,
    period_label,
)

MARCH_START = datetime(2025, 3, 1, tzinfo=UTC)
APRIL_START = datetime(2025, 4, 1, tzinfo=UTC)


def march_pool(*events: tuple[datetime, int], minutes_per_user: int = 3000) -> AllowancePool:
    return AllowancePool.for_period(
        events=events, period_start=MARCH_START, period_end=APRIL_START, minutes_per_user=minutes_per_user
    )


def test_four_counted_users_give_a_12000_minute_pool() -> None:
    # given 4 counted users since February
    pool = march_pool((datetime(2025, 2, 3, tzinfo=UTC), 4))
    # then the pool holds 12000 minutes all month
    assert pool.seconds_at(MARCH_START) == 12000 * 60
    assert pool.seconds_at(APRIL_START - timedelta(seconds=1)) == 12000 * 60
    assert pool.final_seconds == 12000 * 60


def test_users_added_mid_month_grow_the_pool_at_once() -> None:
    # given 1 user at the start of March, 3 from the 15th at 09:00
    added = datetime(2025, 3, 15, 9, tzinfo=UTC)
    pool = march_pool((MARCH_START - timedelta(days=1), 1), (added, 3))
    # then the pool grows at that instant, not the next month
    assert pool.seconds_at(added - timedelta(microseconds=1)) == 3000 * 60
    assert pool.seconds_at(added) == 9000 * 60
    assert pool.final_seconds == 9000 * 60


def test_the_pool_never_shrinks_within_the_month() -> None:
    # given 4 users, down to 2 on the 10th, up to 3 on the 20th
    pool = march_pool(
        (MARCH_START - timedelta(days=1), 4),
        (datetime(2025, 3, 10, tzinfo=UTC), 2),
        (datetime(2025, 3, 20, tzinfo=UTC), 3),
    )
    # then it stays at the high-water mark of 4 users
    assert [pool.seconds_at(datetime(2025, 3, day, tzinfo=UTC)) for day in (1, 11, 21)] == [720000] * 3


def test_a_decrease_counts_from_the_next_month() -> None:
    events = ((MARCH_START - timedelta(days=1), 4), (datetime(2025, 3, 10, tzinfo=UTC), 2))
    april = AllowancePool.for_period(
        events=events,
        period_start=APRIL_START,
        period_end=datetime(2025, 5, 1, tzinfo=UTC),
        minutes_per_user=3000,
    )
    assert april.final_seconds == 2 * 3000 * 60


def test_a_trunk_activated_mid_month_starts_empty_until_activation() -> None:
    activated = datetime(2025, 3, 12, tzinfo=UTC)
    pool = march_pool((activated, 2))
    assert pool.seconds_at(MARCH_START) == 0
    assert pool.seconds_at(activated) == 6000 * 60


def test_events_at_the_month_start_size_the_pool() -> None:
    pool = march_pool((MARCH_START, 5))
    assert pool.seconds_at(MARCH_START) == 5 * 3000 * 60
    assert len(pool.steps) == 1


def test_pool_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        march_pool((datetime(2025, 3, 2), 1))  # noqa: DTZ001


def test_the_cta2_bundle_counts_minutes_and_sms() -> None:
    bundle = Cta2Bundle(minutes=1000, sms=50)
    assert (bundle.seconds, bundle.sms) == (60000, 50)
    with pytest.raises(ValueError):
        Cta2Bundle(minutes=-1, sms=0)


@pytest.mark.parametrize(
    ("instant", "zone_name", "label"),
    [
        (datetime(2025, 3, 31, 22, 30, tzinfo=UTC), "UTC", "2025-03"),
        (datetime(2025, 3, 31, 22, 30, tzinfo=UTC), "Europe/Rome", "2025-04"),  # 00:30 CEST
        (datetime(2025, 3, 1, 3, tzinfo=UTC), "America/New_York", "2025-02"),
        (datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), "UTC", "2024-12"),
    ],
)
def test_the_month_is_the_calendar_month_in_the_pbx_zone(
    instant: datetime, zone_name: str, label: str
) -> None:
    assert period_label(month_number(instant, zone_name)) == label


def test_month_bounds_are_local_midnights() -> None:
    start, end = month_bounds(2025 * 12 + 2, "Europe/Rome")  # March 2025
    assert start == datetime(2025, 2, 28, 23, tzinfo=UTC)  # CET
    assert end == datetime(2025, 3, 31, 22, tzinfo=UTC)  # CEST
