"""Tax of an invoice as data and arithmetic (R-INV-1, R-CAT-6): pure, no Django.

The rules of the vendor's country (``TaxRules``, loaded from a YAML file by ``invoicing.tax``)
decide one *treatment* per buyer:

- a buyer in the vendor's country pays the domestic VAT rate (category ``S``, standard rate);
- a business buyer in another EU member state with a valid VAT number is invoiced under the
  reverse charge (category ``AE``, 0 %, with the reverse-charge legend);
- a buyer outside the EU is zero-rated as an export of services (category ``G``, 0 %, with its
  legend);
- a buyer in another EU state without a valid VAT number is charged the vendor's domestic VAT
  (B2C place-of-supply simplification; documented in docs/tax.md).

Each line carries net, rate, tax: the tax is rounded once per line, half up, to the currency's
minor unit (R-CAT-6), so a credit note's negated line has exactly the negated tax. Totals by rate
are sums of those rounded lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pbxportal.core.money import round_line

# EN 16931 / UNTDID 5305 VAT category codes.
STANDARD = "S"
REVERSE_CHARGE = "AE"
EXPORT = "G"
NOT_SUBJECT = "O"


@dataclass(frozen=True)
class TaxRules:
    """The vendor country's rules: ``enabled=False`` issues documents without tax (``O``, 0 %)."""

    vendor_country: str
    rates: Mapping[str, Decimal]
    eu_countries: frozenset[str]
    legends: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True

    def domestic_rate(self) -> Decimal:
        try:
            return self.rates[self.vendor_country]
        except KeyError:
            raise ValueError(f"tax rules: no VAT rate for the vendor country {self.vendor_country}") from None


@dataclass(frozen=True)
class Buyer:
    country: str
    vat_number_valid: bool


@dataclass(frozen=True)
class Treatment:
    """How one document is taxed: the category, rate and the legend the law asks for."""

    category: str
    rate: Decimal
    legend: str = ""


@dataclass(frozen=True)
class TaxedLine:
    net: Decimal
    rate: Decimal
    tax: Decimal
    category: str

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class RateTotal:
    category: str
    rate: Decimal
    net: Decimal
    tax: Decimal


def treatment_for(rules: TaxRules, buyer: Buyer) -> Treatment:
    """The one treatment of a buyer under the vendor country's rules (see the module docstring)."""
    if not rules.enabled:
        return Treatment(NOT_SUBJECT, Decimal(0), rules.legends.get(NOT_SUBJECT, ""))
    country = buyer.country.upper()
    vendor = rules.vendor_country.upper()
    if country == vendor:
        return Treatment(STANDARD, rules.domestic_rate())
    if country in rules.eu_countries and vendor in rules.eu_countries:
        if buyer.vat_number_valid:
            return Treatment(REVERSE_CHARGE, Decimal(0), rules.legends.get(REVERSE_CHARGE, ""))
        return Treatment(STANDARD, rules.domestic_rate())
    return Treatment(EXPORT, Decimal(0), rules.legends.get(EXPORT, ""))


def tax_line(net: Decimal, treatment: Treatment, currency: str) -> TaxedLine:
    """Net, rate and tax of one line; the tax rounded once, half up (R-CAT-6)."""
    if not isinstance(net, Decimal) or not isinstance(treatment.rate, Decimal):
        raise TypeError("tax_line takes Decimal amounts and rates, never floats (R-CAT-6)")
    tax = round_line(net * treatment.rate / Decimal(100), currency)
    return TaxedLine(net=net, rate=treatment.rate, tax=tax, category=treatment.category)


def totals_by_rate(lines: Iterable[TaxedLine]) -> list[RateTotal]:
    """Sums of net and tax per (category, rate), in a stable order."""
    groups: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for line in lines:
        key = (line.category, line.rate)
        net, tax = groups.get(key, (Decimal(0), Decimal(0)))
        groups[key] = (net + line.net, tax + line.tax)
    return [
        RateTotal(category=c, rate=r, net=n, tax=t)
        for (c, r), (n, t) in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    ]
