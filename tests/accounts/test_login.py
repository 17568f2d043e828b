"""Login, lock-out after repeated failures, argon2 password hashes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from pbxportal.accounts.models import LoginThrottle, Partner, User
from tests.conftest import PASSWORD


def _login(client: Client, username: str, password: str) -> int:
    return client.post("/login/", {"username": username, "password": password}).status_code


def test_login_with_the_right_password_opens_the_dashboard(user_a: User) -> None:
    # given a partner user and a fresh browser
    client = Client()
    # when they log in with their password
    response = client.post("/login/", {"username": user_a.username, "password": PASSWORD})
    # then they are sent to their dashboard and the session is theirs
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert int(client.session["_auth_user_id"]) == user_a.pk


def test_staff_login_lands_on_the_staff_area(vendor_admin: User) -> None:
    # given a vendor admin / when they log in
    response = Client().post("/login/", {"username": vendor_admin.username, "password": PASSWORD})
    # then the staff area is where they land
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/staff/"


def test_wrong_password_is_refused(user_a: User) -> None:
    # given a partner user
    client = Client()
    # when the password is wrong
    response = client.post("/login/", {"username": user_a.username, "password": "not-the-password"})
    # then the login page answers 401 with the reason and no session is opened
    assert response.status_code == 401
    assert b"Wrong username or password" in response.content
    assert "_auth_user_id" not in client.session


def test_lock_out_after_max_failures_even_with_the_right_password(user_a: User) -> None:
    # given LOGIN_MAX_FAILURES wrong passwords in a row
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert _login(client, user_a.username, "wrong-password-123") == 401
    # when the right password comes next
    response = client.post("/login/", {"username": user_a.username, "password": PASSWORD})
    # then the account is locked: refused, and the page says so
    assert response.status_code == 401
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session
    assert LoginThrottle.objects.get(username=user_a.username).locked_until is not None


def test_failures_below_the_limit_do_not_lock(user_a: User) -> None:
    # given one failure fewer than the limit
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        _login(client, user_a.username, "wrong-password-123")
    # when the right password comes / then the login works
    assert _login(client, user_a.username, PASSWORD) == 302


def test_lock_out_is_per_username_whatever_the_case(user_a: User) -> None:
    # given failures spread over spellings of the same username
    client = Client()
    for i in range(settings.LOGIN_MAX_FAILURES):
        name = user_a.username.upper() if i % 2 else user_a.username
        _login(client, name, "wrong-password-123")
    # then the account is locked for its real spelling too
    assert _login(client, user_a.username, PASSWORD) == 401


def test_lock_out_ends_after_the_lockout_time(user_a: User) -> None:
    # given a locked account
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _login(client, user_a.username, "wrong-password-123")
    # when LOGIN_LOCKOUT_MINUTES have passed
    later = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=1)
    with time_machine.travel(later, tick=False):
        # then the right password opens the session again
        assert _login(client, user_a.username, PASSWORD) == 302


def test_passwords_are_stored_as_argon2_hashes(make_user: Callable[..., User], partner_a: Partner) -> None:
    # given a user created with a password
    user = make_user(partner_a)
    # when the stored value is read back from the database
    stored = User.objects.values_list("password", flat=True).get(pk=user.pk)
    # then it is an argon2id hash, never the clear password
    assert stored.startswith("argon2$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize("method", ["get", "post"])
def test_logout_needs_a_post(user_a: User, client_for: Callable[[User], Client], method: str) -> None:
    # given a logged-in user
    client = client_for(user_a)
    # when they log out with GET or POST
    response = getattr(client, method)("/logout/")
    # then only POST logs out (a link cannot log someone out)
    if method == "get":
        assert response.status_code == 405
        assert client.get("/customers/").status_code == 200
    else:
        assert response.status_code == 302
        assert client.get("/customers/").status_code == 302


def test_production_settings_hash_with_argon2_first() -> None:
    # given the settings module as deployed (tests swap in a cheaper argon2)
    from pbxportal.config import settings as deployed

    # then new passwords are hashed with Django's argon2 hasher; PBKDF2 only verifies old hashes
    assert deployed.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
