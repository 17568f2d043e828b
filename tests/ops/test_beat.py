"""Beat drives the billing clock daily and the short jobs every minute (R-CLK-1)."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings

from pbxportal.config.celery import app


def test_beat_schedule_names_registered_clock_tasks() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    daily = schedule["billing-clock-daily"]
    minutely = schedule["short-jobs-every-minute"]
    assert daily["task"] == "pbxportal.clock.tasks.run_clock"
    assert minutely["task"] == "pbxportal.clock.tasks.run_short_jobs"
    # the worker knows both names (a typo would leave beat sending tasks nobody runs)
    app.loader.import_default_modules()
    assert {daily["task"], minutely["task"]} <= set(app.tasks)


def test_the_clock_runs_once_a_day_in_the_vendors_time_zone() -> None:
    daily = settings.CELERY_BEAT_SCHEDULE["billing-clock-daily"]["schedule"]
    assert isinstance(daily, crontab)
    assert daily.hour == {0} and daily.minute == {5}
    assert app.conf.timezone == settings.VENDOR_TIMEZONE
    # a short job that could not run within its minute is dropped, not piled up
    minutely = settings.CELERY_BEAT_SCHEDULE["short-jobs-every-minute"]
    assert minutely["schedule"] == 60.0 and minutely["options"]["expires"] < 60
