"""Partner API tokens (R-API-1): shown once, stored as a SHA-256 digest, bearer auth, revocation."""

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
