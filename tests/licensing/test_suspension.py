"""Licences say when the partner is suspended for overdue invoices (R-INV-5 day 35, R-LIC-1), and
paying clears it at once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from pbxportal.clock.services import clock_run
from pbxportal.core import licence
from pbxportal.invoicing.models import Invoice
from pbxportal.licensing.keys import published_keys
from pbxportal.payments.services import payment_record_offline
from tests.expansions.builders import SoftwareWorld

pytestmark = pytest.mark.overdue_policy


def test_day_35_suspends_the_licence_and_paying_reactivates_it(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given an activated software PBX whose first invoice is never paid
    world = SoftwareWorld()
    start = datetime(2025, 3, 10, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        pbx = world.pbx(name="hotel-one", start=start.date())
        client = Client()
        credential = client.post(
            "/api/v1/pbx-agent/activate", {"pbx_key": pbx.new_pbx_key}, content_type="application/json"
        ).json()["credential"]
    invoice = Invoice.objects.get(pbx=pbx)
    assert invoice.due_on is not None
    suspended_day = invoice.due_on + timedelta(days=35)

    def licence_now() -> licence.LicenceDocument:
        response = client.get("/api/v1/pbx-agent/licence", headers={"Authorization": f"Bearer {credential}"})
        return licence.verify(response.content, published_keys())

    # when the clock runs to the day before day 35, then the licence is still active
    clock_run(until=suspended_day - timedelta(days=1), since=start.date())
    assert licence_now().status == "active"
    # when it runs day 35, then the next poll gets a suspended licence with the reason
    clock_run(until=suspended_day)
    suspended = licence_now()
    assert (suspended.status, suspended.reasons) == ("suspended", ("overdue:suspended",))
    # when the partner pays everything, then the licence is active again at once
    with time_machine.travel(datetime.combine(suspended_day, time(15), tzinfo=UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            payment_record_offline(
                actor=world.staff_actor,
                invoice_id=invoice.pk,
                amount=invoice.total,
                received_on=suspended_day,
            )
        reactivated = licence_now()
    assert reactivated.status == "active" and reactivated.version == suspended.version + 1
