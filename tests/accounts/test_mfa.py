"""MFA with django-allauth: TOTP and recovery codes, required for staff (STAFF_MFA_REQUIRED),
optional for partner users unless their partner requires it (Partner.mfa_required)."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client

from pbxportal.accounts.models import Partner, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.staff_mfa


def _with_totp(user: User) -> pyotp.TOTP:
    secret = pyotp.random_base32()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return pyotp.TOTP(secret)


def test_staff_without_totp_are_sent_to_set_it_up(
    vendor_admin: User, client_for: Callable[[User], Client]
) -> None:
    # given a vendor admin without an authenticator
    client = client_for(vendor_admin)
    # when they open a staff page / then they are sent to the TOTP set-up
    response = client.get("/staff/partners/")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/totp/activate/"
    # and the API refuses their session in the error shape
    api = client.get("/api/v1/me")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "mfa_required"


def test_staff_with_totp_pass(vendor_admin: User, client_for: Callable[[User], Client]) -> None:
    _with_totp(vendor_admin)
    assert client_for(vendor_admin).get("/staff/partners/").status_code == 200


def test_partner_users_may_skip_mfa_unless_their_partner_requires_it(
    user_a: User, partner_a: Partner, client_for: Callable[[User], Client]
) -> None:
    # given a partner user without an authenticator / then their pages open
    client = client_for(user_a)
    assert client.get("/customers/").status_code == 200
    # when the partner requires MFA / then they are sent to set it up
    Partner.objects.filter(pk=partner_a.pk).update(mfa_required=True)
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/totp/activate/"


def test_activating_totp_with_a_code_then_the_next_login_asks_for_one(user_a: User) -> None:
    # given a partner user logged in with their password
    client = Client()
    assert client.post("/login/", {"login": user_a.username, "password": PASSWORD}).status_code == 302
    # when they activate TOTP (confirming their password first) with the secret shown and a code
    # computed from it
    response = client.get("/2fa/totp/activate/")
    assert response["Location"] == "/reauthenticate/?next=%2F2fa%2Ftotp%2Factivate%2F"
    assert client.post(response["Location"], {"password": PASSWORD}).status_code == 302
    page = client.get("/2fa/totp/activate/")
    secret = page.context["form"].secret
    response = client.post("/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user_a, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user_a, type=Authenticator.Type.RECOVERY_CODES).exists()
    client.post("/logout/")
    # then the password alone no longer opens a session: a code is asked for
    response = client.post("/login/", {"login": user_a.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/2fa/authenticate/"
    assert client.get("/customers/").status_code == 302
    # a wrong code is refused, the right one lands on the dashboard
    assert client.post("/2fa/authenticate/", {"code": "000000"}).status_code == 200
    response = client.post("/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/customers/").status_code == 200


def test_a_recovery_code_works_once(user_a: User) -> None:
    # given a user with TOTP and recovery codes
    _with_totp(user_a)
    code = RecoveryCodes(Authenticator.objects.get(user=user_a, type="recovery_codes")).get_unused_codes()[0]
    client = Client()
    client.post("/login/", {"login": user_a.username, "password": PASSWORD})
    # when a recovery code is given instead of a TOTP code / then it opens the session
    assert client.post("/2fa/authenticate/", {"code": code})["Location"] == "/dashboard/"
    client.post("/logout/")
    # and the same code is refused the second time
    client.post("/login/", {"login": user_a.username, "password": PASSWORD})
    assert client.post("/2fa/authenticate/", {"code": code}).status_code == 200
    assert client.get("/customers/").status_code == 302


def test_api_token_requests_are_not_affected_by_the_session_mfa_check(
    make_user: Callable[..., User], partner_a: Partner
) -> None:
    # given a partner that requires MFA and a token of one of its users (tokens are their own factor)
    from pbxportal.accounts.services import api_token_create
    from pbxportal.common.actor import Actor

    user = make_user(partner_a)
    _, clear = api_token_create(actor=Actor(user=user), name="erp")
    Partner.objects.filter(pk=partner_a.pk).update(mfa_required=True)
    # when the token calls the API / then it is answered
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert response.status_code == 200
