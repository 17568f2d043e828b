"""Load a catalog directory (R-CAT-1) in one transaction, or nothing with every error listed.

A catalog directory holds:

- ``catalog.yaml``: ``price_books``, ``products`` (each with ``plans``), ``numbers`` and
  ``templates`` (downloadable templates: ``code``, ``kind``, ``country``, ``title`` and ``file``, a
  PDF, DOCX or ODT path relative to the directory; see ``catalog/doc_templates.py``);
- ``prices.csv``: ``book,plan,band_min,band_max,amount``;
- ``rates.csv`` (optional): ``book,prefix,country,kind,area,rate_per_minute,sms_rate``.

Loading upserts by code, so a second load of the same directory changes nothing and a corrected
file replaces the prices it names. Errors name the file, the line and the reason.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pycountry
import yaml
from django.db import transaction

from pbxportal.catalog.doc_templates import file_problem, template_load
from pbxportal.catalog.models import (
    DestinationRate,
    Family,
    NumberRequirement,
    Plan,
    PlanTerm,
    Price,
    PriceBook,
    PriceBookType,
    PricingModel,
    Product,
    TemplateKind,
)
from pbxportal.core.money import CurrencyError, minor_units

AREAS = {f"CTA{i}" for i in range(1, 7)}
MAX_PRECISION = Decimal("0.000001")
MAX_AMOUNT = Decimal(10) ** 12
MAX_PREFIX_DIGITS = 16
# A product without its own `max_quantity` allows this many units (R-CAT-1; docs/catalog.md).
DEFAULT_MAX_QUANTITY = 10_000


@dataclass(frozen=True)
class CatalogIssue:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class CatalogError(Exception):
    def __init__(self, issues: list[CatalogIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass
class LoadSummary:
    price_books: int = 0
    products: int = 0
    plans: int = 0
    prices: int = 0
    rates: int = 0
    numbers: int = 0
    templates: int = 0
    changed: dict[str, int] = field(default_factory=dict)


class _LineDict(dict[str, Any]):
    line = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Checker:
    def __init__(self) -> None:
        self.issues: list[CatalogIssue] = []

    def add(self, file: str, line: int, reason: str) -> None:
        self.issues.append(CatalogIssue(file, line, reason))

    def text(
        self, file: str, item: dict[str, Any], key: str, *, required: bool = True, max_len: int = 200
    ) -> str:
        line = getattr(item, "line", 0)
        value = item.get(key)
        if value is None or value == "":
            if required:
                self.add(file, line, f"'{key}' is required")
            return ""
        if not isinstance(value, str | int):
            self.add(file, line, f"'{key}' must be text")
            return ""
        value = str(value).strip()
        if len(value) > max_len:
            self.add(file, line, f"'{key}' is longer than {max_len} characters")
        return value

    def choice(
        self, file: str, item: dict[str, Any], key: str, choices: type, default: str | None = None
    ) -> str:
        value = item.get(key, default)
        allowed = [c.value for c in choices]  # type: ignore[attr-defined]
        if value not in allowed:
            self.add(
                file, getattr(item, "line", 0), f"'{key}' is {value!r}; expected one of {', '.join(allowed)}"
            )
            return ""
        return str(value)

    def decimal(self, file: str, line: int, key: str, raw: str, *, required: bool = True) -> Decimal | None:
        if raw in ("", None):
            if required:
                self.add(file, line, f"'{key}' is required")
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.add(file, line, f"'{key}' is {raw!r}, not a decimal number")
            return None
        if not value.is_finite() or value < 0:
            self.add(file, line, f"'{key}' must be a non-negative number, got {raw!r}")
            return None
        # The columns are DECIMAL(18, 6): refuse what the database would round or reject (R-CAT-6).
        if value != value.quantize(MAX_PRECISION):
            self.add(file, line, f"'{key}' is {raw!r}: more than 6 decimal places")
            return None
        if value >= MAX_AMOUNT:
            self.add(file, line, f"'{key}' is {raw!r}: more than 12 digits before the decimal point")
            return None
        return value

    def integer(self, file: str, line: int, key: str, raw: str) -> int | None:
        if raw in ("", None):
            return None
        try:
            value = int(raw)
        except ValueError:
            self.add(file, line, f"'{key}' is {raw!r}, not a whole number")
            return None
        if value < 0:
            self.add(file, line, f"'{key}' must not be negative")
        return value

    def country(self, file: str, line: int, raw: str) -> str:
        if not raw or pycountry.countries.get(alpha_2=str(raw).upper()) is None:
            self.add(file, line, f"'country' is {raw!r}, not an ISO 3166 alpha-2 code")
            return ""
        return str(raw).upper()


def _read_yaml(path: Path, check: _Checker) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        check.add(path.name, (mark.line + 1) if mark else 0, f"not valid YAML: {exc.problem}")
        return {}
    if not isinstance(data, dict):
        check.add(path.name, 1, "the top level must be a mapping with price_books, products, numbers")
        return {}
    return data


def _read_csv(path: Path, columns: list[str], check: _Checker) -> list[tuple[int, dict[str, str]]]:
    if not path.exists():
        return []
    rows: list[tuple[int, dict[str, str]]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            check.add(path.name, 1, f"missing column(s): {', '.join(missing)}")
            return []
        for row in reader:
            if None in row:
                check.add(
                    path.name, reader.line_num, f"more cells than the {len(reader.fieldnames or [])} columns"
                )
                continue
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return rows


def parse_catalog(directory: Path) -> dict[str, Any]:
    """Read and validate a catalog directory; raise CatalogError listing every problem."""
    check = _Checker()
    main = directory / "catalog.yaml"
    if not main.exists():
        raise CatalogError([CatalogIssue("catalog.yaml", 0, f"not found in {directory}")])
    data = _read_yaml(main, check)
    if check.issues:
        # Without catalog.yaml every CSV row would also fail; its own problem is the one to show.
        raise CatalogError(check.issues)
    file = main.name
    books: dict[str, dict[str, Any]] = {}
    for item in data.get("price_books") or []:
        code = check.text(file, item, "code", max_len=40)
        currency = check.text(file, item, "currency", max_len=3).upper()
        try:
            minor_units(currency)
        except CurrencyError as exc:
            check.add(file, item.line, str(exc))
        if code in books:
            check.add(file, item.line, f"price book {code!r} is defined twice")
        books[code] = {
            "code": code,
            "name": check.text(file, item, "name", max_len=100),
            "type": check.choice(file, item, "type", PriceBookType),
            "currency": currency,
            "demo": bool(item.get("demo", data.get("demo", False))),
        }
    products: dict[str, dict[str, Any]] = {}
    plans: dict[str, dict[str, Any]] = {}
    for item in data.get("products") or []:
        code = check.text(file, item, "code", max_len=60)
        if code in products:
            check.add(file, item.line, f"product {code!r} is defined twice")
        months = item.get("min_commitment_months", 0)
        if not isinstance(months, int) or months < 0:
            check.add(file, item.line, "'min_commitment_months' must be a whole number of months")
            months = 0
        max_quantity = item.get("max_quantity", DEFAULT_MAX_QUANTITY)
        if (
            isinstance(max_quantity, bool)
            or not isinstance(max_quantity, int)
            or not 1 <= max_quantity <= 10**9
        ):
            check.add(file, item.line, "'max_quantity' must be a whole number from 1 to 1000000000")
            max_quantity = DEFAULT_MAX_QUANTITY
        attributes = item.get("attributes") or {}
        if not isinstance(attributes, dict):
            check.add(file, item.line, "'attributes' must be a mapping")
            attributes = {}
        products[code] = {
            "code": code,
            "name": check.text(file, item, "name"),
            "family": check.choice(file, item, "family", Family),
            "pricing_model": check.choice(file, item, "pricing_model", PricingModel),
            "unit": check.text(file, item, "unit", required=False, max_len=40),
            "description": check.text(file, item, "description", required=False, max_len=2000),
            "min_commitment_months": months,
            "auto_renew_optional": bool(item.get("auto_renew_optional", False)),
            "max_quantity": max_quantity,
            "attributes": dict(attributes),
        }
        plan_items = item.get("plans") or []
        if not plan_items:
            check.add(file, item.line, f"product {code!r} has no plans")
        for plan in plan_items:
            plan_code = check.text(file, plan, "code", max_len=80)
            if plan_code in plans:
                check.add(file, plan.line, f"plan {plan_code!r} is defined twice")
            plans[plan_code] = {
                "product": code,
                "code": plan_code,
                "term": check.choice(file, plan, "term", PlanTerm),
                "description": check.text(file, plan, "description", required=False, max_len=300),
                "line": plan.line,
            }
    numbers: list[dict[str, Any]] = []
    for item in data.get("numbers") or []:
        product = check.text(file, item, "product", required=False)
        if product and product not in products:
            check.add(file, item.line, f"'product' {product!r} is not a product of this catalog")
        docs = item.get("documents") or []
        porting = item.get("porting_documents") or []
        if not isinstance(docs, list) or not isinstance(porting, list):
            check.add(file, item.line, "'documents' and 'porting_documents' must be lists")
        numbers.append(
            {
                "country": check.country(file, item.line, item.get("country", "")),
                "number_type": check.text(file, item, "number_type", max_len=20),
                "address_required": bool(item.get("address_required", True)),
                "documents": list(docs),
                "porting_documents": list(porting),
                "product": product or None,
            }
        )

    templates: list[dict[str, Any]] = []
    for item in data.get("templates") or []:
        code = check.text(file, item, "code", max_len=60)
        if code and not re.fullmatch(r"[-a-zA-Z0-9_]+", code):
            check.add(file, item.line, f"'code' {code!r} may hold only letters, digits, '-' and '_'")
        raw_country = item.get("country") or ""
        relative = check.text(file, item, "file", max_len=200)
        path = (directory / relative).resolve() if relative else None
        if path is not None:
            if not path.is_relative_to(directory.resolve()) or not path.is_file():
                check.add(file, item.line, f"'file' {relative!r} is not a file of the catalog directory")
            elif problem := file_problem(path.name, path.read_bytes()):
                check.add(file, item.line, problem)
        templates.append(
            {
                "code": code,
                "kind": check.choice(file, item, "kind", TemplateKind),
                "country": check.country(file, item.line, raw_country) if raw_country else "",
                "title": check.text(file, item, "title", max_len=200),
                "path": path,
            }
        )

    prices: list[dict[str, Any]] = []
    seen_prices: set[tuple[str, str, int | None]] = set()
    for line, row in _read_csv(
        directory / "prices.csv", ["book", "plan", "band_min", "band_max", "amount"], check
    ):
        if row["book"] not in books:
            check.add("prices.csv", line, f"'book' {row['book']!r} is not a price book of catalog.yaml")
        if row["plan"] not in plans:
            check.add("prices.csv", line, f"'plan' {row['plan']!r} is not a plan of catalog.yaml")
        band_min = check.integer("prices.csv", line, "band_min", row["band_min"])
        band_max = check.integer("prices.csv", line, "band_max", row["band_max"])
        if band_min is not None and band_max is not None and band_max < band_min:
            check.add("prices.csv", line, "'band_max' is below 'band_min'")
        key = (row["book"], row["plan"], band_min)
        if key in seen_prices:
            check.add(
                "prices.csv", line, f"a second price for {row['plan']} in {row['book']} (band {band_min})"
            )
        seen_prices.add(key)
        amount = check.decimal("prices.csv", line, "amount", row["amount"])
        prices.append({**row, "band_min": band_min, "band_max": band_max, "amount": amount})

    rates: list[dict[str, Any]] = []
    seen_rates: set[tuple[str, str]] = set()
    rate_cols = ["book", "prefix", "country", "kind", "area", "rate_per_minute", "sms_rate"]
    for line, row in _read_csv(directory / "rates.csv", rate_cols, check):
        if row["book"] not in books:
            check.add("rates.csv", line, f"'book' {row['book']!r} is not a price book of catalog.yaml")
        if not row["prefix"].isdigit():
            check.add("rates.csv", line, f"'prefix' {row['prefix']!r} must be digits of an E.164 number")
        elif len(row["prefix"]) > MAX_PREFIX_DIGITS:
            check.add(
                "rates.csv", line, f"'prefix' {row['prefix']!r} is longer than {MAX_PREFIX_DIGITS} digits"
            )
        if row["area"] not in AREAS:
            check.add("rates.csv", line, f"'area' {row['area']!r}; expected CTA1 to CTA6")
        if row["kind"] not in ("fixed", "mobile", "any"):
            check.add("rates.csv", line, f"'kind' {row['kind']!r}; expected fixed, mobile or any")
        if (row["book"], row["prefix"]) in seen_rates:
            check.add("rates.csv", line, f"prefix {row['prefix']} is listed twice for {row['book']}")
        seen_rates.add((row["book"], row["prefix"]))
        rates.append(
            {
                **row,
                "country": check.country("rates.csv", line, row["country"]),
                "rate_per_minute": check.decimal(
                    "rates.csv", line, "rate_per_minute", row["rate_per_minute"]
                ),
                "sms_rate": check.decimal("rates.csv", line, "sms_rate", row["sms_rate"], required=False),
            }
        )

    if check.issues:
        raise CatalogError(check.issues)
    return {
        "books": books,
        "products": products,
        "plans": plans,
        "numbers": numbers,
        "templates": templates,
        "prices": prices,
        "rates": rates,
    }


@transaction.atomic
def load_catalog(directory: Path) -> LoadSummary:
    """Validate then upsert a catalog directory, all or nothing (R-CAT-1)."""
    parsed = parse_catalog(Path(directory))
    summary = LoadSummary()
    books = {}
    for code, spec in parsed["books"].items():
        books[code], _ = PriceBook.objects.update_or_create(code=code, defaults=spec)
        summary.price_books += 1
    products = {}
    for code, spec in parsed["products"].items():
        products[code], _ = Product.objects.update_or_create(code=code, defaults=spec)
        summary.products += 1
    plans = {}
    for code, spec in parsed["plans"].items():
        plans[code], _ = Plan.objects.update_or_create(
            code=code,
            defaults={
                "product": products[spec["product"]],
                "term": spec["term"],
                "description": spec["description"],
            },
        )
        summary.plans += 1
    for spec in parsed["prices"]:
        Price.objects.update_or_create(
            book=books[spec["book"]],
            plan=plans[spec["plan"]],
            band_min=spec["band_min"],
            defaults={"band_max": spec["band_max"], "amount": spec["amount"]},
        )
        summary.prices += 1
    for spec in parsed["rates"]:
        DestinationRate.objects.update_or_create(
            book=books[spec["book"]],
            prefix=spec["prefix"],
            defaults={k: spec[k] for k in ("country", "kind", "area", "rate_per_minute", "sms_rate")},
        )
        summary.rates += 1
    for spec in parsed["numbers"]:
        NumberRequirement.objects.update_or_create(
            country=spec["country"],
            number_type=spec["number_type"],
            defaults={
                "address_required": spec["address_required"],
                "documents": spec["documents"],
                "porting_documents": spec["porting_documents"],
                "product": products.get(spec["product"]) if spec["product"] else None,
            },
        )
        summary.numbers += 1
    for spec in parsed["templates"]:
        template_load(**spec)
        summary.templates += 1
    return summary
