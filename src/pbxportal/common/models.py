from __future__ import annotations

from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key (R-API-2).

    ``scope`` is the caller (an API token, a session user, a PBX credential; an anonymous caller by
    its address): keys of two callers never collide. ``status`` 0 while the first request is still
    running. ``withheld``: the first answer held a secret (an API token, a PBX credential), so its
    body was never stored and a replay is refused (issue 13). Records expire after
    ``IDEMPOTENCY_TTL_HOURS`` and are purged by the clock.
    """

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True)
    withheld = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_scope_key")]


class AuditEvent(models.Model):
    """An append-only trail of who did what (SSH openings, order transitions, staff actions...)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    partner = models.ForeignKey(
        "accounts.Partner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-at", "-id"]
