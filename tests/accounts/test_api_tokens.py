"""API tokens (R-API-1): shown once, stored as a SHA-256 digest, bearer auth, revocation; scopes
(read-only refused on writes), expiry, last use; staff service tokens."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.test import Client

from pbxportal.accounts.models import ApiToken, User


def _create_token_on_the_page(client: Client, name: str = "crm") -> str:
    response = client.post("/api-tokens/", {"name": name})
    assert response.status_code == 200
    match = re.search(rb'id="new-token">([^<]+)<', response.content)
    assert match, "the new token is shown on the page"
    return match.group(1).decode()


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_token_is_shown_once_and_stored_only_as_its_sha256(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a partner admin on the API tokens page
    client = client_for(user_a)
    # when they create a token
    clear = _create_token_on_the_page(client)
    # then the page showed it once: the next visit lists the token without its secret
    again = client.get("/api-tokens/")
    assert again.status_code == 200
    assert clear.encode() not in again.content
    assert b"crm" in again.content
    # and the database holds its SHA-256 digest, never the clear token in any column
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(clear.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(clear in str(value) for value in row.values())


def test_token_created_through_the_api_is_returned_once(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a partner admin with a session
    client = client_for(user_a)
    # when they create a token through the API
    response = client.post("/api/v1/api-tokens", {"name": "erp"}, content_type="application/json")
    # then the answer carries the clear token, and the list never does
    assert response.status_code == 201
    clear = response.json()["token"]
    assert clear.startswith("pbxp_")
    listed = client.get("/api/v1/api-tokens")
    assert listed.status_code == 200
    assert clear not in listed.content.decode()
    assert [t["prefix"] for t in listed.json()] == [clear[:12]]


def test_bearer_token_authenticates_on_me(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a token created by a partner user
    clear = _create_token_on_the_page(client_for(user_a))
    # when another client (no session) calls /api/v1/me with it
    response = Client().get("/api/v1/me", **_bearer(clear))
    # then it acts as that user, and the token's last use is recorded
    assert response.status_code == 200
    assert response.json() == {
        "username": user_a.username,
        "partner_id": user_a.partner_id,
        "partner_role": "admin",
        "staff_role": "",
    }
    assert ApiToken.objects.get().last_used_at is not None


def test_revoked_token_answers_401_in_the_error_shape(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a token that worked, then was revoked on the page
    session = client_for(user_a)
    clear = _create_token_on_the_page(session)
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 200
    token = ApiToken.objects.get()
    assert session.post(f"/api-tokens/{token.pk}/revoke/").status_code == 302
    # when it is used again
    response = Client().get("/api/v1/me", **_bearer(clear))
    # then 401 in the one error shape
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "unauthorized",
            "message": "Authentication required: a bearer API token or a portal session.",
            "rule": None,
            "fields": {},
        }
    }


def test_an_unknown_token_is_refused(db: object) -> None:
    # given a token that was never issued / when it is used / then 401
    response = Client().get("/api/v1/me", **_bearer("pbxp_" + "x" * 43))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_token_of_a_deactivated_user_is_refused(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a token whose user was then deactivated
    clear = _create_token_on_the_page(client_for(user_a))
    User.objects.filter(pk=user_a.pk).update(is_active=False)
    # when it is used / then 401
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 401


def test_only_partner_admins_create_tokens(
    make_user: Callable[..., User], user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a partner user with the sales role
    sales = make_user(user_a.partner, role="sales")
    # when they try to create a token through the API
    response = client_for(sales).post("/api/v1/api-tokens", {"name": "x"}, content_type="application/json")
    # then 403 in the error shape, and no token exists
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not ApiToken.objects.exists()


def test_read_only_token_reads_but_a_write_is_refused_with_403_in_the_error_shape(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a read-only token created on the page
    response = client_for(user_a).post("/api-tokens/", {"name": "reporting", "scope": "read"})
    clear = re.search(rb'id="new-token">([^<]+)<', response.content).group(1).decode()  # type: ignore[union-attr]
    assert ApiToken.objects.get(name="reporting").scope == "read"
    # when it reads / then it is answered
    assert Client().get("/api/v1/customers", **_bearer(clear)).status_code == 200
    # when it writes / then 403 in the one error shape, and nothing is created
    response = Client().post(
        "/api/v1/customers",
        {"name": "Nope", "country": "IT"},
        content_type="application/json",
        **_bearer(clear),
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "read_only_token",
            "message": "This API token is read-only: POST needs a read-write token.",
            "rule": None,
            "fields": {},
        }
    }
    assert not user_a.partner.customers.filter(name="Nope").exists()  # type: ignore[union-attr]


def test_read_write_token_writes(user_a: User) -> None:
    from pbxportal.accounts.services import api_token_create
    from pbxportal.common.actor import Actor

    _, clear = api_token_create(actor=Actor(user=user_a), name="erp", scope="write")
    response = Client().post(
        "/api/v1/customers",
        {"name": "Yes", "country": "IT"},
        content_type="application/json",
        **_bearer(clear),
    )
    assert response.status_code == 201


def test_an_expired_token_no_longer_authenticates(user_a: User) -> None:
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from pbxportal.accounts.services import api_token_create
    from pbxportal.common.actor import Actor

    token, clear = api_token_create(actor=Actor(user=user_a), name="temp", expires_in_days=30)
    assert token.expires_at is not None
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=1)):
        response = Client().get("/api/v1/me", **_bearer(clear))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_last_use_is_recorded_and_shown(user_a: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(user_a)
    clear = _create_token_on_the_page(client)
    assert b"never" in client.get("/api-tokens/").content
    Client().get("/api/v1/me", **_bearer(clear))
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    assert token.last_used_at.strftime("%Y-%m-%d %H:%M").encode() in client.get("/api-tokens/").content


def test_staff_service_token_acts_with_the_staff_role(
    vendor_admin: User, user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a vendor admin creating a read-only service token on their tokens page
    response = client_for(vendor_admin).post(
        "/api-tokens/", {"name": "bi", "scope": "read", "expires_in_days": "90"}
    )
    assert response.status_code == 200
    clear = re.search(rb'id="new-token">([^<]+)<', response.content).group(1).decode()  # type: ignore[union-attr]
    token = ApiToken.objects.get(name="bi")
    assert token.partner_id is None and token.is_service
    # when the integration calls the API / then it acts as that staff user: all partners visible
    me = Client().get("/api/v1/me", **_bearer(clear)).json()
    assert me["staff_role"] == "vendor_admin" and me["partner_id"] is None
    partners = Client().get("/api/v1/partners", **_bearer(clear))
    assert partners.status_code == 200 and user_a.partner_id in [p["id"] for p in partners.json()]
    # and a partner never sees service tokens in its list
    assert b"<td>bi</td>" in client_for(vendor_admin).get("/api-tokens/").content
    assert b"<td>bi</td>" not in client_for(user_a).get("/api-tokens/").content


def test_bad_scope_or_expiry_is_a_400_naming_the_field(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user_a)
    bad = client.post("/api/v1/api-tokens", {"name": "x", "scope": "admin"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"scope": "invalid"}
    bad = client.post(
        "/api/v1/api-tokens", {"name": "x", "expires_in_days": 0}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"expires_in_days": "invalid"}
