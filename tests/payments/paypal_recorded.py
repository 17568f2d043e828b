"""An httpx transport handler playing the recorded PayPal REST exchanges (OAuth token, create
order, capture): each request is checked against the recording; anything else fails the test."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

REST = json.loads((Path(__file__).parent / "recorded" / "paypal_rest.json").read_text())


class RecordedPayPal:
    """Checks each request against the recording and answers with the recorded response."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        for exchange in REST.values():
            if not isinstance(exchange, dict):
                continue
            expected = exchange["request"]
            if (request.method, request.url.path) == (expected["method"], expected["path"]):
                if expected["path"] == "/v1/oauth2/token":
                    assert dict(parse_qsl(request.content.decode())) == expected["form"]
                    assert (
                        request.headers["Authorization"]
                        == "Basic " + base64.b64encode(b"client:secret").decode()
                    )
                else:
                    assert request.headers["Authorization"] == "Bearer A21AAFRecordedAccessToken"
                    assert request.headers["PayPal-Request-Id"]
                return httpx.Response(201, json=exchange["response"])
        raise AssertionError(f"unrecorded request {request.method} {request.url}")
