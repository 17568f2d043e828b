"""Issue 16 item 7: every decision a partner waits for is a notification in the portal and an
email (through a real SMTP server), to the users whose role cares, as their preferences say."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from pbxportal.accounts.models import PartnerRole, User
from pbxportal.common.actor import Actor
from pbxportal.hardware import services as hardware
from pbxportal.hardware.models import StockItem
from pbxportal.notifications.kinds import Kind
from pbxportal.notifications.models import Notification
from pbxportal.notifications.services import preferences_set
from pbxportal.pbx import services as pbx_services
from pbxportal.pbx.services.renewals import renewal_reminders
from pbxportal.voice import services as voice
from tests.hardware.helpers import accepted_agreement, pdf_upload
from tests.notifications.conftest import Inbox
from tests.voice.builders import VoiceWorld
from tests.voice.test_numbers import complete_order

ADMIN_MAIL = "admin@p.example"


@pytest.fixture
def world(db: Any) -> VoiceWorld:
    world = VoiceWorld()
    world.user.email = ADMIN_MAIL
    world.user.save(update_fields=["email"])
    return world


def _agreement_accepted(world: VoiceWorld) -> str:
    accepted_agreement(world)
    return "/hwaas/agreements/"


def _agreement_rejected(world: VoiceWorld) -> str:
    agreement = hardware.agreement_upload(
        actor=world.actor, customer_id=world.customer.pk, upload=pdf_upload()
    )
    hardware.agreement_reject(actor=Actor(user=world.manager), agreement_id=agreement.pk, reason="Unsigned")
    return "/hwaas/agreements/"


def _number_order(world: VoiceWorld, approve: bool) -> str:
    pbx = world.pbx(start=date(2025, 1, 10))
    order_id = complete_order(world, pbx.pk)
    voice.number_order_submit(actor=world.actor, order_id=order_id)
    staff = Actor(user=world.staff)
    voice.number_order_review(actor=staff, order_id=order_id)
    if approve:
        voice.number_order_approve(
            actor=staff, order_id=order_id, number="02 1234 5678", today=date(2025, 7, 1)
        )
    else:
        voice.number_order_reject(
            actor=staff, order_id=order_id, reason="Bad address", today=date(2025, 7, 1)
        )
    return f"/voice/number-orders/{order_id}/"


def _correction(world: VoiceWorld, apply: bool) -> str:
    pbx = world.pbx(term="yearly", start=date(2026, 3, 2))
    correction = pbx_services.correction_file(
        actor=world.actor,
        pbx_id=pbx.pk,
        change_date=date(2026, 3, 2),
        quantities={"UC-BUSINESS": 2},
        today=date(2026, 3, 3),
    )
    if apply:
        pbx_services.correction_apply(
            actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 3)
        )
    else:
        pbx_services.correction_reject(
            actor=world.staff_actor,
            correction_id=correction.pk,
            reason="Not a mistake",
            today=date(2026, 3, 3),
        )
    return f"/pbxs/{pbx.pk}/"


def _hardware_shipped(world: VoiceWorld) -> str:
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    accepted_agreement(world)
    order = hardware.order_create(actor=world.actor, pbx_id=pbx.pk)
    hardware.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=1)
    hardware.order_place(actor=world.actor, order_id=order.pk, today=date(2024, 3, 20))
    StockItem.objects.filter(product__code="HW-PHONE").update(on_hand=5)
    manager = Actor(user=world.manager)
    hardware.order_confirm(actor=manager, order_id=order.pk)
    hardware.order_ship(actor=manager, order_id=order.pk, note="DHL 123")
    return f"/hwaas/orders/{order.pk}/"


def _renewal_reminder(world: VoiceWorld) -> str:
    pbx = world.pbx(term="monthly", start=date(2026, 1, 10))
    assert pbx.expires_on is not None
    assert renewal_reminders(day=pbx.expires_on - timedelta(days=7)) == 1
    return f"/pbxs/{pbx.pk}/"


DECISIONS: dict[str, tuple[Kind, Callable[[VoiceWorld], str]]] = {
    "agreement accepted": (Kind.AGREEMENT_ACCEPTED, _agreement_accepted),
    "agreement rejected": (Kind.AGREEMENT_REJECTED, _agreement_rejected),
    "number order approved": (Kind.NUMBER_ORDER_APPROVED, lambda w: _number_order(w, True)),
    "number order rejected": (Kind.NUMBER_ORDER_REJECTED, lambda w: _number_order(w, False)),
    "correction applied": (Kind.CORRECTION_APPLIED, lambda w: _correction(w, True)),
    "correction rejected": (Kind.CORRECTION_REJECTED, lambda w: _correction(w, False)),
    "hardware shipped": (Kind.HARDWARE_SHIPPED, _hardware_shipped),
    "renewal reminder": (Kind.RENEWAL_REMINDER, _renewal_reminder),
}


@pytest.mark.parametrize("decision", list(DECISIONS))
def test_each_decision_is_a_notification_and_an_email(
    world: VoiceWorld, smtp: Inbox, django_capture_on_commit_callbacks: Any, decision: str
) -> None:
    kind, take = DECISIONS[decision]
    # when staff (or the clock) take the decision
    with django_capture_on_commit_callbacks(execute=True):
        link = take(world)
    # then the partner's admin has one unread notification of that kind linking to the object
    mine = Notification.objects.filter(user=world.user, kind=kind)
    assert [(n.link, n.read_at) for n in mine] == [(link, None)]
    # ... and one email with the same title and the link in full
    mails = [m for m in smtp.to(ADMIN_MAIL) if m["Subject"] == mine[0].title]
    assert len(mails) == 1
    assert f"http://testserver{link}" in mails[0].get_payload(decode=True).decode()


def test_the_renewal_reminder_also_reaches_the_billing_contact_once(
    world: VoiceWorld, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    # given the default billing contact shares its address with the admin
    world.partner.billing_contacts.update(email=ADMIN_MAIL.upper())
    with django_capture_on_commit_callbacks(execute=True):
        _renewal_reminder(world)
    # then that address gets one reminder, not two
    reminders = [m for m in smtp.messages if "renews" in m["Subject"]]
    assert [m["To"] for m in reminders] == [ADMIN_MAIL]


def test_preferences_off_means_no_email_and_no_notification(
    world: VoiceWorld, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    # given the admin wants number approvals in the portal only, and rejections not at all
    preferences_set(
        actor=world.actor,
        choices={Kind.NUMBER_ORDER_APPROVED: (True, False), Kind.NUMBER_ORDER_REJECTED: (False, False)},
    )
    with django_capture_on_commit_callbacks(execute=True):
        _number_order(world, approve=True)
        _number_order(world, approve=False)
    # then the approval is in the portal without an email, the rejection nowhere
    assert list(Notification.objects.filter(user=world.user).values_list("kind", flat=True)) == [
        Kind.NUMBER_ORDER_APPROVED
    ]
    assert smtp.to(ADMIN_MAIL) == []


def test_only_the_roles_that_care_are_told(
    world: VoiceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    # given a billing user and a technician of the partner
    billing = User.objects.create_user(
        "bill", password="x" * 12, partner=world.partner, partner_role=PartnerRole.BILLING
    )
    tech = User.objects.create_user(
        "tech", password="x" * 12, partner=world.partner, partner_role=PartnerRole.TECHNICIAN
    )
    with django_capture_on_commit_callbacks(execute=True):
        _hardware_shipped(world)
    # then the technician (who orders hardware) is told, the billing user is not
    told = set(Notification.objects.filter(kind=Kind.HARDWARE_SHIPPED).values_list("user_id", flat=True))
    assert told == {world.user.pk, tech.pk}
    assert billing.pk not in told


def test_a_rolled_back_decision_leaves_no_notification_and_sends_nothing(
    world: VoiceWorld, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                _agreement_rejected(world)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert not Notification.objects.exists()
    assert smtp.messages == []


def test_partner_pages_list_mark_read_and_follow_the_link(world: VoiceWorld, client_for: Any) -> None:
    link = _number_order(world, approve=False)
    client: Client = client_for(world.user)
    # the bell shows one unread
    page = client.get("/dashboard/").content.decode()
    assert 'data-unread="1"' in page
    note = Notification.objects.get(user=world.user)
    # following the notification marks it read and goes to the order
    response = client.get(f"/notifications/{note.pk}/open/")
    assert (response.status_code, response["Location"]) == (302, link)
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'data-unread="' not in client.get("/dashboard/").content.decode()
    # mark all read, via the page
    Notification.objects.update(read_at=None)
    assert client.post("/notifications/read-all/").status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_preferences_page_saves_the_choices(world: VoiceWorld, client_for: Any) -> None:
    client: Client = client_for(world.user)
    page = client.get("/notifications/preferences/").content.decode()
    assert 'name="number_order_approved:email" checked' in page
    # when everything is unticked but number approvals in the portal
    client.post("/notifications/preferences/", {"number_order_approved:in_portal": "on"})
    page = client.get("/notifications/preferences/").content.decode()
    assert 'name="number_order_approved:in_portal" checked' in page
    assert 'name="number_order_approved:email" checked' not in page
    assert 'name="renewal_reminder:email" checked' not in page


def test_another_partner_cannot_see_or_mark_it(
    world: VoiceWorld, make_partner: Any, make_user: Any, client_for: Any
) -> None:
    _number_order(world, approve=False)
    note = Notification.objects.get(user=world.user)
    other = make_user(make_partner("other"))
    client: Client = client_for(other)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 404
    assert client.get(f"/notifications/{note.pk}/open/").status_code == 404
    assert client.post(f"/api/v1/notifications/{note.pk}/read").status_code == 404
    assert client.get("/api/v1/notifications/").json()["items"] == []
    assert note.title not in client.get("/notifications/").content.decode()
    note.refresh_from_db()
    assert note.read_at is None


def test_the_api_lists_and_marks_read(world: VoiceWorld, client_for: Any) -> None:
    _number_order(world, approve=False)
    client: Client = client_for(world.user)
    body = client.get("/api/v1/notifications/?unread=true").json()
    assert (body["count"], body["items"][0]["kind"]) == (1, "number_order_rejected")
    note_id = body["items"][0]["id"]
    assert client.post(f"/api/v1/notifications/{note_id}/read").json()["read_at"] is not None
    assert client.get("/api/v1/notifications/?unread=true").json()["count"] == 0
    assert client.post("/api/v1/notifications/read-all").json() == {"marked": 0}
