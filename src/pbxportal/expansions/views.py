"""Expansion pages: the services of a software PBX (order expansions), the checkout review and
placement, and the expansion orders (R-EX-1..4). Thin: services act, selectors read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.common.errors import ApplicationError
from pbxportal.common.plain import plain_message
from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, form_int, paginate, portal_view
from pbxportal.expansions import selectors
from pbxportal.expansions.models import PaymentMethod
from pbxportal.expansions.services import ServiceRequest, expansion_checkout, expansion_order_cancel
from pbxportal.licensing.services import licence_content
from pbxportal.pbx.selectors import pbx_get


def _requests(data: QueryDict) -> list[ServiceRequest]:
    """The services chosen on the services page: ``qty_<CODE>`` fields, hotel PMS's payment and
    the hot-standby serial."""
    requests = []
    for product in selectors.expansion_products():
        raw = (data.get(f"qty_{product.code}") or "").strip()
        if not raw or raw == "0":
            continue
        requests.append(
            ServiceRequest(
                product_code=product.code,
                quantity=form_int(raw, field=f"qty_{product.code}"),
                one_off=data.get(f"payment_{product.code}") == "one_off",
                standby_serial=(data.get(f"standby_{product.code}") or "").strip(),
            )
        )
    return requests


@portal_view
def pbx_expansions(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = pbx_get(actor=actor, pbx_id=pbx_id)
    return render(
        request,
        "expansions/pbx_expansions.html",
        {
            "pbx": pbx,
            "subscriptions": selectors.pbx_services(actor=actor, pbx_id=pbx.pk),
            # "Change the services" on the checkout comes back with the choices in the query.
            "rows": [
                {
                    "product": product,
                    "qty": request.GET.get(f"qty_{product.code}", ""),
                    "one_off": request.GET.get(f"payment_{product.code}") == "one_off",
                    "standby": request.GET.get(f"standby_{product.code}", ""),
                }
                for product in selectors.expansion_products()
            ],
            "capacity": licence_content(pbx, vendor_today())["capacity"],
        },
    )


@portal_view
def checkout(request: HttpRequest, pbx_id: int) -> HttpResponse:
    """GET: review the chosen services with their prices (R-EX-2); POST: place the order."""
    actor = actor_of(request)
    pbx = pbx_get(actor=actor, pbx_id=pbx_id)
    data = request.POST if request.method == "POST" else request.GET
    requests = _requests(data)
    choice: dict[str, Any] = {
        "payment_method": data.get("payment_method", PaymentMethod.OFFLINE),
        "pi_number": data.get("pi_number", "").strip(),
        "auto_renew": data.get("auto_renew", "on") == "on"
        if request.method == "GET"
        else "auto_renew" in data,
        "contact": data.get("billing_contact", ""),
        "new_name": data.get("new_name", ""),
        "new_email": data.get("new_email", ""),
        "new_company": data.get("new_company", ""),
    }
    error = None
    if request.method == "POST":
        new_contact = None
        if choice["contact"] == "new":
            new_contact = {
                "name": choice["new_name"],
                "email": choice["new_email"],
                "company": choice["new_company"],
            }
        try:
            result = expansion_checkout(
                actor=actor,
                pbx_id=pbx.pk,
                services=requests,
                payment_method=choice["payment_method"],
                billing_contact_id=form_int(choice["contact"], field="contact")
                if choice["contact"] and choice["contact"] != "new"
                else None,
                new_contact=new_contact,
                pi_number=choice["pi_number"],
                auto_renew=choice["auto_renew"],
                today=vendor_today(),
            )
        except ApplicationError as exc:
            error = exc
        else:
            assert result.order is not None
            return redirect("expansions:order_detail", expansion_order_id=result.order.pk)
    preview = expansion_checkout(
        actor=actor,
        pbx_id=pbx.pk,
        services=requests,
        payment_method=choice["payment_method"],
        pi_number="",
        today=vendor_today(),
        preview=True,
    )
    # The services chosen, carried as hidden fields ("payment_method" is the checkout's own radio).
    selection = {
        k: v
        for k, v in data.items()
        if k.startswith(("qty_", "payment_", "standby_")) and k != "payment_method"
    }
    return render(
        request,
        "expansions/checkout.html",
        {
            "pbx": pbx,
            "preview": preview,
            "selection": selection,
            "back": urlencode(selection),
            "contacts": selectors.billing_contacts(actor=actor),
            "methods": PaymentMethod.choices,
            "choice": choice,
            "error_text": plain_message(error) if error else "",
            "error": error,
        },
        status=error.status if error else 200,
    )


@portal_view
def orders(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "expansions/orders.html",
        {"page": paginate(request, selectors.order_list(actor=actor_of(request)))},
    )


@portal_view
def order_detail(request: HttpRequest, expansion_order_id: int) -> HttpResponse:
    order = selectors.order_get(actor=actor_of(request), order_id=expansion_order_id)
    return render(
        request,
        "expansions/order_detail.html",
        {"order": order, "lines": order.lines.select_related("product", "subscription")},
    )


@portal_view
@require_POST
def order_cancel(request: HttpRequest, expansion_order_id: int) -> HttpResponse:
    order = selectors.order_get(actor=actor_of(request), order_id=expansion_order_id)
    expansion_order_cancel(actor=actor_of(request), order_id=order.pk, today=vendor_today())
    messages.success(
        request, _("Expansion order #%(pk)s cancelled; its invoice is credited.") % {"pk": order.pk}
    )
    return redirect("expansions:order_detail", expansion_order_id=order.pk)
