"""Pages of a partner's users (partner admin): invite, change role, deactivate, require MFA; and the
public page of an invitation link that sets the password. Thin: services act, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.accounts import partner_users, selectors
from pbxportal.accounts.forms import AcceptInvitationForm, InviteForm, RoleForm
from pbxportal.common.errors import ApplicationError, Forbidden
from pbxportal.common.views import actor_of, form_error, portal_view


@portal_view
def users(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not actor.is_partner or actor.partner_role != "admin":
        raise Forbidden("The users page is for a partner's admins.")
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _link = partner_users.invite(actor=actor, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("accounts:users")
    return render(
        request,
        "accounts/users.html",
        {
            "form": form,
            "users": selectors.partner_user_list(actor=actor),
            "invitations": selectors.invitation_list(actor=actor),
            "role_form": RoleForm(),
            "partner": actor.user.partner,
        },
        status=400 if form.errors else 200,
    )


@portal_view
@require_POST
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    role = form.cleaned_data["role"] if form.is_valid() else request.POST.get("role", "")
    user = partner_users.change_role(actor=actor_of(request), user_id=user_id, role=role)
    messages.success(
        request,
        _("%(username)s is now %(role)s.")
        % {"username": user.username, "role": user.get_partner_role_display()},
    )
    return redirect(request.POST.get("back") or "accounts:users")


@portal_view
@require_POST
def user_active(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = actor_of(request)
    if request.POST.get("active") == "1":
        user = partner_users.reactivate(actor=actor, user_id=user_id)
    else:
        user = partner_users.deactivate(actor=actor, user_id=user_id)
    messages.success(
        request,
        (_("%(username)s reactivated.") if user.is_active else _("%(username)s deactivated."))
        % {"username": user.username},
    )
    return redirect(request.POST.get("back") or "accounts:users")


@portal_view
@require_POST
def partner_mfa(request: HttpRequest) -> HttpResponse:
    partner = partner_users.set_mfa_required(
        actor=actor_of(request), required=request.POST.get("required") == "1"
    )
    messages.success(
        request,
        _("Two-factor authentication is now required for all users.")
        if partner.mfa_required
        else _("Two-factor authentication is optional."),
    )
    return redirect("accounts:users")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = partner_users.invitation_for(token)
    except ApplicationError as exc:
        return render(request, "common/error.html", {"error": exc}, status=exc.status)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner_users.accept(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
        except ApplicationError as exc:
            form_error(form, exc)
            if "password" in exc.fields:
                form.add_error("password1", exc.message)
        else:
            messages.success(request, _("Your account is ready: log in with your username and password."))
            return redirect("accounts:login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if form.errors else 200,
    )
