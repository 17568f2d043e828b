"""Login (django-allauth), throttling of failed logins (allauth's rate limits per username and per
client address, replacing the hand-written lock-out), argon2 password hashes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from pbxportal.accounts.models import Partner, User
from tests.conftest import PASSWORD


def _login(client: Client, username: str, password: str) -> int:
    return client.post("/login/", {"login": username, "password": password}).status_code


def test_login_with_the_right_password_opens_the_dashboard(user_a: User) -> None:
    # given a partner user and a fresh browser
    client = Client()
    # when they log in with their password
    response = client.post("/login/", {"login": user_a.username, "password": PASSWORD})
    # then they are sent to their dashboard and the session is theirs
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert int(client.session["_auth_user_id"]) == user_a.pk


def test_staff_login_lands_on_the_staff_area(vendor_admin: User) -> None:
    # given a vendor admin / when they log in
    response = Client().post("/login/", {"login": vendor_admin.username, "password": PASSWORD})
    # then the staff area is where they land
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/staff/"


def test_wrong_password_is_refused(user_a: User) -> None:
    # given a partner user
    client = Client()
    # when the password is wrong
    response = client.post("/login/", {"login": user_a.username, "password": "not-the-password"})
    # then the login page answers 401 with the reason and no session is opened
    assert response.status_code == 401
    assert b"username and/or password you specified are not correct" in response.content
    assert "_auth_user_id" not in client.session


def _key_limit() -> tuple[int, int]:
    """The per-username limit of LOGIN_FAILED_RATE_LIMIT: (attempts, seconds)."""
    from allauth.core.internal.ratelimit import parse_rates

    rate = next(r for r in parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed"]) if r.per == "key")
    return rate.amount, int(rate.duration)


def test_throttled_after_the_limit_even_with_the_right_password(user_a: User) -> None:
    # given as many wrong passwords in a row as the per-username limit allows
    client = Client()
    amount, _ = _key_limit()
    for _ in range(amount):
        assert _login(client, user_a.username, "wrong-password-123") == 401
    # when the right password comes next
    response = client.post("/login/", {"login": user_a.username, "password": PASSWORD})
    # then it is not evaluated: throttled (429), the page says so, no session
    assert response.status_code == 429
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_throttle(user_a: User) -> None:
    # given one failure fewer than the limit
    client = Client()
    amount, _ = _key_limit()
    for _ in range(amount - 1):
        _login(client, user_a.username, "wrong-password-123")
    # when the right password comes / then the login works
    assert _login(client, user_a.username, PASSWORD) == 302


def test_a_success_gives_its_slot_back(user_a: User) -> None:
    # given failures up to one below the limit, then a successful login (which takes no slot)
    client = Client()
    amount, _ = _key_limit()
    for _ in range(amount - 1):
        _login(client, user_a.username, "wrong-password-123")
    assert _login(client, user_a.username, PASSWORD) == 302
    client.post("/logout/")
    # when one more wrong password comes / then it is still evaluated (401), the next is throttled
    assert _login(client, user_a.username, "wrong-password-123") == 401
    assert _login(client, user_a.username, "wrong-password-123") == 429


def test_throttle_is_per_username_whatever_the_case(user_a: User) -> None:
    # given failures spread over spellings of the same username, from different addresses
    amount, _ = _key_limit()
    for i in range(amount):
        name = user_a.username.upper() if i % 2 else user_a.username
        Client(REMOTE_ADDR=f"10.0.0.{i + 1}").post("/login/", {"login": name, "password": "wrong-password-1"})
    # then the account is throttled for its real spelling too, from yet another address
    assert _login(Client(REMOTE_ADDR="10.0.1.1"), user_a.username, PASSWORD) == 429


def test_throttle_per_client_address_over_many_usernames(
    make_user: Callable[..., User], partner_a: Partner
) -> None:
    # given one address guessing passwords of many usernames (one try each)
    from allauth.core.internal.ratelimit import parse_rates

    ip_rate = next(r for r in parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed"]) if r.per == "ip")
    users = [make_user(partner_a) for _ in range(ip_rate.amount + 1)]
    client = Client(REMOTE_ADDR="192.0.2.7")
    codes = [_login(client, u.username, "wrong-password-123") for u in users]
    # then the address is throttled once its limit is spent, another address is not
    assert codes[: ip_rate.amount] == [401] * ip_rate.amount
    assert codes[-1] == 429
    assert _login(Client(REMOTE_ADDR="192.0.2.8"), users[-1].username, PASSWORD) == 302


def test_throttle_ends_after_the_period(user_a: User) -> None:
    # given a throttled username
    client = Client()
    amount, seconds = _key_limit()
    for _ in range(amount):
        _login(client, user_a.username, "wrong-password-123")
    assert _login(client, user_a.username, PASSWORD) == 429
    # when the period has passed (the counters are timestamps in the cache)
    later = timezone.now() + timedelta(seconds=seconds + 1)
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
    # when they open /logout/ (GET) or submit it (POST)
    response = getattr(client, method)("/logout/")
    # then only POST logs out: GET shows the confirmation form, so a link cannot log someone out
    if method == "get":
        assert response.status_code == 200
        assert b'method="post"' in response.content
        assert client.get("/customers/").status_code == 200
    else:
        assert response.status_code == 302
        assert client.get("/customers/").status_code == 302


def test_production_settings_hash_with_argon2_first() -> None:
    # given the settings module as deployed (tests swap in a cheaper argon2)
    from pbxportal.config import settings as deployed

    # then new passwords are hashed with Django's argon2 hasher; PBKDF2 only verifies old hashes
    assert deployed.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
