"""R-INV-1: a partner's legal entity; VAT and tax numbers validated with python-stdnum."""

from __future__ import annotations

from typing import Any

import pytest

from pbxportal.accounts.legal import partner_legal_entity_set, vendor_legal_entity
from pbxportal.common.errors import ApplicationError


@pytest.mark.parametrize(
    ("country", "number", "compact"),
    [("DE", "DE 136 695 976", "DE136695976"), ("IT", "00743110157", "IT00743110157")],
)
def test_valid_vat_numbers_are_kept_compact(partner_a: Any, country: str, number: str, compact: str) -> None:
    entity = partner_legal_entity_set(
        partner_id=partner_a.pk, legal_name="X", address="a", city="c", country=country, vat_number=number
    )
    assert entity.vat_number == compact and entity.vat_number_valid


@pytest.mark.parametrize(
    ("country", "number", "field"),
    [
        ("DE", "DE123456789", "vat_number"),
        ("IT", "DE136695976", "vat_number"),
        ("FR", "nonsense", "vat_number"),
    ],
)
def test_invalid_vat_numbers_are_refused_naming_the_field(
    partner_a: Any, country: str, number: str, field: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        partner_legal_entity_set(
            partner_id=partner_a.pk, legal_name="X", address="a", city="c", country=country, vat_number=number
        )
    assert field in refused.value.fields


def test_a_us_ein_is_validated(partner_a: Any) -> None:
    with pytest.raises(ApplicationError):
        partner_legal_entity_set(
            partner_id=partner_a.pk, legal_name="X", address="a", city="c", country="US", tax_number="12-34"
        )


def test_the_vendor_entity_comes_from_settings(settings: Any) -> None:
    settings.VENDOR_IBAN = "IT60X0542811101000000123456"
    settings.VENDOR_PAYMENT_TERMS = "Within {days} days."
    settings.INVOICE_PAYMENT_DAYS = 15
    vendor = vendor_legal_entity()
    assert vendor.iban == "IT60X0542811101000000123456" and vendor.payment_terms == "Within 15 days."
