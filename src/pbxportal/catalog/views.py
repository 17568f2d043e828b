"""Price book pages (R-CAT-4): a partner's own book with search, family filter and exports;
staff see and export any book."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _

from pbxportal.catalog import doc_templates, price_edits, selectors
from pbxportal.catalog.api import export_response
from pbxportal.catalog.models import DocumentTemplateVersion, Family, Price, PriceBook
from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.plain import plain_message
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


# --- Downloadable templates (issue 16 item 8) -------------------------------------------------------


@portal_view
def documents(request: HttpRequest) -> HttpResponse:
    """Every template with its current version; a vendor admin may replace each one."""
    actor = actor_of(request)
    return render(
        request,
        "catalog/documents.html",
        {
            "templates": doc_templates.templates_listed(),
            "may_replace": actor.is_staff and actor.staff_role == "vendor_admin",
        },
    )


def _download(version: DocumentTemplateVersion) -> HttpResponse:
    response = HttpResponse(bytes(version.content), content_type=version.content_type)
    response["Content-Disposition"] = content_disposition_header(True, version.filename)
    response["Content-Length"] = str(version.size)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_view
def document_download(request: HttpRequest, template_code: str) -> HttpResponse:
    """The current version of a template, for every partner and staff (the vendor's templates are
    the same for all partners: catalog data, not partner data)."""
    return _download(doc_templates.current_version(template_code))


@staff_view
def staff_document(request: HttpRequest, template_code: str) -> HttpResponse:
    """A template's versions; a vendor admin uploads a replacement (a new version, the old kept)."""
    actor = actor_of(request)
    template = doc_templates.template_get(template_code)
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ApplicationError(
                    _("file: choose a PDF, DOCX or ODT file."), fields={"file": "required"}
                )
            version = doc_templates.template_replace(actor=actor, code=template.code, upload=upload)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            messages.error(request, plain_message(exc))
        else:
            messages.success(
                request,
                _("%(title)s replaced: version %(version)d is what partners download now.")
                % {"title": template.title, "version": version.version},
            )
            return redirect("catalog:staff_document", template_code=template.code)
    return render(
        request,
        "catalog/staff_document.html",
        {
            "template": template,
            "versions": doc_templates.versions_of(template.code),
            "may_replace": actor.staff_role == "vendor_admin",
        },
    )


@staff_view
def staff_document_version(request: HttpRequest, template_code: str, template_version: int) -> HttpResponse:
    return _download(doc_templates.current_version(template_code, template_version))
