"""The catalog as data (R-CAT-1..5): both demo catalogs load, reloading changes nothing, and a
malformed directory is refused with file, line and reason, loading nothing at all."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pbxportal.catalog.loader import CatalogError, CatalogIssue, load_catalog
from pbxportal.catalog.models import (
    DestinationRate,
    NumberRequirement,
    Plan,
    Price,
    PriceBook,
    Product,
)
from pbxportal.cli import main
from pbxportal.demo.seed import CATALOGS

PER_USER = CATALOGS / "per_user"
SOFTWARE = CATALOGS / "software"
MODELS = (PriceBook, Product, Plan, Price, DestinationRate, NumberRequirement)

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def _broken_copy(tmp_path: Path, file: str, starts_with: str, text: str) -> tuple[Path, int]:
    """A copy of the per-user demo catalog (made once per test) where the first line of ``file``
    starting with ``starts_with`` is replaced by ``text``; returns the directory and that line's
    number. Lines are found by content so edits elsewhere in the demo files do not break tests."""
    directory = tmp_path / "catalog"
    if not directory.exists():
        shutil.copytree(PER_USER, directory)
    lines = (directory / file).read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(starts_with))
    lines[index] = text
    (directory / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory, index + 1


def test_per_user_demo_catalog_loads_r_cat_2_r_cat_3() -> None:
    # given an empty database / when the per-user demo catalog is loaded
    summary = load_catalog(PER_USER)
    # then its books, licence profiles, PBX models and terms are there, labelled demo
    assert summary.price_books == 3
    assert set(PriceBook.objects.values_list("type", flat=True)) == {"gold", "silver", "reseller"}
    assert all(PriceBook.objects.values_list("demo", flat=True))
    profiles = set(Product.objects.filter(family="licence").values_list("name", flat=True))
    assert {"PBX Basic", "UC-Essential", "UC-Business", "UC-Premium"} <= profiles
    assert {"WPBX-CLOUD", "WPBX-VMHW"} <= set(Product.objects.values_list("code", flat=True))
    assert set(Plan.objects.values_list("term", flat=True)) >= {"monthly", "yearly", "five_year", "lifetime"}
    assert summary.prices == Price.objects.count() > 0
    assert summary.rates == DestinationRate.objects.count() > 0
    assert summary.numbers == NumberRequirement.objects.count() > 0


def test_per_user_prices_are_exact_decimals_r_cat_6() -> None:
    # given the per-user demo catalog / when loaded
    load_catalog(PER_USER)
    # then a known price is the exact decimal of prices.csv, and rates keep 6 decimals
    price = Price.objects.get(book__code="GOLD-EUR", plan__code="UC-BUSINESS-1y")
    assert price.amount == Decimal("79.20")
    rate = DestinationRate.objects.get(book__code="GOLD-EUR", prefix="393")
    assert rate.rate_per_minute == Decimal("0.035000")
    assert (rate.area, rate.kind, rate.country) == ("CTA1", "mobile", "IT")


def test_voice_flat_fee_is_banded_r_cat_5() -> None:
    # given the per-user demo catalog / when loaded / then the voice-trunk flat fee has user bands
    load_catalog(PER_USER)
    banded = Price.objects.filter(plan__product__pricing_model="banded", book__code="GOLD-EUR")
    assert banded.count() > 1
    assert all(p.band_label.startswith("Users ") for p in banded)


def test_software_demo_catalog_loads_the_six_services_of_r_ex_1() -> None:
    # given an empty database / when the software-PBX demo catalog is loaded
    summary = load_catalog(SOFTWARE)
    # then its three USD books, its plans and its services are there
    assert summary.price_books == 3
    assert set(PriceBook.objects.values_list("currency", flat=True)) == {"USD"}
    assert Product.objects.filter(family="software_plan").count() == 2
    assert Product.objects.filter(family="expansion").count() == 6
    assert Price.objects.get(book__code="SW-GOLD-USD", plan__code="PSE-ENTERPRISE-1y").amount == Decimal(
        "240.00"
    )


def test_both_demo_catalogs_load_side_by_side() -> None:
    # given both demo catalogs / when loaded one after the other / then six books
    load_catalog(PER_USER)
    load_catalog(SOFTWARE)
    assert PriceBook.objects.count() == 6


def test_loading_twice_changes_nothing() -> None:
    # given both demo catalogs loaded once
    load_catalog(PER_USER)
    load_catalog(SOFTWARE)
    before = _counts()
    amounts = dict(Price.objects.values_list("pk", "amount"))
    # when they are loaded again
    load_catalog(PER_USER)
    load_catalog(SOFTWARE)
    # then no row was added and no amount changed
    assert _counts() == before
    assert dict(Price.objects.values_list("pk", "amount")) == amounts


def test_a_corrected_file_replaces_the_price_it_names(tmp_path: Path) -> None:
    # given the demo catalog loaded
    load_catalog(PER_USER)
    before = _counts()
    # when a copy with one price changed is loaded
    directory = tmp_path / "catalog"
    shutil.copytree(PER_USER, directory)
    prices = directory / "prices.csv"
    text = prices.read_text(encoding="utf-8")
    assert "GOLD-EUR,UC-BUSINESS-1y,,,79.20\n" in text
    prices.write_text(text.replace("GOLD-EUR,UC-BUSINESS-1y,,,79.20\n", "GOLD-EUR,UC-BUSINESS-1y,,,81.00\n"))
    load_catalog(directory)
    # then that price changed in place and nothing was added
    assert Price.objects.get(book__code="GOLD-EUR", plan__code="UC-BUSINESS-1y").amount == Decimal("81.00")
    assert _counts() == before


@pytest.mark.parametrize(
    ("file", "starts_with", "text", "reason"),
    [
        pytest.param(
            "catalog.yaml",
            "  name: Cloud PBX",
            "  name: a: b",
            "not valid YAML: mapping values are not allowed here",
            id="yaml-syntax",
        ),
        pytest.param(
            "prices.csv",
            "GOLD-EUR,WPBX-CLOUD-1y,",
            "GOLD-EUR,NO-SUCH-PLAN-1y,,,10.00",
            "'plan' 'NO-SUCH-PLAN-1y' is not a plan of catalog.yaml",
            id="unknown-plan",
        ),
        pytest.param(
            "prices.csv",
            "GOLD-EUR,WPBX-CLOUD-5y,",
            "GOLD-EUR,WPBX-CLOUD-5y,,,12,50",
            "more cells than the 5 columns",
            id="comma-decimal",
        ),
        pytest.param(
            "prices.csv",
            "GOLD-EUR,WPBX-CLOUD-5y,",
            "GOLD-EUR,WPBX-CLOUD-5y,,,twelve",
            "'amount' is 'twelve', not a decimal number",
            id="bad-decimal",
        ),
        pytest.param(
            "prices.csv",
            "GOLD-EUR,WPBX-CLOUD-5y,",
            "GOLD-EUR,WPBX-CLOUD-5y,,,-1.00",
            "'amount' must be a non-negative number, got '-1.00'",
            id="negative-amount",
        ),
        pytest.param(
            "prices.csv",
            "GOLD-EUR,WPBX-CLOUD-5y,",
            "GOLD-EUR,WPBX-CLOUD-5y,,,0.1234567",
            "'amount' is '0.1234567': more than 6 decimal places",
            id="too-many-decimals",
        ),
        pytest.param(
            "prices.csv",
            "GOLD-EUR,WPBX-CLOUD-5y,",
            "GOLD-EUR,WPBX-CLOUD-5y,,,1234567890123.00",
            "'amount' is '1234567890123.00': more than 12 digits before the decimal point",
            id="too-large",
        ),
        pytest.param(
            "rates.csv",
            "GOLD-EUR,44,",
            "GOLD-EUR,44123456789012345,GB,fixed,CTA1,0.010000,0.040000",
            "'prefix' '44123456789012345' is longer than 16 digits",
            id="long-prefix",
        ),
        pytest.param(
            "rates.csv",
            "GOLD-EUR,44,",
            "GOLD-EUR,44,GB,fixed,CTA9,0.010000,0.040000",
            "'area' 'CTA9'; expected CTA1 to CTA6",
            id="bad-area",
        ),
        pytest.param(
            "rates.csv",
            "GOLD-EUR,44,",
            "GOLD-EUR,44,UK,fixed,CTA1,0.010000,0.040000",
            "'country' is 'UK', not an ISO 3166 alpha-2 code",
            id="bad-country",
        ),
    ],
)
def test_a_malformed_catalog_names_file_line_reason_and_loads_nothing(
    tmp_path: Path, file: str, starts_with: str, text: str, reason: str
) -> None:
    # given a copy of the demo catalog, every row good but one line of one file
    directory, line = _broken_copy(tmp_path, file, starts_with, text)
    # when it is loaded
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    # then the error names the file, the line and the reason
    assert caught.value.issues == [CatalogIssue(file, line, reason)]
    assert f"{file}:{line}: {reason}" in str(caught.value)
    # and nothing was loaded, not even the good rows of the same directory
    assert set(_counts().values()) == {0}


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    # given two broken lines in two files
    directory, price_line = _broken_copy(
        tmp_path, "prices.csv", "SILVER-EUR,WPBX-CLOUD-1m,", "SILVER-EUR,NOPE,,,1"
    )
    _, rate_line = _broken_copy(tmp_path, "rates.csv", "GOLD-EUR,39,", "GOLD-EUR,39,IT,fixed,CTA0,0.01,")
    # when loaded / then both are reported
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    reported = {(i.file, i.line) for i in caught.value.issues}
    assert reported == {("prices.csv", price_line), ("rates.csv", rate_line)}


def test_a_broken_reload_keeps_the_catalog_as_it_was(tmp_path: Path) -> None:
    # given the demo catalog loaded
    load_catalog(PER_USER)
    before = _counts()
    # when a copy with one good price change and one bad line is loaded
    directory, _ = _broken_copy(
        tmp_path, "prices.csv", "GOLD-EUR,WPBX-CLOUD-5y,", "GOLD-EUR,WPBX-CLOUD-5y,,,x"
    )
    prices = directory / "prices.csv"
    prices.write_text(
        prices.read_text(encoding="utf-8").replace(",UC-BUSINESS-1y,,,79.20", ",UC-BUSINESS-1y,,,1")
    )
    with pytest.raises(CatalogError):
        load_catalog(directory)
    # then the good change was not applied either
    assert _counts() == before
    assert Price.objects.get(book__code="GOLD-EUR", plan__code="UC-BUSINESS-1y").amount == Decimal("79.20")


def test_a_missing_directory_is_reported(tmp_path: Path) -> None:
    # given a directory without catalog.yaml / when loaded / then the error says so
    with pytest.raises(CatalogError, match=r"catalog\.yaml:0: not found"):
        load_catalog(tmp_path)


def test_cli_catalog_load_of_a_bad_directory_exits_non_zero_with_file_line_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a catalog directory with an unknown plan on one line of prices.csv
    directory, line = _broken_copy(
        tmp_path, "prices.csv", "GOLD-EUR,WPBX-CLOUD-1y,", "GOLD-EUR,NO-SUCH-PLAN-1y,,,10.00"
    )
    # when `pbxportal catalog load DIR` runs
    code = main(["catalog", "load", str(directory)])
    # then it exits non-zero, printing DIR/file:line: reason on stderr, and loads nothing
    err = capsys.readouterr().err
    assert code != 0
    assert f"{directory}/prices.csv:{line}: 'plan' 'NO-SUCH-PLAN-1y' is not a plan of catalog.yaml" in err
    assert "nothing loaded" in err
    assert set(_counts().values()) == {0}


def test_cli_catalog_load_of_the_demo_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    # given an empty database / when `pbxportal catalog load` runs on the software demo catalog
    code = main(["catalog", "load", str(SOFTWARE)])
    # then it exits 0 and says what it loaded
    assert code == 0
    assert "Loaded 3 price books" in capsys.readouterr().out
    assert PriceBook.objects.count() == 3
