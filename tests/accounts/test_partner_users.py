"""A partner's users (R-UI-1): an admin invites by email (the link sets the password), changes
roles, deactivates; the last admin cannot remove themselves; every change is audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from pbxportal.accounts import partner_users
from pbxportal.accounts.models import Partner, PartnerRole, User
from pbxportal.common.actor import Actor
from pbxportal.common.errors import Conflict, Forbidden, NotFound
from pbxportal.common.models import AuditEvent

NEW_PASSWORD = "a-long-new-password-42"


def _link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/invitation/[^/\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def test_admin_invites_a_user_who_sets_a_password_and_logs_in_with_the_role(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a partner admin on the users page
    admin = client_for(user_a)
    # when they invite an address as technician
    response = admin.post("/users/", {"email": "Tech@Example.com", "role": "technician"})
    assert response.status_code == 302
    # then one mail with a link goes to the address
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["tech@example.com"]
    link = _link(mail.outbox[0])
    # when the invitee opens the link and chooses a username and password
    invitee = Client()
    assert invitee.get(link).status_code == 200
    response = invitee.post(link, {"username": "tech1", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    # then they log in with it, as a technician of the partner, with a verified address
    response = invitee.post("/login/", {"login": "tech1", "password": NEW_PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(username="tech1")
    assert (user.partner_id, user.partner_role) == (user_a.partner_id, PartnerRole.TECHNICIAN)
    assert EmailAddress.objects.get(user=user).verified
    # and the link works once only
    assert Client().get(link).status_code == 404
    # and both steps are in the partner's audit trail
    actions = list(AuditEvent.objects.filter(partner_id=user_a.partner_id).values_list("action", flat=True))
    assert "user.invited" in actions and "user.joined" in actions


def test_a_weak_password_or_a_taken_username_is_refused_on_the_form(user_a: User) -> None:
    _, link = partner_users.invite(actor=Actor(user=user_a), email="new@example.com", role="sales")
    path = link.split("testserver")[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    client = Client()
    weak = client.post(path, {"username": "newbie", "password1": "short", "password2": "short"})
    assert weak.status_code == 400 and b"password" in weak.content.lower()
    taken = client.post(
        path, {"username": user_a.username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert taken.status_code == 400 and b"is taken" in taken.content
    assert not User.objects.filter(username="newbie").exists()


def test_an_expired_invitation_is_refused(user_a: User) -> None:
    _, link = partner_users.invite(actor=Actor(user=user_a), email="late@example.com", role="sales")
    token = link.rstrip("/").rsplit("/", 1)[1]
    later = timezone.now() + timedelta(days=partner_users.INVITATION_DAYS, seconds=1)
    with time_machine.travel(later), pytest.raises(NotFound):
        partner_users.accept(token=token, username="late", password=NEW_PASSWORD)


def test_only_admins_manage_users(make_user: Callable[..., User], partner_a: Partner) -> None:
    sales = make_user(partner_a, role=PartnerRole.SALES)
    with pytest.raises(Forbidden):
        partner_users.invite(actor=Actor(user=sales), email="x@example.com", role="sales")
    client = Client()
    client.force_login(sales)
    assert client.get("/users/").status_code == 403


def test_change_role_and_deactivate_are_audited_with_before_and_after(
    user_a: User, make_user: Callable[..., User], partner_a: Partner, client_for: Callable[[User], Client]
) -> None:
    # given an admin and a sales user of the same partner
    sales = make_user(partner_a, role=PartnerRole.SALES)
    admin = client_for(user_a)
    # when the admin makes them billing, then deactivates them
    assert admin.post(f"/users/{sales.pk}/role/", {"role": "billing"}).status_code == 302
    assert admin.post(f"/users/{sales.pk}/active/").status_code == 302
    sales.refresh_from_db()
    # then the user is billing and inactive, cannot log in, and both changes are in the trail
    assert (sales.partner_role, sales.is_active) == ("billing", False)
    gone = Client()
    response = gone.post("/login/", {"login": sales.username, "password": "correct-horse-battery"})
    assert response["Location"] == "/inactive/"
    assert gone.get("/customers/").status_code == 302  # to the login page: no session
    role_event = AuditEvent.objects.get(action="user.role_changed", object_id=str(sales.pk))
    assert role_event.data == {"username": sales.username, "before": "sales", "after": "billing"}
    assert role_event.actor_id == user_a.pk and role_event.partner_id == partner_a.pk
    assert AuditEvent.objects.filter(action="user.deactivated", object_id=str(sales.pk)).exists()


def test_the_last_admin_cannot_remove_themselves(
    user_a: User, make_user: Callable[..., User], partner_a: Partner, client_for: Callable[[User], Client]
) -> None:
    # given the only admin of a partner
    actor = Actor(user=user_a)
    # when they try to deactivate themselves or give up the admin role / then refused (409)
    with pytest.raises(Conflict) as refused:
        partner_users.deactivate(actor=actor, user_id=user_a.pk)
    assert refused.value.code == "last_admin"
    with pytest.raises(Conflict):
        partner_users.change_role(actor=actor, user_id=user_a.pk, role="sales")
    page = client_for(user_a).post(f"/users/{user_a.pk}/active/")
    assert page.status_code == 409 and b"last admin" in page.content
    user_a.refresh_from_db()
    assert user_a.is_active and user_a.partner_role == "admin"
    # when a second admin exists / then the first may step down
    make_user(partner_a, role=PartnerRole.ADMIN)
    assert partner_users.change_role(actor=actor, user_id=user_a.pk, role="sales").partner_role == "sales"


def test_an_admin_cannot_touch_another_partners_users(user_a: User, user_b: User) -> None:
    with pytest.raises(NotFound):
        partner_users.deactivate(actor=Actor(user=user_a), user_id=user_b.pk)
    user_b.refresh_from_db()
    assert user_b.is_active


def test_partner_admin_requires_mfa_for_all_users(user_a: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(user_a)
    assert client.post("/users/mfa/", {"required": "1"}).status_code == 302
    assert Partner.objects.get(pk=user_a.partner_id).mfa_required
    assert AuditEvent.objects.filter(action="partner.mfa_required", partner_id=user_a.partner_id).exists()
    # from now on their pages send them to the TOTP set-up first
    assert client.get("/customers/")["Location"] == "/2fa/totp/activate/"
