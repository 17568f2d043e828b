"""Issue 16 item 7: an expansion order placed and awaiting payment is a notification and an email
to the partner's selling and billing users (R-EX-2); a zero-priced order, delivered at once, is not."""

from __future__ import annotations

from typing import Any

import pytest

from pbxportal.common.timeutil import vendor_today
from pbxportal.expansions.services import ServiceRequest, expansion_checkout
from pbxportal.notifications.kinds import Kind
from pbxportal.notifications.models import Notification
from tests.expansions.builders import SoftwareWorld
from tests.notifications.conftest import Inbox


@pytest.fixture
def world(db: Any) -> SoftwareWorld:
    world = SoftwareWorld()
    world.user.email = "admin@gamma.example"
    world.user.save(update_fields=["email"])
    return world


def test_an_order_awaiting_payment_is_notified(
    world: SoftwareWorld, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    pbx = world.pbx(name="hotel-one", start=vendor_today())
    with django_capture_on_commit_callbacks(execute=True):
        result = expansion_checkout(
            actor=world.actor,
            pbx_id=pbx.pk,
            services=[ServiceRequest("PSE-EXT", 10)],
            payment_method="offline",
            billing_contact_id=world.contact.pk,
            today=vendor_today(),
        )
    note = Notification.objects.get(user=world.user, kind=Kind.PAYMENT_AWAITED)
    assert note.link == f"/expansion-orders/{result.order.pk}/"
    assert result.order.invoice.number in note.body
    assert [m["Subject"] for m in smtp.to("admin@gamma.example") if "awaits payment" in m["Subject"]] == [
        note.title
    ]
