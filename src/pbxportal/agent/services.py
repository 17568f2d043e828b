"""The PBX agent's writes (R-LIC-2, R-LIC-3, R-PBX-3, R-CO-2): the credential a PBX gets when it
activates with its PBX key, the firmware report, activation codes typed in by hand (throttled).

The credential model (``licensing.models.PbxCredential``) and the licence documents stay in
``licensing``; this app is what a PBX machine calls under /api/v1/pbx-agent/.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.models import AuditEvent
from pbxportal.core import activation_code
from pbxportal.licensing.models import LicenceVersion, PbxCredential
from pbxportal.licensing.services import ENDED_STATUSES, licence_sync
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import pbx_activate_with_key

CREDENTIAL_PREFIX = "pbxa_"


class TooManyAttempts(ApplicationError):
    """Wrong activation codes from one PBX: slowed down, then locked out (R-LIC-2)."""

    status = 429
    code = "too_many_attempts"


def credential_digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def agent_credential_digest(authorization: str) -> str | None:
    """The digest of a PBX credential given as ``Authorization: Bearer pbxa_...`` (R-LIC-3), or
    None for anything else (no header, another scheme, a partner token)."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(CREDENTIAL_PREFIX):
        return None
    return credential_digest(token)


def agent_activate(*, pbx_key: str, now: datetime) -> tuple[Pbx, str]:
    """A VM/HW PBX presents its PBX key (R-PBX-3): it is activated, its licence signed, and it
    gets its own credential for the agent API (R-LIC-3), returned in clear once.

    Presenting the key again (a reinstalled PBX) replaces the credential: the old one stops working.
    """
    pbx = pbx_activate_with_key(pbx_key=pbx_key, now=now)
    if pbx.status in ENDED_STATUSES:
        raise RuleViolation(f"The PBX is {pbx.get_status_display().lower()}.", rule="R-PBX-9")
    licence_sync(pbx_id=pbx.pk, cause="activation", now=now)
    clear = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    current = pbx.licence_versions.order_by("-version").first()
    with transaction.atomic():
        PbxCredential.objects.update_or_create(
            pbx=pbx,
            defaults={
                "digest": credential_digest(clear),
                "prefix": clear[:12],
                "licence_etag": current.etag if current else "",
                "issued_at": now,
                "code_failures": 0,
                "code_retry_at": None,
                "code_locked_until": None,
            },
        )
        AuditEvent.objects.create(
            partner_id=pbx.partner_id,
            action="agent.credential_issued",
            object_type="pbx",
            object_id=str(pbx.pk),
            data={"prefix": clear[:12]},
        )
    return pbx, clear


def agent_report_firmware(*, pbx_id: int, firmware_version: str) -> Pbx:
    """The PBX reports its firmware version (used by R-CO-2 for the voice trunk)."""
    version = firmware_version.strip()
    if not version or len(version) > 20 or not any(ch.isdigit() for ch in version):
        raise ApplicationError(
            "firmware_version: a version such as 6.2.1 (at most 20 characters).",
            fields={"firmware_version": "invalid"},
        )
    Pbx.objects.filter(pk=pbx_id).update(firmware_version=version)
    return Pbx.objects.get(pk=pbx_id)


def _refuse_if_throttled(credential: PbxCredential, now: datetime) -> None:
    if credential.code_locked_until and credential.code_locked_until > now:
        minutes = int((credential.code_locked_until - now).total_seconds() // 60) + 1
        raise TooManyAttempts(
            f"Too many wrong activation codes: this PBX is locked out for about {minutes} more minute(s).",
            rule="R-LIC-2",
            fields={"retry_after": int((credential.code_locked_until - now).total_seconds()) + 1},
        )
    if credential.code_retry_at and credential.code_retry_at > now:
        seconds = int((credential.code_retry_at - now).total_seconds()) + 1
        raise TooManyAttempts(
            f"Wrong activation code just now: wait {seconds} second(s) before trying again.",
            rule="R-LIC-2",
            fields={"retry_after": seconds},
        )


def _record_failure(credential: PbxCredential, now: datetime) -> None:
    """Each wrong code doubles the wait (1, 2, 4... s); the Nth locks the PBX out (R-LIC-2)."""
    credential.code_failures += 1
    if credential.code_failures >= settings.LICENCE_CODE_MAX_FAILURES:
        credential.code_locked_until = now + timedelta(minutes=settings.LICENCE_CODE_LOCKOUT_MINUTES)
        credential.code_failures = 0
        credential.code_retry_at = None
    else:
        credential.code_retry_at = now + timedelta(seconds=2 ** (credential.code_failures - 1))
    credential.save(update_fields=["code_failures", "code_locked_until", "code_retry_at"])


def _redeem(pbx_id: int, code: str) -> tuple[LicenceVersion | None, ApplicationError | None]:
    """The version ``code`` identifies for this PBX, or why it does not (a wrong code)."""
    try:
        digest = activation_code.code_digest(code)
    except activation_code.InvalidActivationCode as exc:
        return None, ApplicationError(
            f"Invalid activation code: {exc}",
            rule="R-LIC-2",
            code="invalid_activation_code",
            fields={"code": str(exc)},
        )
    version = (
        LicenceVersion.objects.select_for_update()
        .filter(pbx_id=pbx_id, activation_code_digest=digest)
        .first()
    )
    if version is None:
        return None, ApplicationError(
            "Wrong activation code: it is not a code of this PBX's licence. Check the code in the mail "
            "or on the PBX's activation code page.",
            rule="R-LIC-2",
            code="wrong_activation_code",
            fields={"code": "unknown"},
        )
    return version, None


def agent_redeem_code(*, pbx_id: int, code: str, now: datetime) -> LicenceVersion:
    """An activation code typed into a PBX by hand (R-LIC-2, R-EX-3): valid once, for this PBX's
    current licence version, which is returned. Wrong codes are slowed down and locked out."""
    with transaction.atomic():
        credential = PbxCredential.objects.select_for_update().get(pbx_id=pbx_id)
        _refuse_if_throttled(credential, now)
        version, wrong = _redeem(pbx_id, code)
        if wrong is not None:
            _record_failure(credential, now)  # committed: the refusal is raised after the block
        else:
            assert version is not None
            credential.code_failures, credential.code_retry_at = 0, None
            credential.save(update_fields=["code_failures", "code_retry_at"])
            latest = pbx_latest_version_number(pbx_id)
            if version.code_redeemed_at is None and version.version == latest:
                version.code_redeemed_at = now
                version.save(update_fields=["code_redeemed_at"])
                return version
    if wrong is not None:
        raise wrong
    assert version is not None
    if version.code_redeemed_at is not None:
        raise Conflict(
            f"This activation code was used already, on {version.code_redeemed_at:%Y-%m-%d %H:%M} UTC: "
            "a code works once.",
            rule="R-LIC-2",
            fields={"code": "used"},
        )
    raise Conflict(
        f"This code is for licence version {version.version}, replaced by version {latest}: use the newest code.",
        rule="R-LIC-2",
        fields={"code": "superseded"},
    )


def pbx_latest_version_number(pbx_id: int) -> int:
    return int(
        LicenceVersion.objects.filter(pbx_id=pbx_id).order_by("-version").values_list("version", flat=True)[0]
    )
