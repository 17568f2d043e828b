"""Each service family's ordering rules are registered by the app that owns the family, through the
one registry ``service_order_plan`` runs (R-CO-2, R-VT-5, R-HW-1, R-EX-1, R-EX-6, R-PBX-1)."""

from __future__ import annotations

from collections.abc import Callable

from pbxportal.catalog.models import Family
from pbxportal.common.registry import FamilyRegistry
from pbxportal.pbx.services import SERVICE_RULES


def test_every_family_registers_its_rules_from_its_own_app() -> None:
    owners = {
        Family.VOICE: "pbxportal.voice.",
        Family.HWAAS: "pbxportal.hardware.",
        Family.EXPANSION: "pbxportal.expansions.",
        Family.STORAGE: "pbxportal.pbx.",
    }
    for family, app in owners.items():
        rules = SERVICE_RULES.rules(family)
        assert rules, family
        registered_in = {getattr(rule, "__module__", "") for rule in rules}
        # recurring_term_only builds its rule in pbx.services; the owner calls it with its rule id
        assert all(m.startswith(app) or m == "pbxportal.pbx.services.changes" for m in registered_in), (
            family,
            registered_in,
        )
    assert [rule.__name__ for rule in SERVICE_RULES.rules(Family.VOICE)] == [
        "recurring_term",
        "per_user_pbx_with_firmware",
        "one_bundle",
        "cta2_needs_did",
    ]


def test_a_rule_registered_twice_runs_once_and_families_without_rules_have_none() -> None:
    registry: FamilyRegistry[Callable[[], None]] = FamilyRegistry("test")
    calls: list[str] = []

    def rule() -> None:
        calls.append("x")

    registry.register("voice")(rule)
    registry.register("voice")(rule)
    assert registry.rules("voice") == (rule,)
    assert registry.rules("storage") == ()
    assert registry.families() == frozenset({"voice"})
