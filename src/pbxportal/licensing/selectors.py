"""Reads of the licensing domain: licence versions of a PBX (through the tenancy layer,
R-TEN-1)."""

from __future__ import annotations

from django.db.models import QuerySet

from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import get_scoped
from pbxportal.licensing.models import LicenceVersion
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
