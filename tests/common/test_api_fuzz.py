"""Schemathesis over the whole OpenAPI document (issue 13, R-API-1): every operation, cases generated
from its schema (valid and invalid bodies, queries and path ids), sent authenticated as a partner
with a PBX, a customer and invoices. Fails on any 5xx and on any error answer outside the one
error shape. Runs on SQLite and on PostgreSQL (``make test`` runs both).

Cases are derandomized (the same every run) and bounded per operation, so the run is stable and
takes about a minute; the suite asserts that at least ``MIN_CASES`` cases were sent in all.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pbxportal.accounts.services import api_token_create
from pbxportal.config.urls import api
from tests.pbx.builders import World

# Real autocommit, as in the server: a refused statement must not poison the cases after it.
pytestmark = pytest.mark.django_db(transaction=True)

CASES_PER_OPERATION = 16
MIN_CASES = 1000
DAY = date(2024, 3, 4)


def _shape_problem(status: int, content_type: str, body: bytes) -> str | None:
    if status >= 500:
        return f"server error {status}: {body[:300]!r}"
    if status < 400:
        return None
    if not content_type.startswith("application/json"):
        return f"{status} answered as {content_type}: {body[:200]!r}"
    try:
        data = json.loads(body)
    except ValueError:
        return f"{status} with a body that is not JSON: {body[:200]!r}"
    error = data.get("error") if isinstance(data, dict) else None
    if set(data) != {"error"} or not isinstance(error, dict):
        return f"{status} outside the error shape: {data!r:.300}"
    if set(error) != {"code", "message", "rule", "fields"} or not isinstance(error["fields"], dict):
        return f"{status} outside the error shape: {data!r:.300}"
    if not (isinstance(error["code"], str) and error["code"] and isinstance(error["message"], str)):
        return f"{status} without a code or a message: {data!r:.300}"
    return None


def test_every_operation_answers_4xx_in_the_error_shape_never_5xx() -> None:
    # given a partner with a customer, a PBX (and its first invoice) and an API token
    with time_machine.travel(datetime.combine(DAY, time(10), tzinfo=UTC), tick=False):
        world = World()
        world.pbx(term="yearly", start=DAY)
    _, token = api_token_create(actor=world.actor, name="fuzz")
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = get_wsgi_application()
    problems: list[str] = []
    sent = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    # when every operation is called with generated cases
    for operation in operations:

        @settings(
            max_examples=CASES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def run(case: Any, data: Any) -> None:
            nonlocal sent
            sent += 1
            response = case.call(headers=headers)
            content_type = next(
                (", ".join(v) for k, v in response.headers.items() if k.lower() == "content-type"), ""
            )
            problem = _shape_problem(response.status_code, content_type, response.content)
            if problem:
                problems.append(f"{case.operation.label}: {problem}\n  {case.as_curl_command()}")

        run()
    # then no 5xx, every error in the shape, and enough cases to mean something
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:40])
    assert len(operations) >= 80
    assert sent >= MIN_CASES, f"only {sent} cases over {len(operations)} operations"
    print(f"schemathesis: {sent} cases over {len(operations)} operations, 0 bad answers")
