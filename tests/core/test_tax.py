"""R-INV-1, R-CAT-6: tax treatment per buyer and per-line rounding, pure (core/tax.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxportal.core.tax import Buyer, TaxRules, Treatment, tax_line, totals_by_rate, treatment_for

RULES = TaxRules(
    vendor_country="IT",
    rates={"IT": Decimal("22"), "DE": Decimal("19")},
    eu_countries=frozenset({"IT", "DE", "FR"}),
    legends={"AE": "Reverse charge", "G": "Outside EU"},
)


@pytest.mark.parametrize(
    ("country", "vat_valid", "category", "rate", "legend"),
    [
        ("IT", True, "S", Decimal("22"), ""),
        ("IT", False, "S", Decimal("22"), ""),
        ("DE", True, "AE", Decimal(0), "Reverse charge"),
        ("FR", False, "S", Decimal("22"), ""),
        ("US", False, "G", Decimal(0), "Outside EU"),
        ("GB", True, "G", Decimal(0), "Outside EU"),
    ],
)
def test_treatment_per_buyer(
    country: str, vat_valid: bool, category: str, rate: Decimal, legend: str
) -> None:
    assert treatment_for(RULES, Buyer(country, vat_valid)) == Treatment(category, rate, legend)


def test_disabled_rules_tax_nothing() -> None:
    off = TaxRules("IT", {}, frozenset(), enabled=False)
    assert treatment_for(off, Buyer("IT", False)).rate == 0


def test_tax_is_rounded_once_per_line_half_up() -> None:
    # 0.25 * 22 % = 0.055 -> 0.06 (half up), not 0.05 (banker's)
    taxed = tax_line(Decimal("0.25"), Treatment("S", Decimal("22")), "EUR")
    assert taxed.tax == Decimal("0.06")
    assert tax_line(Decimal("-0.25"), Treatment("S", Decimal("22")), "EUR").tax == Decimal("-0.06")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        tax_line(0.25, Treatment("S", Decimal("22")), "EUR")  # type: ignore[arg-type]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(-1_000_000, 1_000_000).map(lambda cents: Decimal(cents) / 100), max_size=20))
def test_totals_by_rate_are_the_sums_of_the_rounded_lines(nets: list[Decimal]) -> None:
    treatment = Treatment("S", Decimal("22"))
    lines = [tax_line(n, treatment, "EUR") for n in nets]
    totals = totals_by_rate(lines)
    if not nets:
        assert totals == []
        return
    [total] = totals
    assert total.net == sum(nets, Decimal(0))
    assert total.tax == sum((line.tax for line in lines), Decimal(0))
    # a credit of every line mirrors the tax exactly
    assert sum((tax_line(-n, treatment, "EUR").tax for n in nets), Decimal(0)) == -total.tax
