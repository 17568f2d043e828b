"""Reads of the licensing domain: licence versions of a PBX (through the tenancy layer,
R-TEN-1) and the PBX agent's lean poll lookup (R-LIC-3)."""

from __future__ import annotations

from django.db.models import QuerySet

from pbxportal.common.actor import Actor
from pbxportal.common.db import fetch_one
from pbxportal.common.tenancy import get_scoped
from pbxportal.licensing.models import LicenceVersion, PbxCredential
from pbxportal.pbx.models import Pbx


def licence_versions(*, actor: Actor, pbx_id: int) -> QuerySet[LicenceVersion]:
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    return pbx.licence_versions.order_by("-version")


def licence_version_get(*, actor: Actor, pbx_id: int, version: int) -> LicenceVersion:
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    return get_scoped(LicenceVersion.objects.filter(pbx=pbx), actor, version=version)


def licence_current(*, pbx_id: int) -> LicenceVersion | None:
    """The newest version of a PBX's licence (for the agent, already authenticated as that PBX)."""
    return LicenceVersion.objects.filter(pbx_id=pbx_id).order_by("-version").first()


_POLL_SQL = f"SELECT pbx_id, licence_etag FROM {PbxCredential._meta.db_table} WHERE digest = %s"


def agent_poll_state(*, digest: str) -> tuple[int, str] | None:
    """(PBX id, current licence ETag) of a credential digest, in one indexed query: the poll
    path answers 304 from this alone (R-EX-3 polling, the licence-polls benchmark); a prepared
    statement (``common.db.fetch_one``), as polls are the hottest path of the portal."""
    row = fetch_one(_POLL_SQL, [digest])
    return (int(row[0]), str(row[1])) if row else None
