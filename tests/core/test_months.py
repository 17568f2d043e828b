"""Calendar-month arithmetic, only in core/periods.py, the time zone passed in (issue 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pbxportal.core.periods import first_of_month, month_label, month_of, next_month_start


def test_the_month_of_an_instant_depends_on_the_time_zone_passed_in() -> None:
    instant = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    assert month_of(instant, UTC) == date(2025, 1, 1)
    assert month_of(instant, ZoneInfo("Asia/Dubai")) == date(2025, 2, 1)
    assert month_of(instant, timezone(timedelta(hours=-5))) == date(2025, 1, 1)
    with pytest.raises(TypeError):
        month_of(datetime(2025, 1, 31, 23, 30), UTC)  # noqa: DTZ001 (naive on purpose)


def test_next_month_start_first_of_month_and_label() -> None:
    assert next_month_start(date(2025, 12, 1)) == date(2026, 1, 1)
    assert next_month_start(date(2024, 1, 31)) == date(2024, 2, 1)
    assert first_of_month(date(2024, 2, 29)) == date(2024, 2, 1)
    assert month_label(date(2025, 3, 1)) == "2025-03"
    with pytest.raises(TypeError):
        next_month_start(datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
