"""Rules per service family, registered by the app that owns the family.

The PBX app runs the co-termination mechanism (R-CO-1..4) for every service, but the rules of a
family belong to the app that sells it: the voice trunk's (R-CO-2, R-VT-5) to ``voice``, HWaaS's
(R-HW-1) to ``hardware``, the expansions' (R-EX-1, R-EX-6) to ``expansions``, storage's
(R-PBX-1) to ``pbx``. Each app registers them at start-up (``AppConfig.ready``); the PBX app asks
the registry and never imports the apps. ``docs/architecture.md`` shows how to add a family.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

R = TypeVar("R", bound=Callable[..., object])


class FamilyRegistry(Generic[R]):
    """Callables of type ``R`` per family (a catalog ``Family`` value), run in registration order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._rules: dict[str, list[R]] = {}

    def register(self, family: str) -> Callable[[R], R]:
        """A decorator adding a rule to ``family``; registering the same rule twice keeps one."""

        def add(rule: R) -> R:
            rules = self._rules.setdefault(family, [])
            if rule not in rules:
                rules.append(rule)
            return rule

        return add

    def rules(self, family: str) -> tuple[R, ...]:
        return tuple(self._rules.get(family, ()))

    def families(self) -> frozenset[str]:
        return frozenset(family for family, rules in self._rules.items() if rules)
