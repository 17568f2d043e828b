"""Voice pages: numbers and number orders, a PBX's usage with its chart, the staff review of number
documents and the bundle-switch tickets (R-VT-2..10, R-UI-1). Thin: they call the services."""

from __future__ import annotations

from datetime import date
from typing import cast

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.catalog import doc_templates
from pbxportal.catalog.models import NumberRequirement, TemplateKind
from pbxportal.common.errors import ApplicationError
from pbxportal.common.plain import plain_message
from pbxportal.common.tenancy import scoped
from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, form_int, paginate, portal_view, staff_view
from pbxportal.core.periods import first_of_month
from pbxportal.pbx.models import Pbx
from pbxportal.voice import charts, drafts, selectors, services
from pbxportal.voice.models import BundleSwitchStatus, ImportJob, NumberOrderKind, NumberOrderStatus

AREAS = ("CTA1", "CTA2", "CTA3", "CTA4", "CTA5", "CTA6")


def _refused(request: HttpRequest, exc: ApplicationError) -> None:
    rule = " " + _("(rule %(rule)s)") % {"rule": exc.rule} if exc.rule else ""
    messages.error(request, plain_message(exc) + rule)


@portal_view
def numbers(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    return render(
        request,
        "voice/numbers.html",
        {
            "numbers": selectors.numbers(actor=actor)[:200],
            "page": paginate(request, selectors.number_orders(actor=actor)),
        },
    )


@portal_view
def number_order_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    pbxs = scoped(Pbx.objects.all(), actor).order_by("name")
    requirements = NumberRequirement.objects.filter(product__isnull=False).select_related("product")
    if request.method == "POST":
        country, _, number_type = request.POST.get("requirement", "").partition(":")
        try:
            order = services.number_order_create(
                actor=actor,
                pbx_id=form_int(request.POST.get("pbx_id"), field="pbx_id", default=0),
                country=country,
                number_type=number_type,
                kind=request.POST.get("kind", "new"),
                address=request.POST.get("address", ""),
                number=request.POST.get("number", ""),
            )
        except ApplicationError as exc:
            _refused(request, exc)
        else:
            return redirect("voice:number_order", number_order_id=order.pk)
    return render(request, "voice/number_order_new.html", {"pbxs": pbxs, "requirements": requirements})


@portal_view
def number_order(request: HttpRequest, number_order_id: int) -> HttpResponse:
    order = selectors.number_order_get(actor=actor_of(request), order_id=number_order_id)
    documents = list(order.documents.all())
    uploaded = {document.name for document in documents}
    return render(
        request,
        "voice/number_order.html",
        {
            "order": order,
            "documents": documents,
            "missing": [name for name in order.required_documents if name not in uploaded],
            # the templates of the order's country (issue 16 item 8), the porting form for a porting
            "templates": doc_templates.templates_listed(
                kinds=(TemplateKind.NUMBER_DOCUMENTS, TemplateKind.PORTING_FORM)
                if order.kind == NumberOrderKind.PORTING
                else (TemplateKind.NUMBER_DOCUMENTS,),
                country=order.requirement.country,
            ),
        },
    )


@require_POST
@portal_view
def number_document_upload(request: HttpRequest, number_order_id: int) -> HttpResponse:
    try:
        services.number_document_upload(
            actor=actor_of(request),
            order_id=number_order_id,
            name=request.POST.get("name", ""),
            upload=request.FILES.get("file"),
        )
        messages.success(request, _("Document uploaded."))
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        _refused(request, exc)
    return redirect("voice:number_order", number_order_id=number_order_id)


@require_POST
@portal_view
def number_order_submit(request: HttpRequest, number_order_id: int) -> HttpResponse:
    try:
        services.number_order_submit(actor=actor_of(request), order_id=number_order_id)
        messages.success(request, _("Order submitted for review."))
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        _refused(request, exc)
    return redirect("voice:number_order", number_order_id=number_order_id)


@require_POST
@portal_view
def number_order_draft(request: HttpRequest, number_order_id: int) -> HttpResponse:
    try:
        drafts.number_order_draft_update(
            actor=actor_of(request),
            order_id=number_order_id,
            address=request.POST.get("address", ""),
            number=request.POST.get("number", ""),
        )
        messages.success(request, _("Draft saved."))
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        _refused(request, exc)
    return redirect("voice:number_order", number_order_id=number_order_id)


@require_POST
@portal_view
def number_order_draft_delete(request: HttpRequest, number_order_id: int) -> HttpResponse:
    try:
        drafts.number_order_draft_delete(actor=actor_of(request), order_id=number_order_id)
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        _refused(request, exc)
        return redirect("voice:number_order", number_order_id=number_order_id)
    messages.success(request, _("Draft deleted."))
    return redirect("voice:numbers")


@portal_view
def number_document(request: HttpRequest, number_document_id: int) -> HttpResponse:
    """A number document, only to its owning partner and staff (R-VT-10)."""
    document = selectors.number_document_get(actor=actor_of(request), document_id=number_document_id)
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    return cast(HttpResponse, response)  # streamed; portal_view only passes it through


def _month(value: str | None) -> date:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return first_of_month(vendor_today())


@portal_view
def usage(request: HttpRequest, pbx_id: int) -> HttpResponse:
    """A PBX's usage of a month: lines per area, a bar chart of minutes by area (plain HTML/CSS) and
    the allowance left (R-VT-2..4)."""
    pbx = selectors.pbx_for_usage(actor=actor_of(request), pbx_id=pbx_id)
    month = _month(request.GET.get("month"))
    lines = selectors.usage_lines(pbx=pbx, month=month)
    minutes = {area: 0 for area in AREAS}
    for line in lines:
        if line.kind == "voice":
            minutes[line.area] += line.seconds // 60
    top = max(minutes.values()) or 1
    chart = [
        {"area": area, "minutes": value, "percent": round(value * 100 / top)}
        for area, value in minutes.items()
    ]
    row = selectors.usage_month(pbx=pbx, month=month)
    by_day = charts.allowance_by_day(pbx=pbx, month=month, usage=row)
    by_area = charts.cost_by_area(lines)
    return render(
        request,
        "voice/usage.html",
        {
            "pbx": pbx,
            "month": month,
            "months": selectors.usage_months(pbx=pbx),
            "lines": lines,
            "chart": chart,
            "usage": row,
            "errors": selectors.call_errors(pbx=pbx, month=month)[:50],
            "allowance_left_minutes": row.allowance_left // 60 if row else 0,
            "allowance_chart": {
                "type": "line",
                "labels": by_day["labels"],
                "series": [
                    {"label": _("Allowance used (min)"), "data": by_day["used"]},
                    {
                        "label": _("Pool (min)"),
                        "data": [by_day["pool"]] * len(by_day["labels"]),
                        "dashed": True,
                    },
                ],
            },
            "allowance_days": list(zip(by_day["labels"], by_day["used"], strict=True)),
            "allowance_pool": by_day["pool"],
            "area_chart": {
                "type": "bar",
                "labels": by_area["labels"],
                "series": [
                    {
                        "label": _("Cost (%(currency)s)") % {"currency": pbx.partner.price_book.currency},
                        "data": by_area["amounts"],
                    }
                ],
            },
            "area_costs": list(zip(by_area["labels"], by_area["amounts"], strict=True)),
            "currency": pbx.partner.price_book.currency,
        },
    )


@require_POST
@portal_view
def bundle_switch(request: HttpRequest, pbx_id: int) -> HttpResponse:
    try:
        services.bundle_switch_request(
            actor=actor_of(request),
            pbx_id=pbx_id,
            to_product_code=request.POST.get("to_product", ""),
            note=request.POST.get("note", ""),
            today=vendor_today(),
        )
        messages.success(request, _("Bundle switch requested: customer care applies it from the next month."))
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        _refused(request, exc)
    return redirect("voice:usage", pbx_id=pbx_id)


# --- Staff ----------------------------------------------------------------------------------------


@staff_view
def staff_number_orders(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or NumberOrderStatus.SUBMITTED
    orders = selectors.number_orders(actor=actor_of(request), status=status).prefetch_related("documents")
    return render(
        request,
        "voice/staff_number_orders.html",
        {"page": paginate(request, orders), "status": status, "statuses": NumberOrderStatus.choices},
    )


@require_POST
@portal_view
def staff_number_order_decide(request: HttpRequest, number_order_id: int) -> HttpResponse:
    """Review, approve (with the number assigned) or reject (with the reason) an order (R-VT-10).
    The order is looked up before the staff check, so another partner's id is a 404."""
    actor = actor_of(request)
    action = request.POST.get("action", "")
    try:
        if action == "approve":
            services.number_order_approve(
                actor=actor,
                order_id=number_order_id,
                number=request.POST.get("number", ""),
                today=vendor_today(),
            )
        elif action == "reject":
            services.number_order_reject(
                actor=actor,
                order_id=number_order_id,
                reason=request.POST.get("reason", ""),
                today=vendor_today(),
            )
        else:
            services.number_order_review(actor=actor, order_id=number_order_id)
        messages.success(
            request, _("Order %(number_order_id)s: done.") % {"number_order_id": number_order_id}
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        _refused(request, exc)
    return redirect("voice:staff_number_orders")


@staff_view
def staff_bundle_switches(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or BundleSwitchStatus.REQUESTED
    tickets = selectors.bundle_switches(actor=actor_of(request), status=status)
    return render(
        request,
        "voice/staff_bundle_switches.html",
        {"page": paginate(request, tickets), "status": status, "statuses": BundleSwitchStatus.choices},
    )


@require_POST
@portal_view
def staff_bundle_switch_decide(request: HttpRequest, bundle_ticket_id: int) -> HttpResponse:
    try:
        services.bundle_switch_decide(
            actor=actor_of(request),
            ticket_id=bundle_ticket_id,
            approve=request.POST.get("action") == "approve",
            note=request.POST.get("note", ""),
            today=vendor_today(),
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        _refused(request, exc)
    return redirect("voice:staff_bundle_switches")


@portal_view
def usage_calls(request: HttpRequest, pbx_id: int) -> HttpResponse:
    """The month's rated calls as CSV or XLSX, streamed (issue 12): the same as the API's."""
    from pbxportal.voice.api import calls_download

    pbx = selectors.pbx_for_usage(actor=actor_of(request), pbx_id=pbx_id)
    try:
        # A streamed response: the portal decorator only passes it through.
        return cast(
            HttpResponse,
            calls_download(pbx, _month(request.GET.get("month")), request.GET.get("format", "csv")),
        )
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")


@portal_view
def cdr_upload(request: HttpRequest, pbx_id: int) -> HttpResponse:
    """Upload a call-record file for a PBX (issue 12): stored and queued as a durable job that a
    worker imports in the background; the job's page follows its progress."""
    actor = actor_of(request)
    pbx = selectors.pbx_for_usage(actor=actor, pbx_id=pbx_id)
    if request.method == "POST":
        try:
            job = services.cdr_upload(
                actor=actor,
                pbx=pbx,
                upload=request.FILES.get("file"),
                cdr_format=request.POST.get("format", ""),
                tz_name=request.POST.get("timezone", ""),
            )
            return redirect("voice:import_job", job_id=job.pk)
        except ApplicationError as exc:
            if exc.status == 403:
                raise
            _refused(request, exc)
        except OSError as exc:
            messages.error(request, _("The file could not be stored: %(error)s") % {"error": exc})
    jobs = scoped(ImportJob.objects.filter(pbx=pbx), actor).order_by("-id")[:20]
    return render(request, "voice/cdr_upload.html", {"pbx": pbx, "jobs": jobs})


@portal_view
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """An import job: its live progress while it runs (htmx polls this page), then its counts and
    problems (the first 500 here; all in the CSV download)."""
    job = selectors.import_job_for(actor=actor_of(request), job_id=job_id)
    problems = job.problems.order_by("line", "id")[:500]
    return render(
        request,
        "voice/import_job.html",
        {"job": job, "problems": problems, "progress": selectors.import_progress(job)},
    )


@require_POST
@portal_view
def import_job_resume(request: HttpRequest, job_id: int) -> HttpResponse:
    """Queue an interrupted upload again (a worker was killed): it resumes where it stopped."""
    try:
        services.import_job_resume(actor=actor_of(request), job_id=job_id)
        messages.success(request, _("The import was queued again: it resumes where it stopped."))
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        _refused(request, exc)
    return redirect("voice:import_job", job_id=job_id)
