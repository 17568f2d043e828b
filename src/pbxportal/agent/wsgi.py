"""Fast paths for the PBX agent's hottest calls, in front of Django (R-EX-3 polling, R-VT-6).

PBXs poll their licence every few minutes and ask before every outgoing call whether it may
start; at fleet scale these two requests are most of the portal's traffic. ``AgentFastPath``
answers their common, well-formed case before Django's middleware stack, URL resolver and ninja:

- ``GET /api/v1/pbx-agent/licence`` with ``If-None-Match`` equal to the PBX's current ETag: a 304
  from one indexed query (the credential digest and the ETag cached next to it,
  ``selectors.agent_poll_state``);
- ``POST /api/v1/pbx-agent/calls/authorize`` with a valid credential and a body the API's own
  schema accepts: the same service, ``voice.services.call_authorize``, serialised by the API's
  own response schema; the credential and the month's usage are read in one query
  (``agent.selectors.agent_authorization_inputs``).

Everything else (a changed licence, a missing or unknown credential, a body the schema refuses,
a database error, any other path) goes to the Django application unchanged, with the body it
sent, so the API's views stay the one definition of the 200s, the 401s and the 4xx error shape;
these are only shortcuts to the answers they would give. Both paths observe the request latency
metric under the API route's name, as the Django stack would.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db import DatabaseError, connection

from pbxportal.agent.selectors import agent_poll_state
from pbxportal.agent.services import agent_credential_digest
from pbxportal.core.licence import etag_matches

POLL_PATH = "/api/v1/pbx-agent/licence"
AUTHORIZE_PATH = "/api/v1/pbx-agent/calls/authorize"
# The route names the Django stack's metrics middleware gives these two requests.
POLL_ROUTE = "api-v1:licence_poll"
AUTHORIZE_ROUTE = "api-v1:call_authorize"
MAX_BODY = 4096
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _credential_digest(environ: dict[str, Any]) -> str | None:
    return agent_credential_digest(environ.get("HTTP_AUTHORIZATION", ""))


def _observe(route: str, method: str, status: int, started: float) -> None:
    from pbxportal.ops.metrics import REQUEST_LATENCY

    REQUEST_LATENCY.labels(route=route, method=method, status=str(status)).observe(
        time.perf_counter() - started
    )


class AgentFastPath:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def _unchanged_etag(self, environ: dict[str, Any]) -> str | None:
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        digest = _credential_digest(environ)
        if not if_none_match or digest is None:
            return None
        state = agent_poll_state(digest=digest)
        if state is None or not state[1] or not etag_matches(if_none_match, state[1]):
            return None
        return state[1]

    def _authorization(self, environ: dict[str, Any]) -> bytes | None:
        """The JSON answer of an authorisation the API would accept, or None (then Django
        answers; the body read here is handed back to it)."""
        from pydantic import ValidationError

        from pbxportal.agent.api import AuthorizeIn, AuthorizeOut
        from pbxportal.agent.selectors import agent_authorization_inputs
        from pbxportal.voice.rating import month_start
        from pbxportal.voice.services import call_authorize

        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY or not environ.get("CONTENT_TYPE", "").startswith("application/json"):
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # Django reads it again if it answers
        digest = _credential_digest(environ)
        if digest is None:
            return None
        try:
            payload = AuthorizeIn.model_validate_json(body)
        except ValidationError:
            return None
        if payload.time is None or payload.time.tzinfo is None:
            return None  # the API fills a missing time and refuses a naive one
        # The credential and the month's usage in one round trip.
        inputs = agent_authorization_inputs(digest=digest, month=month_start(payload.time))
        if inputs is None:
            return None
        pbx_id, usage = inputs
        answer = call_authorize(
            pbx_id=pbx_id, caller=payload.caller, callee=payload.callee, at=payload.time, usage=usage
        )
        return AuthorizeOut.model_validate(answer, from_attributes=True).model_dump_json().encode()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == POLL_PATH and method == "GET":
            started = time.perf_counter()
            try:
                etag = self._unchanged_etag(environ)
            except DatabaseError:
                connection.close()  # a broken persistent connection: Django's path reconnects
                etag = None
            if etag is not None:
                start_response("304 Not Modified", [("ETag", etag), ("Cache-Control", "no-cache")])
                _observe(POLL_ROUTE, "GET", 304, started)
                return [b""]
        elif path == AUTHORIZE_PATH and method == "POST":
            started = time.perf_counter()
            try:
                answer = self._authorization(environ)
            except DatabaseError:
                connection.close()
                answer = None
            if answer is not None:
                start_response(
                    "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
                )
                _observe(AUTHORIZE_ROUTE, "POST", 200, started)
                return [answer]
        return self.app(environ, start_response)
