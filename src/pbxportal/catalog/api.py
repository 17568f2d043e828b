"""Catalog API: price books, their items (search, family filter) and exports (R-CAT-4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router

from pbxportal.catalog import export, selectors
from pbxportal.common.api import actor_of
from pbxportal.common.schemas import Schema

router = Router(tags=["catalog"])


class PriceBookOut(Schema):
    code: str
    name: str
    type: str
    currency: str
    demo: bool


class PriceItemOut(Schema):
    code: str
    product: str
    family: str
    description: str
    term: str
    band: str
    unit: str
    pricing_model: str
    amount: Decimal
    currency: str


@router.get("/price-books", response=list[PriceBookOut])
def price_book_list(request: HttpRequest) -> object:
    return selectors.price_book_list(actor=actor_of(request))


@router.get("/price-books/{book_code}/items", response=list[PriceItemOut])
def price_book_items(request: HttpRequest, book_code: str, search: str = "", family: str = "") -> object:
    book = selectors.price_book_get(actor=actor_of(request), code=book_code)
    return selectors.price_items(book=book, search=search, family=family)


@router.get("/price-books/{book_code}/export")
def price_book_export(
    request: HttpRequest, book_code: str, format: Literal["csv", "xlsx"] = "csv"
) -> HttpResponse:
    book = selectors.price_book_get(actor=actor_of(request), code=book_code)
    return export_response(book_code=book.code, items=selectors.price_items(book=book), fmt=format)


def export_response(*, book_code: str, items: list[selectors.PriceItem], fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(
            export.to_xlsx(items, title=book_code),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(export.to_csv(items), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="price-book-{book_code}.{fmt}"'
    return response
