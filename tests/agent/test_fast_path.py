"""The PBX agent's fast paths in front of Django (R-EX-3 polling, R-VT-6 authorisation): an
unchanged licence is a 304 from one indexed query, a well-formed authorisation is the API's own
answer without Django's stack; everything else reaches the Django application, body intact."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from pbxportal.agent.wsgi import AUTHORIZE_PATH, AUTHORIZE_ROUTE, POLL_PATH, POLL_ROUTE, AgentFastPath
from pbxportal.common.timeutil import vendor_today
from pbxportal.ops import metrics
from pbxportal.pbx.models import Pbx
from pbxportal.voice import services
from pbxportal.voice.models import UsageMonth
from tests.agent.test_call_authorize import credential_for
from tests.expansions.builders import SoftwareWorld
from tests.voice.builders import AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld


class Recorder:
    """Stands for the Django application: records which requests reached it, and their bodies."""

    def __init__(self) -> None:
        self.reached: list[str] = []
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.reached.append(environ["PATH_INFO"])
        self.bodies.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        start_response("200 OK", [])
        return [b"django"]


def call(app: AgentFastPath, body: bytes = b"", **environ: str) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(response_headers)

    env: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": POLL_PATH, "wsgi.input": io.BytesIO(body)}
    env.update(environ)
    answer = b"".join(app(env, start_response))
    return seen["status"], seen["headers"], answer


def test_the_route_names_are_the_django_stacks() -> None:
    # the latency metric of a fast-path answer has the label the Django stack would give it
    assert resolve(POLL_PATH).view_name == POLL_ROUTE
    assert resolve(AUTHORIZE_PATH).view_name == AUTHORIZE_ROUTE


# --- Licence polls ----------------------------------------------------------------------------


@pytest.fixture
def polled(db: Any) -> tuple[str, str]:
    world = SoftwareWorld()
    pbx = world.pbx(name="hotel-one", start=vendor_today())
    client = Client()
    credential = client.post(
        "/api/v1/pbx-agent/activate", {"pbx_key": pbx.new_pbx_key}, content_type="application/json"
    ).json()["credential"]
    etag = client.get("/api/v1/pbx-agent/licence", headers={"Authorization": f"Bearer {credential}"})["ETag"]
    return credential, etag


def test_an_unchanged_licence_is_answered_before_django(polled: tuple[str, str]) -> None:
    credential, etag = polled
    django = Recorder()
    count = metrics.REQUEST_LATENCY.labels(route=POLL_ROUTE, method="GET", status="304")
    before = sum(bucket.get() for bucket in count._buckets)
    status, headers, _ = call(
        AgentFastPath(django), HTTP_AUTHORIZATION=f"Bearer {credential}", HTTP_IF_NONE_MATCH=etag
    )
    assert status == "304 Not Modified" and headers["ETag"] == etag
    assert django.reached == []
    assert sum(bucket.get() for bucket in count._buckets) == before + 1


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_IF_NONE_MATCH": '"stale"'},  # the licence changed: Django sends it
        {"HTTP_IF_NONE_MATCH": ""},  # no If-None-Match: first poll
        {"HTTP_AUTHORIZATION": "Bearer pbxa_unknown"},  # unknown credential: Django's 401
        {"HTTP_AUTHORIZATION": "Bearer pbxp_partner-token"},  # a partner token: Django's 401
    ],
)
def test_any_other_poll_reaches_django(polled: tuple[str, str], headers: dict[str, str]) -> None:
    credential, etag = polled
    django = Recorder()
    environ = {"HTTP_AUTHORIZATION": f"Bearer {credential}", "HTTP_IF_NONE_MATCH": etag, **headers}
    status, _, _ = call(AgentFastPath(django), **environ)
    assert status == "200 OK" and django.reached == [POLL_PATH]


# --- Call authorisation -----------------------------------------------------------------------

AT = datetime(2025, 3, 5, 9, tzinfo=UTC)


@pytest.fixture
def trunk(db: Any, settings: Any) -> tuple[Pbx, str]:
    settings.VOICE_CREDIT_LIMIT = "1.00"
    pbx = VoiceWorld().trunk_pbx(start=date(2025, 2, 3), users=1)
    return pbx, credential_for(pbx)


def authorize_environ(credential: str, body: bytes, **extra: str) -> dict[str, str]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": AUTHORIZE_PATH,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {credential}",
        **extra,
    }


def body(callee: str, at: datetime | str | None = AT) -> bytes:
    payload: dict[str, Any] = {"caller": "+390611111111", "callee": callee}
    if at is not None:
        payload["time"] = at if isinstance(at, str) else at.isoformat()
    return json.dumps(payload).encode()


@pytest.mark.parametrize("used", [False, True])
@pytest.mark.parametrize("callee", [IT_FIXED, AU_FIXED, UNKNOWN, "not a number"])
def test_an_authorisation_is_the_apis_own_answer_without_django(
    trunk: tuple[Pbx, str], callee: str, used: bool
) -> None:
    # given a month without usage, or with most of the pool and part of the credit used
    pbx, credential = trunk
    if used:
        UsageMonth.objects.create(
            pbx=pbx, month=date(2025, 3, 1), allowance_used=179_000, amount=Decimal("0.7")
        )
    # and the answer the API gives through Django's whole stack
    request = body(callee)
    through_django = Client().post(
        AUTHORIZE_PATH, request, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {credential}"
    )
    assert through_django.status_code == 200
    # when the fast path answers the same request
    django = Recorder()
    status, headers, answer = call(AgentFastPath(django), request, **authorize_environ(credential, request))
    # then Django was not reached and the answer is the same
    assert django.reached == []
    assert status == "200 OK" and headers["Content-Type"] == "application/json"
    assert json.loads(answer) == through_django.json()
    if callee == IT_FIXED:  # the usage read with the credential counts: 180000 s pool, 179000 used
        assert json.loads(answer)["allowance_seconds"] == (1000 if used else 180_000)
    assert int(headers["Content-Length"]) == len(answer)


def test_a_stopped_pbx_is_refused_on_the_fast_path_too(trunk: tuple[Pbx, str]) -> None:
    pbx, credential = trunk
    Pbx.objects.filter(pk=pbx.pk).update(status="stopped")
    services._states.clear()
    request = body(IT_FIXED)
    status, _, answer = call(AgentFastPath(Recorder()), request, **authorize_environ(credential, request))
    assert status == "200 OK"
    assert json.loads(answer)["reason"] == "the PBX is not active (stopped)"


@pytest.mark.parametrize(
    ("request_body", "credential", "extra"),
    [
        (body(IT_FIXED, at=None), None, {}),  # no time: the API fills it in
        (body(IT_FIXED, at="2025-03-05T09:00:00"), None, {}),  # a naive time: the API's 400
        (b'{"caller": "+39061"}', None, {}),  # no callee: the API's 422
        (b"{not json", None, {}),  # not JSON: the API's 400
        (body(IT_FIXED), "pbxa_unknown", {}),  # unknown credential: the API's 401
        (body(IT_FIXED), "pbxp_partner-token", {}),  # a partner token: the API's 401
        (body(IT_FIXED), None, {"CONTENT_TYPE": "text/plain"}),
    ],
)
def test_any_other_authorisation_reaches_django_with_its_body(
    trunk: tuple[Pbx, str], request_body: bytes, credential: str | None, extra: dict[str, str]
) -> None:
    django = Recorder()
    environ = authorize_environ(credential or trunk[1], request_body, **extra)
    status, _, answer = call(AgentFastPath(django), request_body, **environ)
    assert (status, answer) == ("200 OK", b"django")
    assert django.reached == [AUTHORIZE_PATH] and django.bodies == [request_body]
