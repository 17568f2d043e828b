"""Idempotency keys for every state-changing API request (R-API-2), as one middleware.

The same key with the same body returns the first answer (status and body, byte for byte); the
same key with another body is a 409. A request still running under the key is a 409 too. A
first answer of 5xx is not kept, so the client may retry with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from pbxportal.common.errors import error_body
from pbxportal.common.models import IdempotencyRecord

HEADER = "Idempotency-Key"
METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255


def _scope(request: HttpRequest) -> str:
    auth = request.headers.get("Authorization", "")
    if auth:
        return "auth:" + hashlib.sha256(auth.encode()).hexdigest()[:40]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "anon:" + (request.session.session_key or "") if hasattr(request, "session") else "anon"


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _conflict(message: str) -> JsonResponse:
    return JsonResponse(
        error_body("idempotency_conflict", message, rule="R-API-2", fields={HEADER: message}), status=409
    )


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return JsonResponse(
                error_body(
                    "invalid",
                    f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                    rule="R-API-2",
                    fields={HEADER: "invalid length"},
                ),
                status=400,
            )
        scope, request_hash = _scope(request), _request_hash(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=request_hash)
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if existing is None:  # the first request failed and was forgotten meanwhile
                return self(request)
            if existing.request_hash != request_hash:
                return _conflict("This Idempotency-Key was used with another request body.")
            if existing.status == 0:
                return _conflict("A request with this Idempotency-Key is still being processed.")
            replay = HttpResponse(
                bytes(existing.body), status=existing.status, content_type=existing.content_type
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            record.delete()
            return response
        record.status = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = response.content
        record.save(update_fields=["status", "content_type", "body"])
        return response
