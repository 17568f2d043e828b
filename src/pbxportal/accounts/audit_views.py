"""The audit trail viewer: a partner's admins see their partner's events, staff all (area managers:
their partners'); filters; CSV export of the filtered events. Reads through selectors."""

from __future__ import annotations

import csv
import json
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pbxportal.accounts import selectors
from pbxportal.common.errors import ApplicationError
from pbxportal.common.views import actor_of, paginate, portal_view

CSV_LIMIT = 100_000


def _day(request: HttpRequest, name: str) -> date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApplicationError(
            f"{name}: {raw!r} is not a date (YYYY-MM-DD).", fields={name: "invalid"}
        ) from None


@portal_view
def audit(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    partner = request.GET.get("partner", "").strip()
    if partner and not partner.isdigit():
        raise ApplicationError(f"partner: {partner!r} is not a partner id.", fields={"partner": "invalid"})
    events = selectors.audit_event_list(
        actor=actor,
        action=request.GET.get("action", "").strip(),
        actor_name=request.GET.get("actor", "").strip(),
        object_type=request.GET.get("object_type", "").strip(),
        partner_id=int(partner) if partner and actor.is_staff else None,
        since=_day(request, "since"),
        until=_day(request, "until"),
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        writer = csv.writer(response)
        writer.writerow(["at", "actor", "partner", "action", "object_type", "object_id", "data"])
        for event in events[:CSV_LIMIT]:
            writer.writerow(
                [
                    event.at.isoformat(),
                    event.actor.username if event.actor else "",
                    event.partner.code if event.partner else "",
                    event.action,
                    event.object_type,
                    event.object_id,
                    json.dumps(event.data, sort_keys=True, default=str),
                ]
            )
        return response
    query = "&".join(f"{k}={request.GET[k]}" for k in selectors.AUDIT_FILTERS if request.GET.get(k))
    return render(
        request,
        "accounts/audit.html",
        {
            "page": paginate(request, events),
            "query": f"{query}&" if query else "",
            "csv_query": query,
            "values": {k: request.GET.get(k, "") for k in selectors.AUDIT_FILTERS},
        },
    )
