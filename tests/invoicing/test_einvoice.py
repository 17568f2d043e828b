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
from tests.invoicing.schematron import schematron_findings

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


@pytest.mark.parametrize("who", ["italian", "german", "american"])
def test_invoices_and_credit_notes_pass_the_en16931_schematron(
    request: pytest.FixtureRequest, who: str
) -> None:
    # given an invoice (and, for the Italian partner, a credit note of part of it)
    partner: Partner = request.getfixturevalue(who)
    invoice = issue(partner, "79.20", "10.00")
    documents = [invoice] + ([credit(invoice, "10.00")] if who == "italian" else [])
    for document in documents:
        # when the EN 16931 Schematron (CEN business rules, Factur-X profile) runs on its XML
        findings, fired = schematron_findings(cii_xml(document))
        # then it checked the document and found nothing, not even a warning
        assert fired > 50, fired
        assert findings == [], [(f.rule, f.flag, f.text) for f in findings]


def test_the_schematron_catches_a_broken_total(italian: Partner) -> None:
    # the check can fail: a grand total that is not net + tax breaks BR-CO-15
    xml = cii_xml(issue(italian, "79.20"))
    broken = xml.replace(b"<ram:GrandTotalAmount>96.62<", b"<ram:GrandTotalAmount>96.63<")
    assert broken != xml
    findings, _ = schematron_findings(broken)
    assert "BR-CO-15" in {f.rule for f in findings}
