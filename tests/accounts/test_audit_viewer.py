"""The audit trail viewer: a partner's admins see their partner's events only (R-TEN-1), staff see
all; filters by action, actor, object and days; CSV export of the filtered events."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta

import time_machine
from django.test import Client

from pbxportal.accounts.models import Partner, PartnerRole, User
from pbxportal.common.models import AuditEvent
from pbxportal.common.timeutil import vendor_tz


def _events(user_a: User, user_b: User) -> None:
    AuditEvent.objects.create(
        actor=user_a,
        partner_id=user_a.partner_id,
        action="user.invited",
        object_type="accounts.invitation",
        object_id="1",
        data={"email": "a@example.com"},
    )
    AuditEvent.objects.create(
        actor=user_a,
        partner_id=user_a.partner_id,
        action="customer.created",
        object_type="accounts.customer",
        object_id="7",
    )
    AuditEvent.objects.create(
        actor=user_b,
        partner_id=user_b.partner_id,
        action="user.invited",
        object_type="accounts.invitation",
        object_id="2",
        data={"email": "b@example.com"},
    )
    AuditEvent.objects.create(
        actor=None, partner=None, action="pricebook.item_changed", object_type="catalog.price"
    )


def _csv(response: object) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))  # type: ignore[attr-defined]


def test_a_partner_admin_sees_only_their_partners_events(
    user_a: User, user_b: User, client_for: Callable[[User], Client]
) -> None:
    _events(user_a, user_b)
    page = client_for(user_a).get("/audit/")
    assert page.status_code == 200
    assert page.content.count(b'class="audit-row"') == 2
    assert b"b@example.com" not in page.content and b"pricebook" not in page.content


def test_staff_see_all_and_filter(
    user_a: User, user_b: User, vendor_admin: User, client_for: Callable[[User], Client]
) -> None:
    _events(user_a, user_b)
    client = client_for(vendor_admin)
    assert client.get("/audit/").content.count(b'class="audit-row"') == 4
    invited = client.get("/audit/", {"action": "invited"})
    assert invited.content.count(b'class="audit-row"') == 2
    of_b = client.get("/audit/", {"action": "invited", "partner": user_b.partner_id})
    assert of_b.content.count(b'class="audit-row"') == 1 and b"b@example.com" in of_b.content
    by_a = client.get("/audit/", {"actor": user_a.username, "object_type": "customer"})
    assert by_a.content.count(b'class="audit-row"') == 1


def test_day_filters_are_half_open_vendor_days(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given events at the end of one vendor day and the start of the next
    day_end = datetime(2026, 3, 10, 23, 59, 59, tzinfo=vendor_tz())
    for at, name in ((day_end, "late"), (day_end + timedelta(seconds=1), "early")):
        with time_machine.travel(at, tick=False):
            AuditEvent.objects.create(actor=user_a, partner_id=user_a.partner_id, action=f"x.{name}")
    client = client_for(user_a)
    # then a filter on the 10th holds only the first, on the 11th only the second
    rows = _csv(client.get("/audit/", {"since": "2026-03-10", "until": "2026-03-10", "format": "csv"}))
    assert [r["action"] for r in rows] == ["x.late"]
    rows = _csv(client.get("/audit/", {"since": "2026-03-11", "format": "csv"}))
    assert [r["action"] for r in rows] == ["x.early"]


def test_csv_export_holds_the_filtered_events(
    user_a: User, user_b: User, client_for: Callable[[User], Client]
) -> None:
    _events(user_a, user_b)
    response = client_for(user_a).get("/audit/", {"action": "invited", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert len(rows) == 1
    assert rows[0]["actor"] == user_a.username and rows[0]["action"] == "user.invited"
    assert '"email": "a@example.com"' in rows[0]["data"]


def test_bad_filters_and_non_admins_are_refused(
    user_a: User, make_user: Callable[..., User], partner_a: Partner, client_for: Callable[[User], Client]
) -> None:
    assert client_for(user_a).get("/audit/", {"since": "yesterday"}).status_code == 400
    sales = make_user(partner_a, role=PartnerRole.SALES)
    assert client_for(sales).get("/audit/").status_code == 403
