"""Idempotency keys (R-API-2), as the shared middleware common/idempotency.py answers them:
the same key and body return the first answer; the same key with another body is a 409."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from pbxportal.accounts import services
from pbxportal.accounts.models import Customer, PartnerRole, User
from pbxportal.common.idempotency import MAX_KEY_LENGTH
from pbxportal.common.models import IdempotencyRecord

URL = "/api/v1/customers"
BODY = {"name": "Idempotent Srl", "country": "IT"}


def _post(client: Client, body: dict[str, Any], key: str | None, **headers: str) -> Any:
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def test_same_key_and_body_return_the_first_answer_byte_for_byte(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a customer created with an idempotency key
    client = client_for(user_a)
    first = _post(client, BODY, "key-1")
    assert first.status_code == 201
    # when the same request is sent again with the same key
    again = _post(client, BODY, "key-1")
    # then the first answer comes back, byte for byte, marked as a replay, and one customer exists
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1


def test_without_a_key_a_retry_is_a_new_request(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given no key / when the same creation is sent twice / then the second is refused as a duplicate
    client = client_for(user_a)
    assert _post(client, BODY, None).status_code == 201
    assert _post(client, BODY, None).status_code == 409
    assert not IdempotencyRecord.objects.exists()


def test_same_key_with_another_body_is_a_409_r_api_2(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a request sent with a key
    client = client_for(user_a)
    assert _post(client, BODY, "key-1").status_code == 201
    # when the key is reused with another body
    response = _post(client, {**BODY, "name": "Another Srl"}, "key-1")
    # then 409 in the error shape naming R-API-2, and nothing else created
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["rule"] == "R-API-2"
    assert "Idempotency-Key" in error["fields"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["Idempotent Srl"]


def test_same_key_on_another_path_is_a_409(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a key used to create a customer
    client = client_for(user_a)
    assert _post(client, BODY, "key-1").status_code == 201
    # when the same key is sent to another endpoint / then it is another request: 409
    response = client.post(
        "/api/v1/billing-contacts",
        {"name": "Accounts", "email": "a@a.example"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )
    assert response.status_code == 409
    assert response.json()["error"]["rule"] == "R-API-2"


def test_keys_are_per_caller(
    make_user: Callable[..., User], user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given two users of the same partner
    other = make_user(user_a.partner, role=PartnerRole.SALES)
    # when each sends its own request with the same key
    mine = _post(client_for(user_a), BODY, "shared-key")
    theirs = _post(client_for(other), {**BODY, "name": "Theirs Srl"}, "shared-key")
    # then both are served on their own: two customers, no conflict
    assert mine.status_code == 201
    assert theirs.status_code == 201
    assert Customer.objects.count() == 2


def test_keys_are_per_token(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given two API tokens of the same user
    session = client_for(user_a)
    tokens = [
        session.post("/api/v1/api-tokens", {"name": n}, content_type="application/json").json()["token"]
        for n in ("one", "two")
    ]
    # when each token sends a request with the same key / then neither sees the other's answer
    first = _post(Client(), BODY, "k", HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    second = _post(Client(), {**BODY, "name": "Second Srl"}, "k", HTTP_AUTHORIZATION=f"Bearer {tokens[1]}")
    assert (first.status_code, second.status_code) == (201, 201)
    # and a replay through the first token still answers the first answer
    replay = _post(Client(), BODY, "k", HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    assert replay.content == first.content


@pytest.mark.parametrize("key", ["", "k" * (MAX_KEY_LENGTH + 1)])
def test_an_empty_or_over_long_key_is_a_400(
    user_a: User, client_for: Callable[[User], Client], key: str
) -> None:
    # given a key that is empty or longer than the limit / when sent
    response = _post(client_for(user_a), BODY, key)
    # then 400 in the error shape, and the request was not run
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["rule"] == "R-API-2"
    assert "Idempotency-Key" in error["fields"]
    assert not Customer.objects.exists()


def test_a_key_of_the_maximum_length_is_accepted(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a key of exactly the limit / when sent / then served
    assert _post(client_for(user_a), BODY, "k" * MAX_KEY_LENGTH).status_code == 201


def test_an_error_answer_is_replayed_too(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a request with a key that was refused (a duplicate name)
    client = client_for(user_a)
    _post(client, BODY, None)
    refused = _post(client, BODY, "key-2")
    assert refused.status_code == 409
    # when it is retried with the same key after the conflict was removed
    Customer.objects.all().delete()
    again = _post(client, BODY, "key-2")
    # then the first answer stands: a key names one request and its one outcome
    assert again.status_code == 409
    assert again.content == refused.content
    assert not Customer.objects.exists()


def test_a_crashed_first_request_frees_the_key(
    user_a: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a first request that crashes inside the service
    client = client_for(user_a)

    def crash(**kwargs: Any) -> Customer:
        raise RuntimeError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr(services, "customer_create", crash)
        crashed = _post(client, BODY, "key-3")
    # then it answers a 500 in the error shape (R-API-1), logged, not an HTML page
    assert crashed.status_code == 500 and crashed.json()["error"]["code"] == "server_error"
    # when the client retries with the same key
    response = _post(client, BODY, "key-3")
    # then the retry runs (nothing was kept for the crash) and creates the customer once
    assert response.status_code == 201
    assert Customer.objects.count() == 1


def test_gets_and_pages_ignore_the_header(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a key on a GET and on a page form post
    client = client_for(user_a)
    assert client.get(URL, HTTP_IDEMPOTENCY_KEY="").status_code == 200
    page = client.post("/customers/new/", {"name": "Page Srl", "country": "IT"}, HTTP_IDEMPOTENCY_KEY="p")
    # then neither is recorded
    assert page.status_code == 302
    assert not IdempotencyRecord.objects.exists()
