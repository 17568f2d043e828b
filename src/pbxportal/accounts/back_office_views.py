"""The back office pages (vendor admins): onboard a partner, edit it, manage its users.
Thin: forms parse, accounts.back_office and accounts.partner_users act, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from pbxportal.accounts import back_office, partner_users, selectors
from pbxportal.accounts.forms import InviteForm, NewPartnerForm, PartnerForm, RoleForm
from pbxportal.common.errors import ApplicationError
from pbxportal.common.views import actor_of, form_error, staff_view


@staff_view
def partner_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    actor.require_staff("vendor_admin")
    form = NewPartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner, link = back_office.partner_create(actor=actor, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            invited = (
                " " + _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["first_admin_email"]}
                if link
                else ""
            )
            messages.success(
                request,
                _("Partner %(name)s created.%(invited)s") % {"name": partner.name, "invited": invited},
            )
            return redirect("accounts:staff_partner", partner_id=partner.pk)
    return render(
        request,
        "accounts/staff_partner_form.html",
        {"form": form, "partner": None},
        status=400 if form.errors else 200,
    )


@staff_view
def partner_detail(request: HttpRequest, partner_id: int) -> HttpResponse:
    actor = actor_of(request)
    partner = selectors.partner_get(actor=actor, partner_id=partner_id)
    initial = {
        **{f: getattr(partner, f) for f in ("name", "code", "country")},
        **back_office.legal_initial(partner),
        "price_book": partner.price_book.code,
        "area_manager": str(partner.area_manager_id or ""),
        "payment_terms_days": partner.payment_terms_days,
        "credit_limit": partner.credit_limit,
    }
    form = PartnerForm(request.POST if request.POST.get("form") == "partner" else None, initial=initial)
    invite = InviteForm(request.POST if request.POST.get("form") == "invite" else None)
    if request.method == "POST":
        actor.require_staff("vendor_admin")
        try:
            if form.is_bound and form.is_valid():
                back_office.partner_update(actor=actor, partner_id=partner.pk, **form.cleaned_data)
                messages.success(request, _("Partner saved."))
                return redirect("accounts:staff_partner", partner_id=partner.pk)
            if invite.is_bound and invite.is_valid():
                partner_users.invite(actor=actor, partner_id=partner.pk, **invite.cleaned_data)
                messages.success(
                    request, _("Invitation sent to %(email)s.") % {"email": invite.cleaned_data["email"]}
                )
                return redirect("accounts:staff_partner", partner_id=partner.pk)
        except ApplicationError as exc:
            form_error(form if form.is_bound else invite, exc)
    return render(
        request,
        "accounts/staff_partner_form.html",
        {
            "form": form,
            "invite": invite,
            "partner": partner,
            "users": selectors.partner_user_list(actor=actor, partner_id=partner.pk),
            "invitations": selectors.invitation_list(actor=actor, partner_id=partner.pk),
            "role_form": RoleForm(),
        },
        status=400 if form.errors or invite.errors else 200,
    )
