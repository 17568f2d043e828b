"""Partners with legal entities of three tax treatments (R-INV-1): Italian (domestic VAT), German
with a valid VAT number (reverse charge), US (outside the EU)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pbxportal.accounts.legal import partner_legal_entity_set
from pbxportal.accounts.models import Partner
from pbxportal.catalog.models import PriceBook


@pytest.fixture
def italian(make_partner: Callable[..., Partner]) -> Partner:
    partner = make_partner("rossi")
    partner_legal_entity_set(
        partner_id=partner.pk,
        legal_name="Rossi Telecomunicazioni S.r.l.",
        address="Via Dante 5",
        postal_code="20121",
        city="Milano",
        country="IT",
        vat_number="IT00743110157",
    )
    return partner


@pytest.fixture
def german(make_partner: Callable[..., Partner]) -> Partner:
    partner = make_partner("schmidt")
    partner_legal_entity_set(
        partner_id=partner.pk,
        legal_name="Schmidt Netzwerke GmbH",
        address="Hauptstrasse 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        vat_number="DE 136 695 976",
    )
    return partner


@pytest.fixture
def american(make_partner: Callable[..., Partner], make_book: Callable[..., PriceBook]) -> Partner:
    partner = make_partner("lakeside", book=make_book("GOLD-USD", currency="USD"))
    partner_legal_entity_set(
        partner_id=partner.pk,
        legal_name="Lakeside Telecom Inc",
        address="1 Lake Shore Drive",
        postal_code="60601",
        city="Chicago",
        country="US",
        tax_number="12-3456789",
    )
    return partner
