"""Price book pages (R-CAT-4): a partner's own book with search, family filter and exports;
staff see and export any book."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from pbxportal.catalog import price_edits, selectors
from pbxportal.catalog.api import export_response
from pbxportal.catalog.models import Family, Price, PriceBook
from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.views import actor_of, paginate, portal_view, staff_view


def _book_page(request: HttpRequest, book: PriceBook, template_extra: dict[str, object]) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    family = request.GET.get("family", "")
    items = selectors.price_items(book=book, search=search, family=family)
    fmt = request.GET.get("export")
    if fmt in ("csv", "xlsx"):
        return export_response(book_code=book.code, items=items, fmt=fmt)
    filters = {k: v for k, v in (("q", search), ("family", family)) if v}
    page = paginate(request, items, per_page=50)
    context = {
        "book": book,
        "page": page,
        "search": search,
        "family": family,
        "families": Family.choices,
        "query": (urlencode(filters) + "&") if filters else "",
        **template_extra,
    }
    return render(request, "catalog/price_book.html", context)


@portal_view
def price_book(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    book = selectors.price_book_list(actor=actor).first()
    if book is None:
        raise NotFound("No price book is assigned to you.", rule="R-CAT-4")
    return _book_page(request, book, {})


@staff_view
def staff_price_books(request: HttpRequest) -> HttpResponse:
    books = selectors.price_book_list(actor=actor_of(request))
    return render(request, "catalog/staff_price_books.html", {"books": books})


@staff_view
def staff_price_book(request: HttpRequest, book_code: str) -> HttpResponse:
    book = selectors.price_book_get(actor=actor_of(request), code=book_code)
    return _book_page(request, book, {"staff": True})


@staff_view
def staff_price_edit(request: HttpRequest, price_id: int) -> HttpResponse:
    """One price book item: its amount (vendor admins edit, R-CAT-1) and its history."""
    price = Price.objects.select_related("book", "plan__product").filter(pk=price_id).first()
    if price is None:
        raise NotFound("No such price.")
    error = None
    if request.method == "POST":
        try:
            price_edits.price_update(
                actor=actor_of(request),
                price_id=price.pk,
                amount=request.POST.get("amount", ""),
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as exc:
            if exc.status == 403:
                raise
            error = exc
        else:
            messages.success(request, _("Price of %(code)s saved.") % {"code": price.plan.code})
            return redirect("catalog:staff_price_edit", price_id=price.pk)
    return render(
        request,
        "catalog/price_edit.html",
        {
            "price": price,
            "history": price_edits.price_history(price=price),
            "error": error,
            "value": request.POST.get("amount", price.amount) if error else price.amount,
            "can_edit": actor_of(request).staff_role == "vendor_admin",
        },
        status=error.status if error else 200,
    )
