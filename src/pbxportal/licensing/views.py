"""Licence pages of a PBX: its signed versions (history), a new activation code shown once, and
the download of a version's signed file for a PBX without Internet access (R-LIC-1, R-LIC-2,
R-EX-3). Thin: services act, selectors read."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from pbxportal.common.views import actor_of, paginate, portal_view
from pbxportal.licensing import selectors, services
from pbxportal.pbx.selectors import pbx_get


@portal_view
def history(request: HttpRequest, pbx_id: int) -> HttpResponse:
    actor = actor_of(request)
    pbx = pbx_get(actor=actor, pbx_id=pbx_id)
    page = paginate(request, selectors.licence_versions(actor=actor, pbx_id=pbx.pk))
    return render(request, "licensing/history.html", {"pbx": pbx, "page": page})


@portal_view
@require_POST
def activation_code(request: HttpRequest, pbx_id: int) -> HttpResponse:
    """A new code for the current version, shown on this page once (codes are stored hashed)."""
    actor = actor_of(request)
    issued = services.activation_code_reissue(actor=actor, pbx_id=pbx_id)
    pbx = pbx_get(actor=actor, pbx_id=pbx_id)
    return render(
        request,
        "licensing/activation_code.html",
        {"pbx": pbx, "version": issued.version, "code": issued.activation_code},
    )


@portal_view
def download(request: HttpRequest, pbx_id: int, licence_version: int) -> HttpResponse:
    version = selectors.licence_version_get(actor=actor_of(request), pbx_id=pbx_id, version=licence_version)
    response = HttpResponse(bytes(version.wire), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="licence-{version.pbx.serial}-v{version.version}.json"'
    )
    response["ETag"] = version.etag
    return response
