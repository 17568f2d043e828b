"""Structured e-invoices (R-INV-1): each invoice and credit note as an EN 16931 document in the
UN/CEFACT Cross Industry Invoice syntax (Factur-X / ZUGFeRD profile EN 16931), and the Factur-X
PDF: the invoice PDF rendered as PDF/A-3 by WeasyPrint with the XML embedded by the ``factur-x``
library (which also validates the XML against the profile's XSD before embedding).

Credit notes are type 381 with positive amounts (EN 16931 convention) and reference the invoice
they credit (BT-25). Amounts are the stored, already rounded figures (R-CAT-6).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree

from pbxportal.invoicing.models import Invoice, InvoiceKind

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931 = "urn:cen.eu:en16931:2017"


def _el(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", **attrs)
    if text is not None:
        node.text = text
    return node


def _date(parent: Any, tag: str, value: Any, kind: str = "udt") -> None:
    _el(_el(parent, tag), f"{kind}:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _money(value: Decimal, sign: int) -> str:
    return f"{(value * sign).quantize(Decimal('0.01'))}"


def _rate(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _party(parent: Any, tag: str, entity: dict[str, Any], *, buyer: bool = False) -> None:
    party = _el(parent, tag)
    _el(party, "ram:Name", entity.get("legal_name") or "")
    # EN 16931 gives the buyer only a VAT identifier (BT-48, scheme VA); a buyer's other tax
    # number is its legal registration identifier (BT-47). The seller may carry both (BT-31/32).
    if buyer and not entity.get("vat_number") and entity.get("tax_number"):
        _el(_el(party, "ram:SpecifiedLegalOrganization"), "ram:ID", entity["tax_number"])
    address = _el(party, "ram:PostalTradeAddress")
    if entity.get("postal_code"):
        _el(address, "ram:PostcodeCode", entity["postal_code"])
    if entity.get("address"):
        _el(address, "ram:LineOne", entity["address"])
    if entity.get("city"):
        _el(address, "ram:CityName", entity["city"])
    _el(address, "ram:CountryID", entity.get("country") or "")
    if entity.get("vat_number"):
        _el(_el(party, "ram:SpecifiedTaxRegistration"), "ram:ID", entity["vat_number"], schemeID="VA")
    elif entity.get("tax_number") and not buyer:
        _el(_el(party, "ram:SpecifiedTaxRegistration"), "ram:ID", entity["tax_number"], schemeID="FC")


def cii_xml(invoice: Invoice) -> bytes:
    """The EN 16931 CII XML of an issued invoice or credit note."""
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    sign = -1 if credit else 1
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.number or "")
    _el(document, "ram:TypeCode", "381" if credit else "380")
    _date(document, "ram:IssueDateTime", invoice.issued_on)
    if invoice.tax_legend:
        _el(_el(document, "ram:IncludedNote"), "ram:Content", invoice.tax_legend)
    if invoice.reason:
        _el(_el(document, "ram:IncludedNote"), "ram:Content", invoice.reason)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    lines = list(invoice.lines.order_by("position", "id"))
    for number, line in enumerate(lines, start=1):
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
        product = _el(item, "ram:SpecifiedTradeProduct")
        if line.product_code:
            _el(product, "ram:SellerAssignedID", line.product_code)
        _el(product, "ram:Name", line.description)
        # The net price of one unit (BT-146) times the quantity is the line's net amount; a
        # prorated line bills one unit at its prorated amount (R-CO-4 shows how on the PDF).
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _money(line.amount, sign))
        _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", "1", unitCode="C62")
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", line.tax_category or invoice.tax_category)
        if (line.tax_category or invoice.tax_category) != "O":
            _el(tax, "ram:RateApplicablePercent", _rate(line.tax_rate))
        if line.period_start and line.period_end:
            period = _el(settlement, "ram:BillingSpecifiedPeriod")
            _date(period, "ram:StartDateTime", line.period_start)
            _date(period, "ram:EndDateTime", line.period_end)
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _money(line.amount, sign))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", invoice.seller)
    _party(agreement, "ram:BuyerTradeParty", invoice.buyer, buyer=True)
    # The actual delivery date (BT-72): the start of the earliest period billed, else the issue
    # date (an empty delivery element is refused by the EN 16931 Schematron, PEPPOL-EN16931-R008).
    starts = [line.period_start for line in lines if line.period_start]
    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _date(
        _el(delivery, "ram:ActualDeliverySupplyChainEvent"),
        "ram:OccurrenceDateTime",
        min(starts) if starts else invoice.issued_on,
    )

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", invoice.currency)
    if invoice.seller.get("iban") and not credit:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", "58")  # SEPA credit transfer
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", invoice.seller["iban"])
        if invoice.seller.get("bic"):
            _el(
                _el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
                "ram:BICID",
                invoice.seller["bic"],
            )
    for row in invoice.tax_breakdown():
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _money(row.tax, sign))
        _el(tax, "ram:TypeCode", "VAT")
        if row.category in ("AE", "G", "O", "E") and invoice.tax_legend:
            _el(tax, "ram:ExemptionReason", invoice.tax_legend)
        _el(tax, "ram:BasisAmount", _money(row.net, sign))
        _el(tax, "ram:CategoryCode", row.category)
        if row.category != "O":
            _el(tax, "ram:RateApplicablePercent", _rate(row.rate))
    if not credit:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        if invoice.seller.get("payment_terms"):
            _el(terms, "ram:Description", invoice.seller["payment_terms"])
        _date(terms, "ram:DueDateDateTime", invoice.due_on)
    total = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(total, "ram:LineTotalAmount", _money(invoice.net_total, sign))
    _el(total, "ram:TaxBasisTotalAmount", _money(invoice.net_total, sign))
    _el(total, "ram:TaxTotalAmount", _money(invoice.tax_total, sign), currencyID=invoice.currency)
    _el(total, "ram:GrandTotalAmount", _money(invoice.total, sign))
    _el(total, "ram:DuePayableAmount", _money(invoice.total, sign))
    if credit and invoice.credited_invoice is not None:
        referenced = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(referenced, "ram:IssuerAssignedID", invoice.credited_invoice.number or "")
        _date(referenced, "ram:FormattedIssueDateTime", invoice.credited_invoice.issued_on, kind="qdt")
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml


def facturx_pdf(invoice: Invoice) -> bytes:
    """The invoice PDF as PDF/A-3 with its EN 16931 XML embedded (Factur-X), XSD-checked."""
    from facturx import generate_from_binary
    from weasyprint import HTML

    from pbxportal.invoicing.documents import invoice_html

    pdf: bytes = HTML(string=invoice_html(invoice)).write_pdf(pdf_variant="pdf/a-3b")
    result: bytes = generate_from_binary(
        pdf,
        cii_xml(invoice),
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": str(invoice.seller.get("legal_name", "")),
            "keywords": "Factur-X",
            "title": f"{invoice.get_kind_display()} {invoice.number}",
            "subject": f"{invoice.get_kind_display()} {invoice.number}",
        },
    )
    return result
