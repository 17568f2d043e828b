"""HWaaS pages (R-UI-1): agreements, carts and orders for partners; agreement review, order
confirmation and shipping, and stock for staff. Thin: the services act, the selectors read.

A refusal of an action on a page (an illegal transition, the overdue block...) comes back to
the page it was made from with the message and its rule; another partner's ids answer 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.accounts.selectors import customer_list
from pbxportal.catalog import doc_templates
from pbxportal.catalog.models import TemplateKind
from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, form_int, paginate, portal_view, staff_view
from pbxportal.hardware import selectors, services
from pbxportal.hardware.forms import AgreementUploadForm, StockAdjustForm
from pbxportal.hardware.models import TRANSITIONS, AgreementStatus, HardwareOrder, OrderStatus

STAFF_MOVES = {
    OrderStatus.CONFIRMED: services.order_confirm,
    OrderStatus.SHIPPED: services.order_ship,
    OrderStatus.DELIVERED: services.order_deliver,
}


def _refused(request: HttpRequest, exc: ApplicationError) -> None:
    """Another partner's id stays a 404; any other refusal is shown with its rule."""
    if isinstance(exc, NotFound):
        raise exc
    messages.error(request, gettext(exc.message) + (f" ({exc.rule})" if exc.rule else ""))


# --- Partner pages ----------------------------------------------------------------------------


@portal_view
def agreements(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    customers = [(c.pk, c.name) for c in customer_list(actor=actor)]
    form = AgreementUploadForm(request.POST or None, request.FILES or None, customers=customers)
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_upload(
                actor=actor, customer_id=form.cleaned_data["customer"], upload=form.cleaned_data["file"]
            )
        except ApplicationError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Agreement uploaded: your area manager will review it."))
            return redirect("hardware:agreements")
    page = paginate(request, selectors.agreement_list(actor=actor))
    templates = doc_templates.templates_listed(kinds=(TemplateKind.HWAAS_AGREEMENT,))
    return render(
        request, "hardware/agreements.html", {"form": form, "page": page, "query": "", "templates": templates}
    )


@portal_view
def agreement_file(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """The uploaded file, only for the owning partner and the staff who see that partner."""
    agreement = selectors.agreement_get(actor=actor_of(request), agreement_id=agreement_id)
    return selectors.agreement_file_response(agreement)


@portal_view
def orders(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = request.GET.get("status", "")
    page = paginate(request, selectors.order_list(actor=actor, status=status))
    return render(
        request,
        "hardware/orders.html",
        {
            "page": page,
            "status": status,
            "statuses": OrderStatus.choices,
            "query": f"status={status}&" if status else "",
            "pbxs": selectors.orderable_pbxs(actor=actor) if actor.is_partner else [],
        },
    )


@portal_view
@require_POST
def order_create(request: HttpRequest) -> HttpResponse:
    try:
        order = services.order_create(
            actor=actor_of(request), pbx_id=form_int(request.POST.get("pbx_id"), field="pbx_id", default=0)
        )
    except ApplicationError as exc:
        _refused(request, exc)
        return redirect("hardware:orders")
    return redirect("hardware:order_detail", order_id=order.pk)


def _order_page(request: HttpRequest, order: HardwareOrder, *, staff: bool) -> HttpResponse:
    draft = order.status == OrderStatus.DRAFT
    return render(
        request,
        "hardware/order_detail.html",
        {
            "order": order,
            "staff": staff,
            "devices": selectors.devices_for(pbx=order.pbx) if draft and not staff else [],
            "preview": selectors.cart_preview(order=order, today=vendor_today()) if draft else None,
            "can_cancel": OrderStatus.CANCELLED in TRANSITIONS[order.status],
            "staff_moves": [
                (to, OrderStatus(to).label) for to in STAFF_MOVES if staff and to in TRANSITIONS[order.status]
            ],
        },
    )


@portal_view
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get(actor=actor_of(request), order_id=order_id)
    return _order_page(request, order, staff=False)


@portal_view
@require_POST
def order_cart(request: HttpRequest, order_id: int) -> HttpResponse:
    """Add a device, or save the cart's quantities (0 removes a device) and keep it as a draft."""
    actor = actor_of(request)
    order = selectors.order_get(actor=actor, order_id=order_id)
    try:
        if request.POST.get("action") == "add":
            code = request.POST.get("product_code", "")
            current = next((line.quantity for line in order.lines.all() if line.product.code == code), 0)
            added = form_int(request.POST.get("quantity"), field="quantity", default=1)
            services.order_line_set(
                actor=actor, order_id=order.pk, product_code=code, quantity=current + added
            )
            return redirect("hardware:order_detail", order_id=order.pk)
        for line in order.lines.all():
            wanted = request.POST.get(f"qty-{line.product.code}")
            quantity = form_int(wanted, field=f"qty-{line.product.code}") if wanted is not None else None
            if quantity is not None and quantity != line.quantity:
                services.order_line_set(
                    actor=actor, order_id=order.pk, product_code=line.product.code, quantity=quantity
                )
    except ApplicationError as exc:
        _refused(request, exc)
        return redirect("hardware:order_detail", order_id=order.pk)
    messages.success(
        request,
        _("Cart %(number)s saved as a draft: check it out from Orders when ready.")
        % {"number": order.number},
    )
    return redirect("hardware:orders")


@portal_view
@require_POST
def order_checkout(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = services.order_place(actor=actor_of(request), order_id=order_id, today=vendor_today())
    except ApplicationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Order %(number)s placed.") % {"number": order.number})
    return redirect("hardware:order_detail", order_id=order_id)


@portal_view
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        order = services.order_cancel(
            actor=actor, order_id=order_id, today=vendor_today(), note=request.POST.get("note", "")
        )
    except ApplicationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Order %(number)s cancelled.") % {"number": order.number})
    return redirect(
        "hardware:staff_order_detail" if actor.is_staff else "hardware:order_detail", order_id=order_id
    )


# --- Staff pages ------------------------------------------------------------------------------


@staff_view
def staff_agreements(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", AgreementStatus.PENDING)
    page = paginate(request, selectors.agreement_list(actor=actor_of(request), status=status))
    return render(
        request,
        "hardware/staff_agreements.html",
        {"page": page, "status": status, "statuses": AgreementStatus.choices, "query": f"status={status}&"},
    )


@staff_view
@require_POST
def staff_agreement_decide(request: HttpRequest, agreement_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        if request.POST.get("decision") == "accept":
            agreement = services.agreement_accept(actor=actor, agreement_id=agreement_id)
        else:
            agreement = services.agreement_reject(
                actor=actor, agreement_id=agreement_id, reason=request.POST.get("reason", "")
            )
    except ApplicationError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("Agreement of %(name)s %(status)s.")
            % {"name": agreement.customer.name, "status": agreement.get_status_display().lower()},
        )
    return redirect("hardware:staff_agreements")


@staff_view
def staff_orders(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = selectors.order_list(actor=actor_of(request), status=status).exclude(status=OrderStatus.DRAFT)
    return render(
        request,
        "hardware/orders.html",
        {
            "page": paginate(request, qs),
            "status": status,
            "statuses": [c for c in OrderStatus.choices if c[0] != OrderStatus.DRAFT],
            "query": f"status={status}&" if status else "",
            "staff": True,
        },
    )


@staff_view
def staff_order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get(actor=actor_of(request), order_id=order_id)
    return _order_page(request, order, staff=True)


@staff_view
@require_POST
def staff_order_transition(request: HttpRequest, order_id: int) -> HttpResponse:
    """Confirm, ship or mark delivered; anything else the map refuses is shown with R-HW-3."""
    actor = actor_of(request)
    to = request.POST.get("to", "")
    move = STAFF_MOVES.get(to)  # type: ignore[call-overload]
    try:
        if move is None:
            raise ApplicationError(
                f"to: {to!r}; expected confirmed, shipped or delivered.", fields={"to": "invalid"}
            )
        order = move(actor=actor, order_id=order_id, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("Order %(number)s %(status)s.")
            % {"number": order.number, "status": order.get_status_display().lower()},
        )
    return redirect("hardware:staff_order_detail", order_id=order_id)


@staff_view
def staff_stock(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = StockAdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.stock_adjust(actor=actor, **form.cleaned_data)
        except ApplicationError as exc:
            _refused(request, exc)
        else:
            messages.success(
                request, _("Stock of %(product)s adjusted.") % {"product": form.cleaned_data["product_code"]}
            )
        return redirect("hardware:staff_stock")
    return render(request, "hardware/stock.html", {"rows": selectors.stock_list(actor=actor)})
