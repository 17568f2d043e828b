"""Accounts pages: login (allauth, portal statuses), the partner dashboard (customers), billing contacts, API tokens,
and the staff list of partners. Thin: forms validate, services act, selectors read."""

from __future__ import annotations

from typing import Any

from allauth.account import views as allauth_views
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.accounts import selectors, services
from pbxportal.accounts.adapter import landing_url
from pbxportal.accounts.forms import ApiTokenForm, BillingContactForm, CustomerForm
from pbxportal.common.errors import ApplicationError
from pbxportal.common.views import actor_of, form_error, paginate, portal_view, staff_view


class PortalLoginView(allauth_views.LoginView):
    """allauth's login with the portal's statuses: a refused login answers 401, a throttled one 429."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        throttled = form.has_error(NON_FIELD_ERRORS, "too_many_login_attempts")
        response.status_code = 429 if throttled else 401
        return response


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return HttpResponseRedirect(landing_url(request.user))


@portal_view
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    search = request.GET.get("q", "").strip()
    page = paginate(request, selectors.customer_list(actor=actor, search=search))
    return render(
        request,
        "accounts/dashboard.html",
        {"page": page, "search": search, "query": f"q={search}&" if search else ""},
    )


@portal_view
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(actor=actor_of(request), **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("accounts:customer_detail", customer_id=customer.pk)
    return render(request, "accounts/customer_form.html", {"form": form, "customer": None})


@portal_view
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get(actor=actor_of(request), customer_id=customer_id)
    return render(request, "accounts/customer_detail.html", {"customer": customer})


@portal_view
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_of(request)
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    initial = {f: getattr(customer, f) for f in CustomerForm.base_fields}
    form = CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(actor=actor, customer_id=customer.pk, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Customer saved."))
            return redirect("accounts:customer_detail", customer_id=customer.pk)
    return render(request, "accounts/customer_form.html", {"form": form, "customer": customer})


@portal_view
def billing_contacts(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = BillingContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.billing_contact_create(actor=actor, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Billing contact added."))
            return redirect("accounts:billing_contacts")
    return render(
        request,
        "accounts/billing_contacts.html",
        {"form": form, "contacts": selectors.billing_contact_list(actor=actor)},
    )


@portal_view
def api_tokens(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            _, created = services.api_token_create(
                actor=actor,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"] or "write",
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "created": created, "tokens": selectors.api_token_list(actor=actor)},
    )


@portal_view
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    services.api_token_revoke(actor=actor_of(request), token_id=token_id)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:api_tokens")


@staff_view
def staff_partners(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.partner_list(actor=actor_of(request)))
    return render(request, "accounts/staff_partners.html", {"page": page, "query": ""})
