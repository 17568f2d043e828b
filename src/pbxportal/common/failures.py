"""Every failure on the API answered in the one error shape (R-API-1).

``error_for_exception`` is the one mapping from an exception that escaped a view (or a middleware)
to a status and an error body: database and decoding errors a client's input can cause are 4xx,
a database that cannot be reached is a 503, anything else a 500, all in the shape. The API's
exception handler, ``handler400``/``handler500`` and ``ApiErrorShapeMiddleware`` use it, so an
API caller never gets an HTML page.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from decimal import InvalidOperation
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from pbxportal.common.errors import error_body
from pbxportal.common.schemas import text_problem

logger = logging.getLogger(__name__)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or did not answer in time (not a bad value)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    # SQLite reports some bad values as OperationalError ("too many SQL variables"...); a lost or
    # refused connection, a timeout or a locked database is an outage.
    text = str(exc).lower()
    return any(
        word in text
        for word in ("connect", "timeout", "timed out", "terminat", "closed", "locked", "canceling statement")
    )


def error_for_exception(exc: BaseException) -> tuple[int, dict[str, Any]]:
    if _is_unavailable(exc):
        return 503, error_body("unavailable", "The database is unavailable; try again shortly.")
    if isinstance(exc, RequestDataTooBig):
        return 413, error_body("too_large", "The request body is larger than this endpoint accepts.")
    if isinstance(exc, TooManyFieldsSent | SuspiciousOperation):
        return 400, error_body("bad_request", str(exc) or "Bad request.")
    if isinstance(exc, IntegrityError):
        return 409, error_body("conflict", "The request conflicts with existing data.")
    if isinstance(exc, DataError | DatabaseError):
        return 422, error_body(
            "invalid_value", "A value does not fit its field (too long, out of range or not storable)."
        )
    if isinstance(exc, UnicodeError):
        return 400, error_body("bad_encoding", "The request is not valid UTF-8 text.")
    if isinstance(exc, OverflowError | InvalidOperation | ValueError):
        return 422, error_body("invalid_value", f"A value is out of range or malformed: {exc}"[:300])
    return 500, error_body("server_error", "An unexpected error occurred; it has been logged.")


def error_response(request: HttpRequest, exc: BaseException) -> JsonResponse:
    status, body = error_for_exception(exc)
    if status >= 500:
        logger.error("API request failed: %s %s", request.method, request.path, exc_info=exc)
    return JsonResponse(body, status=status)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request) and exception is not None:
        return error_response(request, exception)
    from django.views.defaults import bad_request

    return bad_request(request, exception or SuspiciousOperation())


def handler500(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if is_api(request):
        if exc is None:
            return JsonResponse(error_body("server_error", "An unexpected error occurred."), status=500)
        status, body = error_for_exception(exc)
        return JsonResponse(body, status=status if status >= 500 else 500)
    if exc is not None and _is_unavailable(exc):
        return HttpResponse("The service is unavailable; try again shortly.", status=503)
    from django.views.defaults import server_error

    return server_error(request)


def remember_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver: keeps the exception a middleware or view raised on the
    request, so ``ApiErrorShapeMiddleware`` can answer it in the shape (a 503 for a database that
    cannot be reached) even where Django rendered its own 500 page (DEBUG)."""
    if request is not None:
        request._unhandled_exception = sys.exc_info()[1]  # type: ignore[attr-defined]


class ApiErrorShapeMiddleware:
    """An API answer of 4xx/5xx that is not JSON (a 405 from the router, a CSRF refusal, a 500
    page) is rewritten into the error shape, keeping its status and headers such as ``Allow``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not is_api(request)
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
            or getattr(response, "streaming", False)
        ):
            return response
        status = response.status_code
        if status == 405:
            body = error_body(
                "method_not_allowed",
                f"{request.method} is not allowed here; allowed: {response.get('Allow', '')}.",
            )
        elif status == 403:
            body = error_body("forbidden", "Forbidden (for a portal session: a missing CSRF token).")
        elif status == 413:
            body = error_body("too_large", "The request body is larger than this endpoint accepts.")
        elif status >= 500:
            exc = getattr(request, "_unhandled_exception", None)
            status, body = error_for_exception(exc) if exc is not None else (status, {})
            if status < 500 or not body:
                status, body = 500, error_body("server_error", "An unexpected error occurred.")
        else:
            body = error_body("http_error", response.reason_phrase or "Bad request.")
        shaped = JsonResponse(body, status=status)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                shaped[header] = response[header]
        return shaped


class InputTextMiddleware:
    """Query parameters and form fields (pages and API) holding a control character or a lone
    surrogate are refused with a 400 naming the parameter, before any view passes them to the
    database (which cannot store NUL). JSON bodies are checked by the API schemas
    (``common.schemas``); the API's multipart bodies are left to its views so that uploads with an
    Idempotency-Key keep streaming."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sources = [request.GET]
        form = request.content_type == "application/x-www-form-urlencoded" or (
            request.content_type == "multipart/form-data" and not is_api(request)
        )
        if request.method == "POST" and form:
            sources.append(request.POST)
        for source in sources:
            for name, values in source.lists():
                for value in (name, *values):
                    problem = text_problem(value)
                    if problem:
                        return self._refuse(request, name, problem)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, name: str, problem: str) -> HttpResponse:
        field = name if text_problem(name) is None else "parameter name"
        message = f"{field}: {problem}."
        if is_api(request):
            return JsonResponse(error_body("validation_error", message, fields={field: problem}), status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
