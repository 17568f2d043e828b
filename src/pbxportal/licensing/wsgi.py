"""The licence poll's fast path, in front of Django (R-EX-3 polling, the licence-polls benchmark).

Most polls ask "has my licence changed?" and the answer is no. This WSGI middleware answers that
case -- ``GET /api/v1/pbx-agent/licence`` with ``If-None-Match`` equal to the PBX's current ETag --
with a 304 from one indexed query (the credential digest and the ETag cached next to it,
``selectors.agent_poll_state``), before Django's middleware stack, the URL resolver and ninja.
Everything else (a changed licence, a missing or unknown credential, any other path) goes to the
Django application unchanged, so the API's own view stays the one definition of the 200s and the
401s; this is only a shortcut to the same 304 it would give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import DatabaseError, connection

from pbxportal.core.licence import etag_matches
from pbxportal.licensing.selectors import agent_poll_state
from pbxportal.licensing.services import CREDENTIAL_PREFIX, credential_digest

POLL_PATH = "/api/v1/pbx-agent/licence"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LicencePollFastPath:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def _unchanged_etag(self, environ: dict[str, Any]) -> str | None:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != POLL_PATH:
            return None
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if not if_none_match or scheme.lower() != "bearer" or not token.startswith(CREDENTIAL_PREFIX):
            return None
        try:
            state = agent_poll_state(digest=credential_digest(token))
        except DatabaseError:
            connection.close()  # a broken persistent connection: Django's path reconnects
            return None
        if state is None or not state[1] or not etag_matches(if_none_match, state[1]):
            return None
        return state[1]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        etag = self._unchanged_etag(environ)
        if etag is None:
            return self.app(environ, start_response)
        start_response("304 Not Modified", [("ETag", etag), ("Cache-Control", "no-cache")])
        return [b""]
