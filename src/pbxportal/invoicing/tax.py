"""Tax rules as data (R-INV-1): loaded from ``tax_rules.yaml`` beside this module, or the file
named by ``settings.TAX_RULES_FILE``, for ``settings.VENDOR_COUNTRY``. The arithmetic is
``core/tax.py``; this module picks a document's treatment (a credit note mirrors the invoice it
credits) and taxes its lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from pbxportal.core.tax import Buyer, TaxedLine, TaxRules, Treatment, tax_line, treatment_for
from pbxportal.invoicing.lines import LineDraft

DEFAULT_RULES = Path(__file__).with_name("tax_rules.yaml")


@cache
def _load(path: str, vendor_country: str) -> TaxRules:
    data = yaml.safe_load(Path(path).read_text()) or {}
    return TaxRules(
        vendor_country=vendor_country.upper(),
        rates={str(k).upper(): Decimal(str(v)) for k, v in (data.get("rates") or {}).items()},
        eu_countries=frozenset(str(c).upper() for c in data.get("eu_countries") or []),
        legends={str(k): str(v or "") for k, v in (data.get("legends") or {}).items()},
        enabled=bool(data.get("enabled", True)),
    )


def tax_rules() -> TaxRules:
    return _load(str(getattr(settings, "TAX_RULES_FILE", "") or DEFAULT_RULES), settings.VENDOR_COUNTRY)


def buyer_treatment(buyer: Mapping[str, Any]) -> Treatment:
    """The treatment of a buyer snapshot (``accounts.legal.buyer_snapshot``)."""
    return treatment_for(
        tax_rules(),
        Buyer(country=str(buyer.get("country") or ""), vat_number_valid=bool(buyer.get("vat_number_valid"))),
    )


def mirrored_treatment(invoice: Any) -> Treatment:
    """A credit note carries the tax of what it credits: the invoice's own category and rate."""
    return Treatment(invoice.tax_category, invoice.tax_rate, invoice.tax_legend)


@dataclass(frozen=True)
class DocumentTax:
    treatment: Treatment
    lines: list[TaxedLine]
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def document_tax(lines: Sequence[LineDraft], treatment: Treatment, currency: str) -> DocumentTax:
    """Each line's tax rounded once, half up (R-CAT-6); the totals are sums of the rounded lines."""
    taxed = [tax_line(line.amount, treatment, currency) for line in lines]
    return DocumentTax(
        treatment=treatment,
        lines=taxed,
        net=sum((t.net for t in taxed), Decimal(0)),
        tax=sum((t.tax for t in taxed), Decimal(0)),
    )
