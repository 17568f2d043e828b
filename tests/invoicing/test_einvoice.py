"""R-INV-1: each invoice and credit note as an EN 16931 document (Factur-X CII), validated against
the profile's XSD by the factur-x library, and embedded in the PDF/A-3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from facturx import get_xml_from_pdf, xml_check_xsd
from lxml import etree

from pbxportal.accounts.models import Partner
from pbxportal.invoicing.einvoice import NSMAP, cii_xml, facturx_pdf
from tests.invoicing.helpers import credit, issue

pytestmark = pytest.mark.tax_rules


def _xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NSMAP)]


@pytest.mark.parametrize(
    ("who", "category", "tax"),
    [("italian", "S", "17.42"), ("german", "AE", "0.00"), ("american", "G", "0.00")],
)
def test_the_cii_xml_validates_and_carries_the_tax(
    request: pytest.FixtureRequest, who: str, category: str, tax: str
) -> None:
    partner: Partner = request.getfixturevalue(who)
    invoice = issue(partner, "79.20")
    xml = cii_xml(invoice)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert _xpath(
        xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()"
    ) == [category]
    assert _xpath(xml, "//ram:TaxTotalAmount/text()") == [tax]
    assert _xpath(xml, "//ram:BuyerTradeParty/ram:Name/text()") == [invoice.buyer["legal_name"]]
    assert _xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == [
        invoice.seller["vat_number"]
    ]
    if category != "S":
        assert _xpath(xml, "//ram:ExemptionReason/text()") == [invoice.tax_legend]


def test_a_credit_note_is_a_381_referencing_its_invoice(italian: Partner) -> None:
    invoice = issue(italian, "79.20")
    note = credit(invoice, "79.20")
    xml = cii_xml(note)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert _xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert _xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [invoice.number]
    assert _xpath(xml, "//ram:GrandTotalAmount/text()") == ["96.62"]


def test_the_facturx_pdf_embeds_the_xml(
    italian: Partner, make_user: Callable[..., Any], client_for: Any
) -> None:
    invoice = issue(italian, "79.20")
    pdf = facturx_pdf(invoice)
    filename, xml = get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert _xpath(xml, "//rsm:ExchangedDocument/ram:ID/text()") == [invoice.number]
    # and the portal serves it
    response = client_for(make_user(italian)).get(f"/invoices/{invoice.pk}/facturx/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert get_xml_from_pdf(response.content, check_xsd=True)[0] == "factur-x.xml"
