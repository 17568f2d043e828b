"""The PBX agent API under /api/v1/pbx-agent/ (R-LIC-1, R-LIC-2, R-LIC-3, R-PBX-3, R-CO-2, R-EX-3,
R-VT-6): activation with the PBX key, the licence poll (ETag), the firmware report, activation
codes typed in by hand, and the live call authorisation.

The router has its own authentication: ``Authorization: Bearer pbxa_...``, the credential
a PBX receives when it activates with its PBX key. It overrides the global partner auth (API
tokens, portal sessions), so a partner's credentials cannot call it, and every operation acts on
the authenticated PBX only: there is no PBX id in any path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from ninja import Router
from ninja.security import HttpBearer

from pbxportal.agent import selectors, services
from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.idempotency import withhold_answer
from pbxportal.common.schemas import Schema
from pbxportal.core import licence
from pbxportal.licensing.models import LicenceVersion
from pbxportal.licensing.selectors import licence_current
from pbxportal.voice import services as voice_services

API_PREFIX = ""

router = Router()
agent = Router(tags=["pbx-agent"])
LICENCE_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class AgentIdentity:
    pbx_id: int
    licence_etag: str


class AgentUnauthorized(ApplicationError):
    status = 401
    code = "unauthorized"


class PbxCredentialAuth(HttpBearer):
    """A PBX's own credential (R-LIC-3): never a partner's API token or session."""

    openapi_description = "The credential a PBX receives from POST /api/v1/pbx-agent/activate."

    def __call__(self, request: HttpRequest) -> Any:
        digest = services.agent_credential_digest(request.headers.get("Authorization", ""))
        state = selectors.agent_poll_state(digest=digest) if digest is not None else None
        if state is None:
            # Raised, not returned: ninja would answer with the partner API's generic 401 message.
            raise AgentUnauthorized(
                "A PBX credential is required (Authorization: Bearer pbxa_...), issued when the PBX "
                "activates with its PBX key; partner API tokens and sessions are not accepted here.",
                rule="R-LIC-3",
            )
        return AgentIdentity(pbx_id=state[0], licence_etag=state[1])

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        """Not reached: ``__call__`` reads the header itself (ninja's HttpBearer requires it)."""
        return self(request)


def _identity(request: HttpRequest) -> AgentIdentity:
    identity = request.auth  # type: ignore[attr-defined]
    assert isinstance(identity, AgentIdentity)
    return identity


def _licence_response(version: LicenceVersion) -> HttpResponse:
    """The wire licence byte for byte as signed, with its ETag (R-LIC-1)."""
    response = HttpResponse(bytes(version.wire), content_type=LICENCE_CONTENT_TYPE)
    response["ETag"] = version.etag
    response["Cache-Control"] = "no-cache"
    response["X-Licence-Version"] = str(version.version)
    return response


# --- The PBX agent ----------------------------------------------------------------------------


class ActivateIn(Schema):
    pbx_key: str


class ActivateOut(Schema):
    serial: str
    status: str
    credential: str
    licence_url: str
    poll_seconds: int


class FirmwareIn(Schema):
    firmware_version: str


class FirmwareOut(Schema):
    serial: str
    firmware_version: str


class RedeemIn(Schema):
    code: str


@agent.post("/activate", response=ActivateOut, auth=None, summary="Activate with the PBX key")
def activate(request: HttpRequest, payload: ActivateIn) -> dict[str, Any]:
    """A VM/HW PBX presents its PBX key (R-PBX-3) and receives its own credential (R-LIC-3),
    shown once: keep it, it authenticates every other agent call."""
    pbx, credential = services.agent_activate(pbx_key=payload.pbx_key, now=timezone.now())
    withhold_answer(request)  # the credential is shown once, never kept for a replay
    return {
        "serial": pbx.serial,
        "status": pbx.status,
        "credential": credential,
        "licence_url": "/api/v1/pbx-agent/licence",
        "poll_seconds": settings.LICENCE_POLL_SECONDS,
    }


@agent.get("/licence", auth=PbxCredentialAuth(), summary="Poll the signed licence (ETag)")
def licence_poll(request: HttpRequest) -> HttpResponse:
    """The PBX's current signed licence; ``If-None-Match`` with its ETag answers 304 while it is
    unchanged, without loading the document (R-EX-3: picked up within the poll interval)."""
    identity = _identity(request)
    if identity.licence_etag and licence.etag_matches(
        request.headers.get("If-None-Match"), identity.licence_etag
    ):
        response = HttpResponseNotModified()
        response["ETag"] = identity.licence_etag
        return response
    version = licence_current(pbx_id=identity.pbx_id)
    if version is None:
        raise NotFound("The PBX has no licence yet.", rule="R-LIC-1")
    return _licence_response(version)


@agent.post("/firmware", response=FirmwareOut, auth=PbxCredentialAuth(), summary="Report the firmware")
def firmware(request: HttpRequest, payload: FirmwareIn) -> dict[str, Any]:
    """The PBX reports its firmware version (R-CO-2: the voice trunk needs 6.0 or later)."""
    pbx = services.agent_report_firmware(
        pbx_id=_identity(request).pbx_id, firmware_version=payload.firmware_version
    )
    return {"serial": pbx.serial, "firmware_version": pbx.firmware_version}


@agent.post("/redeem", auth=PbxCredentialAuth(), summary="Redeem an activation code")
def redeem(request: HttpRequest, payload: RedeemIn) -> HttpResponse:
    """An activation code typed in by hand (R-LIC-2, R-EX-3): works once and returns the signed
    licence it identifies. Wrong codes are slowed down (429) and then locked out."""
    version = services.agent_redeem_code(
        pbx_id=_identity(request).pbx_id, code=payload.code, now=timezone.now()
    )
    return _licence_response(version)


# --- Live authorisation for PBXs (R-VT-6) -------------------------------------------------------


class AuthorizeIn(Schema):
    caller: str = ""
    callee: str
    time: datetime | None = None


class AuthorizeOut(Schema):
    allowed: bool
    max_seconds: int
    reason: str
    rule: str | None
    destination: str
    area: str
    allowance_seconds: int
    credit_seconds: int


@agent.post(
    "/calls/authorize", response=AuthorizeOut, auth=PbxCredentialAuth(), summary="May this call start?"
)
def call_authorize(request: HttpRequest, payload: AuthorizeIn) -> Any:
    """The seconds the call may last (remaining allowance and credit, at most 14400) or a refusal
    with the reason and rule (R-VT-6). The PBX is the one of the credential."""
    identity = request.auth  # type: ignore[attr-defined]
    assert isinstance(identity, AgentIdentity)
    at = payload.time or timezone.now()
    if at.tzinfo is None:
        raise ApplicationError("time: give a UTC offset.", fields={"time": "naive"})
    return voice_services.call_authorize(
        pbx_id=identity.pbx_id, caller=payload.caller, callee=payload.callee, at=at
    )


router.add_router("pbx-agent", agent)
