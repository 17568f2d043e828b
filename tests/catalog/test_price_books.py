"""Price books in the API, the pages and the CLI (R-CAT-4): a partner's own book, searched,
filtered by family, exported as CSV and XLSX with one row per priced item; staff see any book."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from pbxportal.accounts.models import User
from pbxportal.catalog.models import DestinationRate, Price, PriceBook
from pbxportal.catalog.selectors import EXPORT_COLUMNS
from pbxportal.cli import main
from pbxportal.demo.seed import load_demo


@pytest.fixture
def demo(db: Any) -> None:
    load_demo()


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _priced_items(code: str) -> int:
    """What an export of the book must hold: one row per price (per band) and per destination rate."""
    return (
        Price.objects.filter(book__code=code).count()
        + DestinationRate.objects.filter(book__code=code).count()
    )


def _xlsx_rows(content: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def test_a_partner_lists_only_its_own_book(demo: None) -> None:
    # given alpha on GOLD-EUR / when it lists price books / then only GOLD-EUR
    response = _client("alpha-admin").get("/api/v1/catalog/price-books")
    assert response.status_code == 200
    assert [b["code"] for b in response.json()] == ["GOLD-EUR"]


def test_staff_list_every_book(demo: None) -> None:
    # given the vendor admin / when they list price books / then all six demo books
    codes = {b["code"] for b in _client("admin").get("/api/v1/catalog/price-books").json()}
    assert codes == set(PriceBook.objects.values_list("code", flat=True))
    assert len(codes) == 6


def test_items_search_by_code(demo: None) -> None:
    # given alpha's book / when searched by a plan code
    response = _client("alpha-admin").get("/api/v1/catalog/price-books/GOLD-EUR/items?search=uc-business")
    # then only that product's plans, with their exact prices
    items = response.json()
    assert response.status_code == 200
    assert {i["code"] for i in items} == {
        "UC-BUSINESS-1m",
        "UC-BUSINESS-1y",
        "UC-BUSINESS-5y",
        "UC-BUSINESS-lt",
    }
    by_code = {i["code"]: i for i in items}
    assert Decimal(by_code["UC-BUSINESS-1y"]["amount"]) == Decimal("79.20")
    assert by_code["UC-BUSINESS-1y"]["currency"] == "EUR"


def test_items_search_by_description(demo: None) -> None:
    # given alpha's book / when searched by words of a description
    items = _client("alpha-admin").get("/api/v1/catalog/price-books/GOLD-EUR/items?search=Cloud PBX").json()
    # then every match mentions them, and the cloud PBX plans are among them
    assert items
    assert all("cloud pbx" in (i["description"] + i["code"] + i["product"]).lower() for i in items)
    assert "WPBX-CLOUD-1y" in {i["code"] for i in items}


def test_items_search_finds_destination_rates(demo: None) -> None:
    # given alpha's book / when searched by a destination prefix / then the rate is found
    items = _client("alpha-admin").get("/api/v1/catalog/price-books/GOLD-EUR/items?search=%2B393").json()
    assert [i["code"] for i in items] == ["CALL-CTA1-393"]
    assert Decimal(items[0]["amount"]) == Decimal("0.035")


def test_items_filter_by_family(demo: None) -> None:
    # given alpha's book / when filtered by the hardware family
    items = _client("alpha-admin").get("/api/v1/catalog/price-books/GOLD-EUR/items?family=hwaas").json()
    # then every item is hardware, and all hardware prices of the book are there
    assert items
    assert {i["family"] for i in items} == {"hwaas"}
    assert len(items) == Price.objects.filter(book__code="GOLD-EUR", plan__product__family="hwaas").count()


def test_the_voice_family_includes_the_call_rates(demo: None) -> None:
    # given alpha's book / when filtered by the voice family / then flat fees and call rates
    items = _client("alpha-admin").get("/api/v1/catalog/price-books/GOLD-EUR/items?family=voice").json()
    expected = (
        Price.objects.filter(book__code="GOLD-EUR", plan__product__family="voice").count()
        + DestinationRate.objects.filter(book__code="GOLD-EUR").count()
    )
    assert len(items) == expected


def test_api_xlsx_export_holds_one_row_per_priced_item(demo: None) -> None:
    # given alpha on GOLD-EUR
    client = _client("alpha-admin")
    # when it exports its book as XLSX through the API
    response = client.get("/api/v1/catalog/price-books/GOLD-EUR/export?format=xlsx")
    # then the file opens with openpyxl: the header, then one row per priced item of the book
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="price-book-GOLD-EUR.xlsx"' in response["Content-Disposition"]
    rows = _xlsx_rows(response.content)
    assert list(rows[0]) == EXPORT_COLUMNS
    assert len(rows) == 1 + _priced_items("GOLD-EUR")
    assert ("UC-BUSINESS-1y", Decimal("79.20")) in {(r[0], Decimal(str(r[8]))) for r in rows[1:]}
    assert {r[9] for r in rows[1:]} == {"EUR"}


def test_api_csv_export_holds_one_row_per_priced_item(demo: None) -> None:
    # given alpha / when it exports its book as CSV / then header + one row per priced item
    response = _client("alpha-admin").get("/api/v1/catalog/price-books/GOLD-EUR/export?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response.content)
    assert rows[0] == EXPORT_COLUMNS
    assert len(rows) == 1 + _priced_items("GOLD-EUR")
    assert [rows[[r[0] for r in rows].index("CALL-CTA1-393")][i] for i in (0, 8)] == [
        "CALL-CTA1-393",
        "0.035000",
    ]


def test_page_exports_match_the_api(demo: None) -> None:
    # given alpha on its price book page
    client = _client("alpha-admin")
    # when it exports as XLSX and CSV from the page
    xlsx = client.get("/price-book/?export=xlsx")
    csv_ = client.get("/price-book/?export=csv")
    # then both hold one row per priced item of its book
    assert xlsx.status_code == 200 and csv_.status_code == 200
    assert len(_xlsx_rows(xlsx.content)) == 1 + _priced_items("GOLD-EUR")
    assert len(_csv_rows(csv_.content)) == 1 + _priced_items("GOLD-EUR")


def test_a_page_export_follows_the_filters_shown(demo: None) -> None:
    # given alpha's page filtered to the hardware family / when exported / then only those rows
    response = _client("alpha-admin").get("/price-book/?family=hwaas&export=csv")
    rows = _csv_rows(response.content)
    assert len(rows) == 1 + Price.objects.filter(book__code="GOLD-EUR", plan__product__family="hwaas").count()
    assert {r[2] for r in rows[1:]} == {"hwaas"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "url", ["/api/v1/catalog/price-books/{code}/export", "/api/v1/catalog/price-books/{code}/items"]
)
def test_a_partner_gets_404_for_another_book(demo: None, url: str, fmt: str) -> None:
    # given alpha (GOLD-EUR) and beta's book SILVER-EUR
    # when alpha asks for beta's book
    response = _client("alpha-admin").get(url.format(code="SILVER-EUR") + f"?format={fmt}")
    # then 404 in the error shape, exactly as for a book that does not exist
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    missing = _client("alpha-admin").get(url.format(code="NO-SUCH-BOOK") + f"?format={fmt}")
    assert missing.status_code == 404


def test_a_bad_export_format_names_the_field(demo: None) -> None:
    # given alpha / when it asks for an unknown format / then 422 naming the parameter
    response = _client("alpha-admin").get("/api/v1/catalog/price-books/GOLD-EUR/export?format=pdf")
    assert response.status_code == 422
    assert "format" in response.json()["error"]["fields"]


@pytest.mark.parametrize("code", ["GOLD-EUR", "SILVER-EUR", "SW-RESELLER-USD"])
def test_staff_export_any_book(demo: None, code: str) -> None:
    # given the vendor admin / when they export any book, through the API and the staff page
    client = _client("admin")
    api = client.get(f"/api/v1/catalog/price-books/{code}/export?format=xlsx")
    page = client.get(f"/staff/price-books/{code}/?export=xlsx")
    # then each holds one row per priced item of that book
    assert api.status_code == 200 and page.status_code == 200
    assert len(_xlsx_rows(api.content)) == 1 + _priced_items(code)
    assert len(_xlsx_rows(page.content)) == 1 + _priced_items(code)


def test_an_area_manager_sees_the_books_too(demo: None) -> None:
    # given the area manager (staff) / when they export a book they do not manage / then it works
    response = _client("areamanager").get("/api/v1/catalog/price-books/SW-GOLD-USD/export?format=csv")
    assert response.status_code == 200


def _rows(html: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", html)]


def test_partner_price_book_page_lists_the_demo_prices(demo: None) -> None:
    # given alpha on GOLD-EUR / when it opens its price book page
    response = _client("alpha-admin").get("/price-book/")
    html = response.content.decode()
    # then its book, the demo label and a first page of priced items with their amounts are shown
    assert response.status_code == 200
    assert "Gold (EUR)" in html
    assert "Demo data" in html
    rows = _rows(html)
    assert len(rows) == 50
    assert f"Page 1 of {-(-_priced_items('GOLD-EUR') // 50)}" in html
    first = Price.objects.filter(book__code="GOLD-EUR").order_by("plan__code", "band_min").first()
    assert first is not None
    code, _, _, _, band, _, amount = rows[0]
    assert (code, band) == (first.plan.code, first.band_label)
    assert Decimal(amount.removesuffix(" EUR")) == first.amount


def test_partner_price_book_page_shows_a_known_plan_and_amount(demo: None) -> None:
    # given alpha / when it searches its page for a known plan / then the plan and its amount
    html = _client("alpha-admin").get("/price-book/?q=UC-BUSINESS-1y").content.decode()
    rows = _rows(html)
    assert [(r[0], Decimal(r[-1].removesuffix(" EUR"))) for r in rows] == [
        ("UC-BUSINESS-1y", Decimal("79.20"))
    ]


def test_each_partner_page_shows_its_own_book(demo: None) -> None:
    # given beta on SILVER-EUR / when it opens its price book page / then the Silver prices
    html = _client("beta-admin").get("/price-book/?q=UC-BUSINESS-1y").content.decode()
    assert "Silver (EUR)" in html
    silver = Price.objects.get(book__code="SILVER-EUR", plan__code="UC-BUSINESS-1y").amount
    assert [Decimal(r[-1].removesuffix(" EUR")) for r in _rows(html)] == [silver]
    assert silver != Decimal("79.20")


def test_price_book_page_search_and_family(demo: None) -> None:
    # given alpha's page / when searched / then only the matches are listed
    client = _client("alpha-admin")
    html = client.get("/price-book/?q=UC-PREMIUM").content.decode()
    codes = re.findall(r"<tr><td>([^<]+)</td>", html)
    assert codes and all(c.startswith("UC-PREMIUM") for c in codes)
    # and when filtered by family, only that family
    html = client.get("/price-book/?family=storage").content.decode()
    families = re.findall(r"<tr><td>[^<]+</td><td>[^<]*</td><td>([^<]+)</td>", html)
    assert families and set(families) == {"Cloud storage"}  # the family in words (R-UI-1)


def test_staff_price_book_page_refuses_partners(demo: None) -> None:
    # given alpha / when it opens a staff price-book page / then 403
    assert _client("alpha-admin").get("/staff/price-books/GOLD-EUR/").status_code == 403


def test_cli_export_writes_the_xlsx(demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given the demo books / when `pbxportal catalog export --book X --format xlsx --output F` runs
    output = tmp_path / "gold.xlsx"
    code = main(["catalog", "export", "--book", "GOLD-EUR", "--format", "xlsx", "--output", str(output)])
    # then it exits 0 and the file holds one row per priced item
    assert code == 0
    assert str(output) in capsys.readouterr().out
    rows = _xlsx_rows(output.read_bytes())
    assert rows[0] == tuple(EXPORT_COLUMNS)
    assert len(rows) == 1 + _priced_items("GOLD-EUR")


def test_cli_export_writes_the_csv(demo: None, tmp_path: Path) -> None:
    # given the demo books / when exported as CSV / then one row per priced item
    output = tmp_path / "sw.csv"
    assert (
        main(["catalog", "export", "--book", "SW-GOLD-USD", "--format", "csv", "--output", str(output)]) == 0
    )
    assert len(_csv_rows(output.read_bytes())) == 1 + _priced_items("SW-GOLD-USD")


def test_cli_export_of_an_unknown_book_fails_listing_the_books(
    demo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the demo books / when an unknown book is exported / then non-zero, naming the known books
    code = main(["catalog", "export", "--book", "NOPE", "--output", str(tmp_path / "x.csv")])
    assert code != 0
    assert "GOLD-EUR" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
