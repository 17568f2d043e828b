"""Signed licence versions, PBX agent credentials and activation-code throttles (R-LIC-1..3).

The poll path (R-EX-3) reads one row: ``PbxCredential`` by the digest of the bearer credential
(unique index), which also carries the PBX's current licence ETag, so an unchanged licence is a
304 without loading any document.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class LicenceVersion(models.Model):
    """One signed version of a PBX's licence (R-LIC-1), served byte for byte as signed."""

    pbx = models.ForeignKey("pbx.Pbx", on_delete=models.CASCADE, related_name="licence_versions")
    version = models.PositiveIntegerField()
    wire = models.BinaryField(help_text="The wire form exactly as signed (canonical envelope)")
    etag = models.CharField(max_length=70)
    content_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the document without version and issue time"
    )
    key_id = models.CharField(max_length=64)
    status = models.CharField(max_length=20)
    summary = models.JSONField(default=dict, help_text="capacity, services, expiry: for the portal pages")
    cause = models.CharField(max_length=100, blank=True)
    activation_code_digest = models.CharField(max_length=64, unique=True)
    code_redeemed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["pbx", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["pbx", "version"], name="licence_version_unique_per_pbx")
        ]

    def __str__(self) -> str:
        return f"licence v{self.version} of PBX {self.pbx_id}"


class PbxCredential(models.Model):
    """A PBX's own credential for the agent API (R-LIC-3), issued at activation, stored hashed.

    One per PBX: activating again replaces it. ``licence_etag`` mirrors the current licence
    version's ETag so a poll compares it without a join.
    """

    pbx = models.OneToOneField("pbx.Pbx", on_delete=models.CASCADE, related_name="agent_credential")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    licence_etag = models.CharField(max_length=70, blank=True)
    issued_at = models.DateTimeField()
    code_failures = models.PositiveIntegerField(default=0)
    code_retry_at = models.DateTimeField(null=True, blank=True, help_text="backoff after a wrong code")
    code_locked_until = models.DateTimeField(null=True, blank=True)

    tenant_path = "pbx__partner"

    class Meta:
        constraints = [
            models.CheckConstraint(name="credential_digest_not_empty", condition=~Q(digest="")),
        ]
