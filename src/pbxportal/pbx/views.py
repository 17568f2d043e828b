"""PBX pages (R-UI-1): the list, a new PBX, the PBX page with its licence, service, plan, cancel,
auto-renew, SSH and correction forms, and the staff corrections page.

Thin: forms validate, services act, selectors read. Every money change has a Preview (the same
service with ``preview=True``, R-CO-4; an htmx partial, or a whole page without JavaScript) and a
Confirm that runs it for real; a refusal shows on the form with its rule id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.accounts.selectors import customer_list
from pbxportal.catalog.models import Family
from pbxportal.common.errors import ApplicationError
from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, form_error, paginate, portal_view, staff_view
from pbxportal.invoicing.selectors import invoice_list
from pbxportal.pbx import selectors, services
from pbxportal.pbx.forms import (
    CancelForm,
    CorrectionForm,
    LicenceChangeForm,
    PbxCreateForm,
    PlanSwitchForm,
    RejectForm,
    ServiceOrderForm,
    SshOpenForm,
)
from pbxportal.pbx.models import CorrectionStatus, Pbx, PbxStatus
from pbxportal.pbx.services import ChangeResult

Run = Callable[[dict[str, Any], bool], ChangeResult]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """After a confirmed change: a plain redirect, or htmx's full-page redirect."""
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _issued(request: HttpRequest, result: ChangeResult, done: str) -> None:
    invoice = result.invoice
    if invoice is None:
        messages.success(request, _("%(done)s Nothing to invoice.") % {"done": done})
    else:
        messages.success(
            request,
            _("%(done)s Invoice %(number)s issued: %(total)s %(currency)s.")
            % {
                "done": done,
                "number": invoice.number,
                "total": f"{invoice.total:.2f}",
                "currency": invoice.currency,
            },
        )


BLOCK = "change-block"


def _whole_block(request: HttpRequest) -> bool:
    """The change page's Preview swaps the form with the preview (``hx-select`` of the whole page),
    so an error shown at a field goes away once the value is corrected (issue 16)."""
    return request.headers.get("HX-Target") == BLOCK


def _page_status(request: HttpRequest, form: forms.Form) -> int:
    return 400 if form.errors and not _is_htmx(request) else 200


def _change(
    request: HttpRequest, *, form: forms.Form, run: Run, title: str, action_url: str, done: str, back: str
) -> HttpResponse:
    """Preview (anything but action=confirm) or confirm a change through the same service (R-CO-4)."""
    confirm = request.POST.get("action") == "confirm"
    result = None
    if form.is_valid():
        try:
            result = run(form.cleaned_data, not confirm)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            if confirm:
                _issued(request, result, done)
                return _redirect(request, back)
    context = {
        "form": form,
        "plan": result.plan if result else None,
        "title": title,
        "action_url": action_url,
        "back": back,
    }
    if _is_htmx(request) and not _whole_block(request):
        # htmx swaps only 2xx answers: a refusal comes back as a 200 partial showing the rule.
        return render(request, "pbx/_preview.html", context)
    return render(request, "pbx/change.html", context, status=_page_status(request, form))


def _profiles() -> list[Any]:
    return selectors.orderable_products(Family.LICENCE)


# --- List, new ----------------------------------------------------------------------------------


@portal_view
def pbx_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    pbxs = selectors.pbx_list(actor=actor_of(request), search=search, status=status)
    filters = {k: v for k, v in (("q", search), ("status", status)) if v}
    context = {
        "page": paginate(request, pbxs),
        "search": search,
        "status": status,
        "statuses": PbxStatus.choices,
        "query": (urlencode(filters) + "&") if filters else "",
    }
    return render(request, "pbx/list.html", context)


@portal_view
def pbx_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = PbxCreateForm(
        request.POST or None,
        initial={"customer_id": request.GET.get("customer"), "term": "yearly"},
        customers=[(c.pk, c.name) for c in customer_list(actor=actor)],
        models=selectors.new_pbx_models(actor),
        profiles=_profiles(),
    )
    if request.method != "POST":
        return render(request, "pbx/new.html", {"form": form})
    confirm = request.POST.get("action") == "confirm"
    result = None
    if form.is_valid():
        try:
            result = services.pbx_create(
                actor=actor, today=vendor_today(), preview=not confirm, **form.service_kwargs()
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            if confirm:
                assert result.pbx is not None
                _issued(request, result, f"PBX {result.pbx.name} created.")
                return _redirect(request, reverse("pbx:detail", args=[result.pbx.pk]))
    context = {"form": form, "plan": result.plan if result else None, "title": "First invoice"}
    if _is_htmx(request) and not _whole_block(request):
        return render(request, "pbx/_preview.html", context)
    return render(request, "pbx/new.html", context, status=_page_status(request, form))


# --- The PBX page -------------------------------------------------------------------------------


def _forms(pbx: Pbx) -> dict[str, forms.Form]:
    plans = [p for p in selectors.orderable_products(Family.SOFTWARE_PLAN) if p.pk != pbx.model_id]
    # One page holds several forms: each gets its own element ids (the field names stay the same).
    return {
        "licence_form": LicenceChangeForm(profiles=_profiles(), auto_id="licence_%s"),
        "service_form": ServiceOrderForm(products=selectors.pbx_page_services(pbx), auto_id="service_%s"),
        "plan_form": PlanSwitchForm(plans=plans, auto_id="plan_%s"),
        "ssh_form": SshOpenForm(auto_id="ssh_%s"),
        "correction_form": CorrectionForm(
            profiles=_profiles(), initial={"change_date": vendor_today()}, auto_id="correction_%s"
        ),
    }


@portal_view
def pbx_detail(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)
    return _detail_page(request, pbx)


def _to_tab(pbx: Pbx, tab: str) -> HttpResponse:
    """Back to a tab of the PBX workspace (its id in the address, docs/ui.md)."""
    return redirect(reverse("pbx:detail", args=[pbx.pk]) + f"#{tab}")


def _detail_page(
    request: HttpRequest,
    pbx: Pbx,
    status: int = 200,
    open_tab: str = "",
    new_pbx_key: str = "",
    **forms_: forms.Form,
) -> HttpResponse:
    """The PBX page; a refused form of the page comes back bound (its values and errors kept)."""
    actor = actor_of(request)
    subscriptions = selectors.subscription_list(actor=actor, pbx_id=pbx.pk, include_ended=True)
    context = {
        "pbx": pbx,
        "expiry": selectors.expiry(pbx, vendor_today()),
        "pbx_url": f"https://{pbx.name}.{settings.VENDOR_DOMAIN}" if pbx.is_cloud else "",
        "subscriptions": subscriptions,
        "has_plan": any(s.product.family == Family.SOFTWARE_PLAN for s in subscriptions),
        "ssh_windows": selectors.ssh_windows(actor=actor, pbx_id=pbx.pk)[:20],
        "ssh_is_open": selectors.ssh_is_open(actor=actor, pbx_id=pbx.pk, now=timezone.now()),
        "ledger": selectors.ledger(actor=actor, pbx_id=pbx.pk),
        "corrections": selectors.correction_list(actor=actor, pbx_id=pbx.pk),
        "invoices": invoice_list(actor=actor, pbx_id=pbx.pk),
        "open_tab": open_tab,
        "new_pbx_key": new_pbx_key,
        **_forms(pbx),
        **forms_,
    }
    return render(request, "pbx/detail.html", context, status=status)


@portal_view
@require_POST
def licence_change(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)

    def run(data: dict[str, Any], preview: bool) -> ChangeResult:
        return services.pbx_change_licences(
            actor=actor,
            pbx_id=pbx.pk,
            profile=data["profile"],
            quantity=data["quantity"],
            today=vendor_today(),
            preview=preview,
        )

    return _change(
        request,
        form=LicenceChangeForm(request.POST, profiles=_profiles()),
        run=run,
        title=f"Change licences of {pbx.name}",
        action_url=reverse("pbx:licences", args=[pbx.pk]),
        done="Licences changed.",
        back=reverse("pbx:detail", args=[pbx.pk]),
    )


@portal_view
@require_POST
def service_order(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)

    def run(data: dict[str, Any], preview: bool) -> ChangeResult:
        return services.pbx_service_order(
            actor=actor,
            pbx_id=pbx.pk,
            product_code=data["product_code"],
            quantity=data["quantity"],
            term=data["term"] or None,
            today=vendor_today(),
            preview=preview,
        )

    return _change(
        request,
        form=ServiceOrderForm(request.POST, products=selectors.pbx_page_services(pbx)),
        run=run,
        title=f"Order a service for {pbx.name}",
        action_url=reverse("pbx:services", args=[pbx.pk]),
        done="Service ordered.",
        back=reverse("pbx:detail", args=[pbx.pk]),
    )


@portal_view
@require_POST
def plan_switch(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)

    def run(data: dict[str, Any], preview: bool) -> ChangeResult:
        return services.plan_switch(
            actor=actor,
            pbx_id=pbx.pk,
            product_code=data["product_code"],
            today=vendor_today(),
            preview=preview,
        )

    return _change(
        request,
        form=PlanSwitchForm(request.POST, plans=selectors.orderable_products(Family.SOFTWARE_PLAN)),
        run=run,
        title=f"Switch the plan of {pbx.name}",
        action_url=reverse("pbx:plan_switch", args=[pbx.pk]),
        done="Plan switched.",
        back=reverse("pbx:detail", args=[pbx.pk]),
    )


@portal_view
@require_POST
def subscription_cancel(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = actor_of(request)
    sub = selectors.subscription_get(actor=actor, subscription_id=subscription_id)

    def run(data: dict[str, Any], preview: bool) -> ChangeResult:
        return services.subscription_cancel_by_partner(
            actor=actor, subscription_id=sub.pk, today=vendor_today(), preview=preview
        )

    return _change(
        request,
        form=CancelForm(request.POST),
        run=run,
        title=f"Cancel {sub.product.name} on {sub.pbx.name}",
        action_url=reverse("pbx:cancel", args=[sub.pk]),
        done=f"{sub.product.name} cancelled.",
        back=reverse("pbx:detail", args=[sub.pbx_id]),
    )


@portal_view
@require_POST
def pbx_auto_renew(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)
    wanted = request.POST.get("auto_renew") == "on"
    services.pbx_set_auto_renew(actor=actor, pbx_id=pbx.pk, auto_renew=wanted)
    messages.success(
        request,
        (_("Auto-renew on for %(name)s (R-EX-4).") if wanted else _("Auto-renew off for %(name)s (R-EX-4)."))
        % {"name": pbx.name},
    )
    return redirect("pbx:detail", pbx_id=pbx.pk)


@portal_view
@require_POST
def subscription_auto_renew(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = actor_of(request)
    sub = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    wanted = request.POST.get("auto_renew") == "on"
    services.subscription_set_auto_renew(actor=actor, subscription_id=sub.pk, auto_renew=wanted)
    messages.success(
        request,
        (_("Auto-renew on for %(name)s (R-EX-4).") if wanted else _("Auto-renew off for %(name)s (R-EX-4)."))
        % {"name": sub.product.name},
    )
    return redirect("pbx:detail", pbx_id=sub.pbx_id)


@portal_view
@require_POST
def pbx_key_regenerate(request: HttpRequest, pbx_id: int) -> HttpResponse:
    """A new PBX key (R-PBX-3), shown on this answer only (never stored, so never shown again);
    the old key stops working."""
    actor = actor_of(request)
    pbx = services.pbx_key_regenerate(actor=actor, pbx_id=pbx_id)
    response = _detail_page(
        request, selectors.pbx_get(actor=actor, pbx_id=pbx.pk), new_pbx_key=pbx.new_pbx_key
    )
    response["Cache-Control"] = "no-store"
    return response


# --- SSH, corrections -----------------------------------------------------------------------------


@portal_view
@require_POST
def ssh_open(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)
    form = SshOpenForm(request.POST, auto_id="ssh_%s")
    if form.is_valid():
        try:
            window = services.ssh_open(
                actor=actor, pbx_id=pbx.pk, minutes=form.cleaned_data["minutes"], now=timezone.now()
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            closes = timezone.localtime(window.closes_at).strftime("%Y-%m-%d %H:%M %Z")
            messages.success(request, _("SSH port 2222 open until %(closes)s.") % {"closes": closes})
            return _to_tab(pbx, "access")
    # Refused: the page again with the value typed and the error at the field (issue 16).
    return _detail_page(request, pbx, status=400, open_tab="access", ssh_form=form)


@portal_view
@require_POST
def ssh_close(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)
    closed = services.ssh_close(actor=actor, pbx_id=pbx.pk, now=timezone.now())
    messages.success(request, _("SSH closed.") if closed else _("SSH was not open."))
    return _to_tab(pbx, "access")


@portal_view
@require_POST
def correction_file(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)
    form = CorrectionForm(request.POST, profiles=_profiles())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.correction_file(
                actor=actor,
                pbx_id=pbx.pk,
                change_date=data["change_date"],
                quantities={data["profile"]: data["quantity"]},
                note=data["note"],
                today=vendor_today(),
            )
        except ApplicationError as exc:
            # The service names ``quantities.<profile>``; this form has one profile and its ``quantity``.
            exc.fields = {("quantity" if k.startswith("quantities") else k): v for k, v in exc.fields.items()}
            form_error(form, exc)
        else:
            messages.success(
                request, _("Correction request filed; the vendor's staff will review it (R-PBX-10).")
            )
            return _to_tab(pbx, "corrections")
    context = {"pbx": pbx, "form": form}
    return render(request, "pbx/correction_form.html", context, status=400)


# --- Staff --------------------------------------------------------------------------------------


@staff_view
def staff_corrections(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "filed")
    actor = actor_of(request)
    corrections = selectors.correction_list(actor=actor, status=status)
    page = paginate(request, corrections)
    # What applying each filed correction will issue (R-CO-4), from the function that applies it,
    # shown before its Apply button; a correction the rules refuse shows why instead.
    for correction in page.object_list:
        if correction.status == CorrectionStatus.FILED:
            try:
                correction.preview = services.correction_preview(actor=actor, correction_id=correction.pk)
            except ApplicationError as exc:
                correction.refusal = exc
    context = {
        "page": page,
        "status": status,
        "query": urlencode({"status": status}) + "&",
        "reject_form": RejectForm(),
    }
    return render(request, "pbx/staff_corrections.html", context)


@staff_view
@require_POST
def staff_correction_apply(request: HttpRequest, correction_id: int) -> HttpResponse:
    documents = services.correction_apply(
        actor=actor_of(request), correction_id=correction_id, today=vendor_today()
    )
    numbers = ", ".join(f"{d.number} ({d.total:.2f} {d.currency})" for d in documents) or "nothing to invoice"
    messages.success(
        request,
        _("Correction #%(correction_id)s applied: %(numbers)s.")
        % {"correction_id": correction_id, "numbers": numbers},
    )
    return redirect("pbx:staff_corrections")


@staff_view
@require_POST
def staff_correction_reject(request: HttpRequest, correction_id: int) -> HttpResponse:
    actor = actor_of(request)
    correction = selectors.correction_get(actor=actor, correction_id=correction_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        services.correction_reject(
            actor=actor, correction_id=correction.pk, reason=form.cleaned_data["reason"], today=vendor_today()
        )
        messages.success(request, _("Correction #%(pk)s rejected.") % {"pk": correction.pk})
    else:
        messages.error(request, _("A reason is required to reject a correction."))
    return redirect("pbx:staff_corrections")
