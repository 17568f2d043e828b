"""R-INV-5 driven by the billing clock: stages follow the days, block exactly what they say,
mail on days 5, 10, 15, 30, 35, ignore a dispute, and clear at once when everything is paid."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from pbxportal.clock.services import clock_run
from pbxportal.common.errors import RuleViolation
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.overdue.models import OverdueNotice
from pbxportal.overdue.policy import ensure_allowed, licence_status, partner_stage
from pbxportal.payments.services import payment_record_offline
from pbxportal.pbx import services
from tests.pbx.builders import World, hwaas_agreement_on_record

pytestmark = pytest.mark.overdue_policy
START = date(2025, 3, 10)


def _at(day: date) -> Any:
    return time_machine.travel(datetime.combine(day, time(12), tzinfo=UTC), tick=False)


def _refused(fn: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        fn()
    assert refused.value.rule == "R-INV-5"
    return refused.value


def test_stages_follow_the_clock_block_what_they_say_and_clear_on_payment(db: Any, client_for: Any) -> None:
    # given a PBX invoiced on START (due 30 days later) and a dispute about it (a correction request)
    world = World()
    hwaas_agreement_on_record(world)
    pbx = world.pbx(start=START)
    first = Invoice.objects.get(pbx=pbx)
    services.correction_file(
        actor=world.actor, pbx_id=pbx.pk, change_date=START, quantities={"UC-BUSINESS": 3}, today=START
    )
    due = first.due_on
    assert due == START + timedelta(days=30)
    partner_id = world.partner.pk
    client = client_for(world.user)

    def order_device(day: date) -> Any:
        return services.service_order(
            actor=world.actor, pbx=pbx, product_code="HW-PHONE", quantity=1, today=day
        )

    def add_licence(day: date, quantity: int) -> Any:
        return services.pbx_change_licences(
            actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=quantity, today=day
        )

    # when the clock runs to day 1 and day 2 after the due date
    clock_run(until=due + timedelta(days=1))
    assert partner_stage(partner_id=partner_id, today=due + timedelta(days=1)) is None
    first.refresh_from_db()
    assert first.status == InvoiceStatus.OVERDUE
    clock_run(until=due + timedelta(days=2))
    # then day 2 is the warning, which blocks nothing
    assert partner_stage(partner_id=partner_id, today=due + timedelta(days=2)).code == "warning"  # type: ignore[union-attr]
    # day 5: still hardware is orderable; the first mail goes out
    day5 = due + timedelta(days=5)
    clock_run(until=day5)
    assert [m.to for m in mail.outbox] == [["billing@p.example"]]
    assert "5 days" in mail.outbox[0].subject
    ensure_allowed(partner_id=partner_id, action="order_hardware", today=day5)
    # day 6 ("after day 5"): hardware/HWaaS refused, licences still orderable
    day6 = due + timedelta(days=6)
    clock_run(until=day6)
    _refused(lambda: order_device(day6))
    add_licence(day6, 5)
    # days 10, 15: mails; day 30: the portal is read-only but paying works
    day30 = due + timedelta(days=30)
    clock_run(until=day30)
    assert sorted(OverdueNotice.objects.values_list("day", flat=True)) == [5, 10, 15, 30]
    assert len(mail.outbox) == 4
    _refused(lambda: add_licence(day30, 6))
    with _at(day30):
        write = client.post(
            f"/api/v1/pbx/pbxs/{pbx.pk}/auto-renew",
            json.dumps({"auto_renew": False}),
            content_type="application/json",
        )
        assert write.status_code == 422 and write.json()["error"]["rule"] == "R-INV-5"
        assert client.get("/payments/balance/").status_code == 200
        pay = client.post(
            "/api/v1/payments/checkouts",
            json.dumps({"invoice_id": first.pk, "provider": "card", "amount": "10.00"}),
            content_type="application/json",
        )
        assert pay.status_code == 201, pay.content
    assert licence_status(partner_id=partner_id, today=day30) == "active"
    # day 35: services suspended (the licences say so), the fifth mail
    day35 = due + timedelta(days=35)
    clock_run(until=day35)
    assert licence_status(partner_id=partner_id, today=day35) == "suspended"
    assert sorted(OverdueNotice.objects.values_list("day", flat=True)) == [5, 10, 15, 30, 35]
    # running the same days again sends nothing more
    clock_run(since=due, until=day35)
    assert len(mail.outbox) == 5

    # when staff record the bank transfer for everything overdue (the day-6 invoice is not due yet)
    overdue = Invoice.objects.filter(partner_id=partner_id, status=InvoiceStatus.OVERDUE)
    assert list(overdue) == [first]
    payment_record_offline(
        actor=world.staff_actor, invoice_id=first.pk, amount=first.total, received_on=day35, pi_number="PI-1"
    )
    # then every stage clears at once
    assert partner_stage(partner_id=partner_id, today=day35) is None
    assert licence_status(partner_id=partner_id, today=day35) == "active"
    order_device(day35)
    add_licence(day35, 6)


def test_login_in_a_stage_lands_on_the_balance_with_the_warning(db: Any) -> None:
    # given a partner 3 days overdue
    world = World()
    pbx = world.pbx(start=START)
    due = Invoice.objects.get(pbx=pbx).due_on
    assert due is not None
    with _at(due + timedelta(days=3)):
        # when its user logs in
        client = Client()
        response = client.post("/login/", {"login": "p-admin", "password": "x" * 12}, follow=True)
        # then it is taken to the account balance, with the warning
        assert response.redirect_chain[-1][0] == "/payments/balance/"
        assert b"3 days overdue" in response.content
        # and the next pages open normally
        assert client.get("/customers/").status_code == 200


def test_login_without_overdue_goes_to_the_dashboard(db: Any) -> None:
    # given a partner with nothing overdue / when it logs in / then it lands where it always does
    world = World()
    world.pbx(start=START)
    with _at(START + timedelta(days=3)):
        response = Client().post("/login/", {"login": "p-admin", "password": "x" * 12}, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/"
