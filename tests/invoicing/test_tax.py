"""R-INV-1, R-CAT-6: invoices a business can legally send — both legal entities, VAT per line,
totals by rate, the legend of the treatment; a credit note mirrors the tax of what it credits."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from pbxportal.accounts.legal import partner_legal_entity_set
from pbxportal.accounts.models import Partner
from pbxportal.invoicing.documents import invoice_pdf
from tests.invoicing.helpers import credit, issue

pytestmark = pytest.mark.tax_rules


def test_an_italian_partner_is_charged_22_percent_vat_rounded_per_line(italian: Partner) -> None:
    # given an Italian partner of an Italian vendor / when two lines are invoiced
    invoice = issue(italian, "79.20", "0.25")
    # then each line carries net, rate and tax (0.25 * 22 % = 0.055 -> 0.06 half up), totals add up
    lines = list(invoice.lines.order_by("position"))
    assert [(line.tax_category, line.tax_rate, line.tax_amount) for line in lines] == [
        ("S", Decimal("22"), Decimal("17.42")),
        ("S", Decimal("22"), Decimal("0.06")),
    ]
    assert (invoice.net_total, invoice.tax_total, invoice.total) == (
        Decimal("79.45"),
        Decimal("17.48"),
        Decimal("96.93"),
    )
    assert invoice.amount_due == Decimal("96.93")
    assert invoice.tax_legend == ""
    [row] = invoice.tax_breakdown()
    assert (row.category, row.rate, row.net, row.tax) == (
        "S",
        Decimal("22"),
        Decimal("79.45"),
        Decimal("17.48"),
    )


def test_a_german_partner_with_a_valid_vat_number_gets_reverse_charge(german: Partner) -> None:
    invoice = issue(german, "79.20")
    assert (invoice.tax_category, invoice.tax_rate, invoice.tax_total) == ("AE", Decimal(0), Decimal(0))
    assert invoice.total == Decimal("79.20")
    assert invoice.tax_legend.startswith("Reverse charge")
    assert invoice.buyer["vat_number"] == "DE136695976"


def test_a_us_partner_is_zero_rated_with_the_legend(american: Partner) -> None:
    invoice = issue(american, "100.00")
    assert (invoice.tax_category, invoice.tax_total, invoice.total) == ("G", Decimal(0), Decimal("100.00"))
    assert "outside the EU" in invoice.tax_legend
    assert invoice.buyer["tax_number"] == "123456789"


def test_a_credit_note_mirrors_the_tax_of_what_it_credits(italian: Partner) -> None:
    # given an invoice taxed at 22 %, and the partner's legal entity moved abroad afterwards
    invoice = issue(italian, "79.20")
    partner_legal_entity_set(
        partner_id=italian.pk, legal_name="Rossi Inc", address="x", city="NYC", country="US"
    )
    # when part of it is credited
    note = credit(invoice, "39.60")
    # then the credit note carries the invoice's 22 %, negated exactly
    assert (note.tax_category, note.tax_rate) == ("S", Decimal("22"))
    assert (note.net_total, note.tax_total, note.total) == (
        Decimal("-39.60"),
        Decimal("-8.71"),
        Decimal("-48.31"),
    )
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("96.62") - Decimal("48.31")


def test_the_pdf_shows_both_legal_entities_and_the_tax_breakdown(italian: Partner, settings: Any) -> None:
    settings.VENDOR_LEGAL_NAME = "Vendor Legal S.r.l."
    invoice = issue(italian, "79.20")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(invoice_pdf(invoice))).pages)
    for expected in (
        "Vendor Legal S.r.l.",
        "IT00743110157",
        "Rossi Telecomunicazioni S.r.l.",
        "Via Dante 5",
        "22 %",
        "17.42",
        "96.62",
        "IBAN",
    ):
        assert expected in text, expected


def test_the_invoice_page_shows_the_breakdown(italian: Partner, make_user: Any, client_for: Any) -> None:
    invoice = issue(italian, "79.20")
    page = client_for(make_user(italian)).get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Rossi Telecomunicazioni S.r.l." in page and "17.42" in page and "96.62" in page


def test_the_tax_report_of_a_period_as_csv_and_xlsx(
    italian: Partner, german: Partner, vendor_admin: Any, client_for: Any, make_user: Any
) -> None:
    # given documents in March and one in April
    from datetime import date

    from openpyxl import load_workbook

    invoice = issue(italian, "79.20")
    credit(invoice, "39.60")
    issue(german, "100.00")
    issue(italian, "10.00", on=date(2025, 4, 1))
    client = client_for(vendor_admin)
    # when staff download March (half-open: April 1st excluded)
    response = client.get("/staff/tax-report/?from=2025-03-01&to=2025-04-01")
    # then the CSV has one row per document and rate, and totals per category and rate
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("number,kind,issued_on")
    documents = [line for line in lines[1:] if line and not line.startswith("total")]
    assert len(documents) == 3
    assert "total,,,,,,S,22,39.60,8.71,EUR" in lines
    assert "total,,,,,,AE,0,100.00,0.00,EUR" in lines
    # and the XLSX holds the same
    book = load_workbook(
        io.BytesIO(client.get("/staff/tax-report/?from=2025-03-01&to=2025-04-01&format=xlsx").content)
    )
    assert book["Documents"].max_row == 4
    assert [c.value for c in book["Totals"][2]] == ["EUR", "AE", 0, 100, 0]
    # partners cannot read it
    assert client_for(make_user(italian)).get(
        "/staff/tax-report/?from=2025-03-01&to=2025-04-01"
    ).status_code in (
        302,
        403,
        404,
    )
