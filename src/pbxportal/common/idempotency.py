"""Idempotency keys for every state-changing API request (R-API-2), as one middleware.

The same key with the same body returns the first answer (status and body, byte for byte); the
same key with another body is a 409. A request still running under the key is a 409 too. A
first answer of 5xx is not kept, so the client may retry with the same key.

Nothing secret is kept in replayable form (issue 13): a view whose answer holds a secret (a new
API token, a PBX credential) calls ``withhold_answer(request)``; its record keeps only the status,
and a replay is a 409 telling the caller the first answer is not kept. Anonymous callers are
scoped by their address, so one cannot read another's answer. A record older than
``IDEMPOTENCY_TTL_HOURS`` (24) no longer counts, by the clock, and the clock job purges it.
Multipart bodies (uploads) are hashed from Django's parsed, streamed upload, never read whole
into memory, so the upload limits of the endpoints apply as without a key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from pbxportal.common.errors import error_body
from pbxportal.common.models import IdempotencyRecord

HEADER = "Idempotency-Key"
METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255


def withhold_answer(request: HttpRequest) -> None:
    """The answer to ``request`` holds a secret: its idempotency record must not keep it."""
    request._idempotency_withhold = True  # type: ignore[attr-defined]


def ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_TTL_HOURS", 24))


def purge_expired(now: datetime) -> int:
    """Delete records older than the TTL (run by the clock); the number deleted."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - ttl()).delete()
    return deleted


def _scope(request: HttpRequest) -> str:
    auth = request.headers.get("Authorization", "")
    if auth:
        return "auth:" + hashlib.sha256(auth.encode()).hexdigest()[:40]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    # Anonymous: one scope per client address (and the body is in the request hash), so a caller
    # never receives the answer another address got.
    address = request.META.get("REMOTE_ADDR", "")
    return "anon:" + hashlib.sha256(address.encode()).hexdigest()[:40]


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    if request.content_type == "multipart/form-data":
        # Parsed by Django's upload handlers (files streamed to disk past the memory limit).
        for name, values in sorted(request.POST.lists()):
            digest.update(f"field\0{name}\0{values!r}\0".encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"file\0{name}\0{upload.name}\0{upload.size}\0".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
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
            if existing.created_at < timezone.now() - ttl():  # expired: the key is free again
                IdempotencyRecord.objects.filter(pk=existing.pk).delete()
                return self(request)
            if existing.request_hash != request_hash:
                return _conflict("This Idempotency-Key was used with another request body.")
            if existing.status == 0:
                return _conflict("A request with this Idempotency-Key is still being processed.")
            if existing.withheld:
                return _conflict(
                    "The first answer to this Idempotency-Key held a secret, which is never kept: "
                    "it cannot be replayed. Use the answer you received, or a new key."
                )
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
        if getattr(request, "_idempotency_withhold", False):
            record.withheld = True
        else:
            record.content_type = response.get("Content-Type", "")
            record.body = response.content
        record.save(update_fields=["status", "content_type", "body", "withheld"])
        return response
