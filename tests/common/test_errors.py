"""One error shape for every API refusal (R-API-1):
``{"error": {"code": "...", "message": "...", "rule": "R-…" or null, "fields": {...}}}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from pbxportal.accounts.models import Customer, User
from pbxportal.common.errors import ApplicationError, Conflict, Forbidden, NotFound, RuleViolation


def _error(response: Any) -> dict[str, Any]:
    """The error of a response, checked to be exactly the one shape."""
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "rule", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert error["rule"] is None or error["rule"].startswith("R-")
    assert isinstance(error["fields"], dict)
    return dict(error)


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/api/v1/me"), ("get", "/api/v1/customers"), ("post", "/api/v1/customers")],
)
def test_401_without_credentials(db: Any, method: str, url: str) -> None:
    # given no session and no token / when an API route is called
    response = getattr(Client(), method)(url, content_type="application/json")
    # then 401 in the error shape
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_401_for_a_malformed_authorization_header(db: Any) -> None:
    # given a header that is not a bearer token / when /me is called / then 401 in the shape
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_404_for_an_id_that_does_not_exist(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a partner user / when a missing customer is read / then 404 in the shape
    response = client_for(user_a).get("/api/v1/customers/987654321")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_404_for_another_partners_id_is_the_same_answer_r_ten_1(
    user_a: User, customer_b: Customer, client_for: Callable[[User], Client]
) -> None:
    # given a customer of partner B / when partner A reads it
    client = client_for(user_a)
    theirs = client.get(f"/api/v1/customers/{customer_b.pk}")
    missing = client.get("/api/v1/customers/987654321")
    # then the answer is the 404 of an id that does not exist, word for word
    assert theirs.status_code == 404
    assert _error(theirs) == _error(missing)


def test_404_for_an_unknown_api_path(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a logged-in user / when an API path that does not exist is called / then 404 in the shape
    response = client_for(user_a).get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_422_names_the_missing_field(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a customer without a name / when it is posted
    response = client_for(user_a).post(
        "/api/v1/customers", {"country": "IT"}, content_type="application/json"
    )
    # then 422 naming the field
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["name"]
    assert "name" in error["message"]


def test_422_names_each_field_of_the_wrong_type(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given fields of the wrong type / when posted / then each is named
    response = client_for(user_a).post(
        "/api/v1/customers", {"name": 5, "country": ["IT"]}, content_type="application/json"
    )
    assert response.status_code == 422
    assert set(_error(response)["fields"]) == {"name", "country"}


def test_422_names_a_bad_path_parameter(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a non-numeric id / when read / then 422 naming the path parameter
    response = client_for(user_a).get("/api/v1/customers/abc")
    assert response.status_code == 422
    assert list(_error(response)["fields"]) == ["customer_id"]


def test_400_for_a_body_that_is_not_json(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a body that does not parse / when posted / then 400 in the shape
    response = client_for(user_a).post("/api/v1/customers", "{oops", content_type="application/json")
    assert response.status_code == 400
    _error(response)


def test_409_for_a_duplicate(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a customer / when another with the same name is created / then 409 naming the field
    client = client_for(user_a)
    body = {"name": "Twice Srl", "country": "IT"}
    assert client.post("/api/v1/customers", body, content_type="application/json").status_code == 201
    response = client.post("/api/v1/customers", body, content_type="application/json")
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "conflict"
    assert error["fields"] == {"name": "duplicate"}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ApplicationError("bad"), 400, "invalid"),
        (RuleViolation("no lifetime for cloud PBXs", rule="R-PBX-2"), 422, "rule_violation"),
        (NotFound(), 404, "not_found"),
        (Forbidden("staff only"), 403, "forbidden"),
        (Conflict("twice", fields={"name": "duplicate"}), 409, "conflict"),
        (ApplicationError("late", code="too_late", status=409, rule="R-PBX-6"), 409, "too_late"),
    ],
)
def test_application_errors_carry_status_code_rule_and_fields(
    error: ApplicationError, status: int, code: str
) -> None:
    # given a service refusal / when it is turned into the API body / then the shape, status and rule
    assert error.status == status
    body = error.as_dict()
    assert body == {
        "error": {"code": code, "message": error.message, "rule": error.rule, "fields": error.fields}
    }
