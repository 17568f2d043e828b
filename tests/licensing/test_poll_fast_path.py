"""The licence poll's fast path in front of Django (R-EX-3 polling): an unchanged licence is a
304 from one indexed query; everything else reaches the Django application."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.test import Client

from pbxportal.common.timeutil import vendor_today
from pbxportal.licensing.wsgi import POLL_PATH, LicencePollFastPath
from tests.expansions.builders import SoftwareWorld


class Recorder:
    """Stands for the Django application: records which requests reached it."""

    def __init__(self) -> None:
        self.reached: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.reached.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b"django"]


def call(app: LicencePollFastPath, **headers: str) -> tuple[str, dict[str, str]]:
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(response_headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": POLL_PATH, **headers}
    list(app(environ, start_response))
    return seen["status"], seen["headers"]


@pytest.fixture
def polled(db: Any) -> tuple[str, str]:
    world = SoftwareWorld()
    pbx = world.pbx(name="hotel-one", start=vendor_today())
    client = Client()
    credential = client.post(
        "/api/v1/pbx-agent/activate", {"pbx_key": pbx.pbx_key}, content_type="application/json"
    ).json()["credential"]
    etag = client.get("/api/v1/pbx-agent/licence", headers={"Authorization": f"Bearer {credential}"})["ETag"]
    return credential, etag


def test_an_unchanged_licence_is_answered_before_django(polled: tuple[str, str]) -> None:
    credential, etag = polled
    django = Recorder()
    status, headers = call(
        LicencePollFastPath(django), HTTP_AUTHORIZATION=f"Bearer {credential}", HTTP_IF_NONE_MATCH=etag
    )
    assert status == "304 Not Modified" and headers["ETag"] == etag
    assert django.reached == []


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_IF_NONE_MATCH": '"stale"'},  # the licence changed: Django sends it
        {},  # no If-None-Match: first poll
        {"HTTP_AUTHORIZATION": "Bearer pbxa_unknown"},  # unknown credential: Django's 401
        {"HTTP_AUTHORIZATION": "Bearer pbxp_partner-token"},  # a partner token: Django's 401
    ],
)
def test_anything_else_reaches_django(polled: tuple[str, str], headers: dict[str, str]) -> None:
    credential, etag = polled
    django = Recorder()
    environ = {"HTTP_AUTHORIZATION": f"Bearer {credential}", "HTTP_IF_NONE_MATCH": etag, **headers}
    if "HTTP_IF_NONE_MATCH" not in headers and headers == {}:
        environ.pop("HTTP_IF_NONE_MATCH")
    status, _ = call(LicencePollFastPath(django), **environ)
    assert status == "200 OK" and django.reached == [POLL_PATH]
