"""The billing clock's jobs (R-CLK-1), registered by the apps that own them.

A daily job takes the vendor day it runs for and returns how many things it did; it must be
idempotent (running the same day twice does nothing more). Short jobs take the current instant
and run every minute under beat, and at the end of each clock day as a backstop.
Apps register jobs in a ``clock_jobs`` module, imported when the registry is first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps


@dataclass(frozen=True)
class Job:
    name: str
    order: int
    fn: Callable[..., int]


_DAILY: list[Job] = []
_SHORT: list[Job] = []
_loaded = False


def daily_job(name: str, order: int) -> Callable[[Callable[[date], int]], Callable[[date], int]]:
    def register(fn: Callable[[date], int]) -> Callable[[date], int]:
        _DAILY.append(Job(name, order, fn))
        return fn

    return register


def short_job(name: str, order: int) -> Callable[[Callable[[datetime], int]], Callable[[datetime], int]]:
    def register(fn: Callable[[datetime], int]) -> Callable[[datetime], int]:
        _SHORT.append(Job(name, order, fn))
        return fn

    return register


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for config in apps.get_app_configs():
        if config.name.startswith("pbxportal."):
            try:
                importlib.import_module(f"{config.name}.clock_jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.clock_jobs":
                    raise
    _loaded = True


def daily_jobs() -> list[Job]:
    _load()
    return sorted({j.name: j for j in _DAILY}.values(), key=lambda j: (j.order, j.name))


def short_jobs() -> list[Job]:
    _load()
    return sorted({j.name: j for j in _SHORT}.values(), key=lambda j: (j.order, j.name))
