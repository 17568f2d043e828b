"""The foundation in a real browser: a demo partner logs in, searches and downloads its price book
(R-CAT-4), and creates then edits a customer from its dashboard (R-UI-1)."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from pbxportal.catalog.models import DestinationRate, Price
from pbxportal.catalog.selectors import EXPORT_COLUMNS
from tests.e2e.conftest import Login, open_menu


def _xlsx_rows(path: Path) -> list[tuple[object, ...]]:
    sheet = load_workbook(path, read_only=True).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_partner_searches_and_downloads_its_price_book(
    page: Page, login: Login, demo_data: dict[str, str], tmp_path: Path
) -> None:
    # given the demo partner alpha (Gold EUR book), logged in through the form
    login(page, "alpha-admin", demo_data["alpha-admin"])
    # when it opens its price book from the navigation
    open_menu(page, "Customers & PBXs", "Price book")
    # then the book and its demo prices are listed
    expect(page.locator("h1")).to_contain_text("Gold (EUR)")
    expect(page.locator(".alert.warning")).to_contain_text("Demo data")
    expect(page.locator("#items tbody tr")).to_have_count(50)

    # when it downloads the whole book as XLSX
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    whole = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(whole)
    # then the file opens with openpyxl and holds one row per priced item of the book
    assert whole.name == "price-book-GOLD-EUR.xlsx"
    rows = _xlsx_rows(whole)
    priced = (
        Price.objects.filter(book__code="GOLD-EUR").count()
        + DestinationRate.objects.filter(book__code="GOLD-EUR").count()
    )
    assert rows[0] == tuple(EXPORT_COLUMNS)
    assert len(rows) == 1 + priced

    # when it types a search (htmx updates the list as it types)
    page.fill("#q", "UC-BUSINESS")
    codes = page.locator("#items tbody tr td:first-child")
    expect(codes).to_have_count(4)
    expect(codes.first).to_have_text(re.compile(r"^UC-BUSINESS-"))
    expect(page.locator("#items")).to_have_count(1)  # replaced, not nested in itself
    expect(page.locator("#items")).to_contain_text("79.2")
    # and downloads again: the export follows the search it shows
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    found = tmp_path / "found.xlsx"
    download_info.value.save_as(found)
    assert sorted(str(r[0]) for r in _xlsx_rows(found)[1:]) == sorted(codes.all_inner_texts())


def test_partner_creates_and_edits_a_customer_on_the_dashboard(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given the demo partner alpha on its dashboard, with its demo customers
    login(page, "alpha-admin", demo_data["alpha-admin"])
    open_menu(page, "Customers & PBXs", "Customers")
    expect(page.locator("#customers")).to_contain_text("Rossi Logistica")

    # when it creates a customer with the form
    page.get_by_role("link", name="New customer").click()
    page.fill("#id_name", "Verdi Costruzioni S.r.l.")
    page.fill("#id_country", "it")
    page.fill("#id_city", "Torino")
    page.get_by_role("button", name="Save").click()
    # then it lands on the customer's page, told it was created
    expect(page.locator("h1")).to_have_text("Verdi Costruzioni S.r.l.")
    expect(page.locator(".alert.success")).to_contain_text("created")
    expect(page.locator(".card")).to_contain_text("Torino")

    # when it edits the customer's city
    page.get_by_role("link", name="Edit").click()
    expect(page.locator("#id_name")).to_have_value("Verdi Costruzioni S.r.l.")
    page.fill("#id_city", "Genova")
    page.get_by_role("button", name="Save").click()
    # then the change is saved and shown
    expect(page.locator(".alert.success")).to_contain_text("saved")
    expect(page.locator(".card")).to_contain_text("Genova")

    # and the dashboard lists it, and finds it by search
    open_menu(page, "Customers & PBXs", "Customers")
    page.fill("#q", "Genova")
    rows = page.locator("#customers tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator("#customers")).to_have_count(1)  # replaced, not nested in itself
    expect(rows.first).to_contain_text("Verdi Costruzioni S.r.l.")


def test_a_refused_form_shows_the_reason_on_its_field(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given alpha on the new-customer form / when it names a country that does not exist
    login(page, "alpha-admin", demo_data["alpha-admin"])
    page.goto("/customers/new/")
    page.fill("#id_name", "Nowhere Ltd")
    page.fill("#id_country", "QQ")
    page.get_by_role("button", name="Save").click()
    # then the form is shown again with the reason under the field
    expect(page.locator(".invalid-feedback")).to_contain_text("not an ISO 3166 country code")
    expect(page.locator("#id_name")).to_have_value("Nowhere Ltd")


def test_wrong_password_in_the_browser(page: Page, demo_data: dict[str, str]) -> None:
    # given the login page / when a wrong password is typed / then the page says so and stays
    page.goto("/login/")
    page.fill("#id_login", "alpha-admin")
    page.fill("#id_password", "not-the-password")
    page.click("form button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text(
        "username and/or password you specified are not correct"
    )
    expect(page).to_have_url(re.compile(r"/login/$"))
