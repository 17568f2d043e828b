"""Software-PBX expansions and their checkout (R-EX-1..6, R-LIC-1, R-LIC-2)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from pbxportal.accounts.models import BillingContact
from pbxportal.common.errors import ApplicationError, RuleViolation
from pbxportal.common.timeutil import vendor_today
from pbxportal.core import licence
from pbxportal.expansions.models import OrderStatus
from pbxportal.expansions.services import ServiceRequest, expansion_checkout
from pbxportal.invoicing.models import InvoiceStatus
from pbxportal.licensing.keys import published_keys
from pbxportal.payments.services import payment_record_offline
from pbxportal.pbx.models import Pbx, Subscription
from pbxportal.pbx.services import plan_switch, service_order
from tests.expansions.builders import SoftwareWorld

TODAY = vendor_today()
AGENT = "/api/v1/pbx-agent"


@pytest.fixture
def world(db: Any) -> SoftwareWorld:
    return SoftwareWorld()


def active_pbx(world: SoftwareWorld, name: str, plan: str = "PSE-ENTERPRISE") -> tuple[Pbx, str]:
    pbx = world.pbx(name=name, plan=plan, start=TODAY)
    response = Client().post(
        f"{AGENT}/activate", {"pbx_key": pbx.new_pbx_key}, content_type="application/json"
    )
    assert response.status_code == 200
    pbx.refresh_from_db()
    return pbx, response.json()["credential"]


def poll(credential: str, etag: str = "") -> Any:
    headers = {"Authorization": f"Bearer {credential}"}
    if etag:
        headers["If-None-Match"] = etag
    return Client().get(f"{AGENT}/licence", headers=headers)


def checkout(world: SoftwareWorld, pbx: Pbx, *services: ServiceRequest, **options: Any) -> Any:
    options.setdefault("payment_method", "offline")
    options.setdefault("billing_contact_id", world.contact.pk)
    return expansion_checkout(
        actor=world.actor, pbx_id=pbx.pk, services=list(services), today=TODAY, **options
    )


def test_offline_checkout_awaits_payment_and_the_paid_order_reaches_the_next_poll(
    world: SoftwareWorld, django_capture_on_commit_callbacks: Any
) -> None:
    # given an active software PBX that has fetched its licence (50 extensions)
    pbx, credential = active_pbx(world, "hotel-one")
    first = poll(credential)
    assert licence.verify(first.content, published_keys()).capacity["extensions"] == 50
    # when the partner checks out 20 extensions, paying offline with a PI number
    with django_capture_on_commit_callbacks(execute=True):
        result = checkout(world, pbx, ServiceRequest("PSE-EXT", 20), pi_number="PI-2025-001")
    order = result.order
    # then the order awaits payment, on one invoice to the chosen contact, and the licence is unchanged
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.invoice.billing_contact_id == world.contact.pk
    assert order.invoice.total == order.total > 0
    assert poll(credential, first["ETag"]).status_code == 304
    # when staff record the bank transfer (payments app, R-INV-4)
    with django_capture_on_commit_callbacks(execute=True):
        payment_record_offline(
            actor=world.staff_actor,
            invoice_id=order.invoice.pk,
            amount=order.invoice.total,
            received_on=TODAY,
            pi_number="PI-2025-001",
        )
    # then the order is paid and the next poll returns the new capacity in a new version
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.invoice.status == InvoiceStatus.PAID
    response = poll(credential, first["ETag"])
    assert response.status_code == 200
    document = licence.verify(response.content, published_keys(), min_version=1)
    assert document.capacity["extensions"] == 70
    assert document.version == 2
    # and the billing contact got the summary with an activation code that the PBX can redeem
    [message] = [m for m in mail.outbox if "Expansion order" in m.subject]
    assert message.to == [world.contact.email]
    assert "Extension expansion x20" in message.body and "extensions 70" in message.body
    code = message.body.split("Activation code (licence version 2): ")[1].split()[0]
    redeemed = Client().post(
        f"{AGENT}/redeem",
        {"code": code},
        content_type="application/json",
        headers={"Authorization": f"Bearer {credential}"},
    )
    assert redeemed.status_code == 200 and redeemed.content == response.content


def test_checkout_with_a_new_billing_contact_keeps_it_with_the_partners_contacts(
    world: SoftwareWorld,
) -> None:
    pbx, _ = active_pbx(world, "hotel-one")
    # when the partner adds a new contact at checkout and pays by card
    result = checkout(
        world,
        pbx,
        ServiceRequest("PSE-DR"),
        billing_contact_id=None,
        payment_method="card",
        new_contact={"name": "Hotel accounts", "email": "ap@hotel.example"},
    )
    # then the contact is one of the partner's billing contacts and receives the invoice
    contact = BillingContact.objects.get(partner=world.partner, email="ap@hotel.example")
    assert result.order.invoice.billing_contact_id == contact.pk
    assert result.order.payment_method == "card"


def test_the_six_services_and_their_pricing_models(world: SoftwareWorld) -> None:
    # given an active software PBX on a Gold USD book, and a preview of every R-EX-1 service
    pbx, _ = active_pbx(world, "hotel-one")
    result = expansion_checkout(
        actor=world.actor,
        pbx_id=pbx.pk,
        today=TODAY,
        payment_method="paypal",
        preview=True,
        services=[
            ServiceRequest("PSE-EXT", 10),
            ServiceRequest("PSE-CC", 5),
            ServiceRequest("PSE-OCC", 3),
            ServiceRequest("PSE-DR", 7),
            ServiceRequest("PSE-PMS", one_off=True),
        ],
    )
    by_plan = {line.product_code: line for line in result.lines}
    # then per-unit services charge their quantity, flat ones one unit, PMS one-off its one-off price
    assert by_plan["PSE-EXT-1y"].quantity == 10 and by_plan["PSE-CC-1y"].quantity == 5
    assert by_plan["PSE-OCC-1y"].quantity == 3 and by_plan["PSE-DR-1y"].quantity == 1
    assert by_plan["PSE-PMS-once"].amount == Decimal("480.00")
    # a service ordered the day the PBX starts is charged its full term (R-CO-3): 10 x 2.40
    assert by_plan["PSE-EXT-1y"].amount == Decimal("24.00")
    # and nothing was written by the preview
    assert not Subscription.objects.filter(pbx=pbx, product__family="expansion").exists()


def test_a_one_off_hotel_pms_stays_in_the_licence(
    world: SoftwareWorld, django_capture_on_commit_callbacks: Any
) -> None:
    pbx, credential = active_pbx(world, "hotel-one")
    with django_capture_on_commit_callbacks(execute=True):
        order = checkout(world, pbx, ServiceRequest("PSE-PMS", one_off=True)).order
        payment_record_offline(
            actor=world.staff_actor,
            invoice_id=order.invoice.pk,
            amount=order.invoice.total,
            received_on=TODAY,
        )
    document = licence.verify(poll(credential).content, published_keys())
    assert document.services["hotel_pms"]["payment"] == "one_off"


def test_auto_renew_off_is_kept_on_the_ordered_services(world: SoftwareWorld) -> None:
    pbx, _ = active_pbx(world, "hotel-one")
    order = checkout(world, pbx, ServiceRequest("PSE-CC", 2), auto_renew=False).order
    assert [line.subscription.auto_renew for line in order.lines.all()] == [False]


def test_checkout_refuses_an_unknown_payment_method_and_a_missing_billing_contact(
    world: SoftwareWorld,
) -> None:
    pbx, _ = active_pbx(world, "hotel-one")
    with pytest.raises(ApplicationError) as refused:
        checkout(world, pbx, ServiceRequest("PSE-EXT", 1), payment_method="cheque")
    assert refused.value.fields == {"payment_method": "invalid"}
    with pytest.raises(ApplicationError) as no_contact:
        checkout(world, pbx, ServiceRequest("PSE-EXT", 1), billing_contact_id=None)
    assert no_contact.value.rule == "R-EX-2"


def test_hot_standby_is_refused_unless_both_licences_have_the_same_plan_and_capacity(
    world: SoftwareWorld, django_capture_on_commit_callbacks: Any
) -> None:
    # given a primary with 10 extra extensions, an Ultimate second PBX and an Enterprise second PBX
    primary, _ = active_pbx(world, "primary")
    ultimate, _ = active_pbx(world, "ultimate", plan="PSE-ULTIMATE")
    standby, standby_credential = active_pbx(world, "standby")
    service_order(actor=world.actor, pbx=primary, product_code="PSE-EXT", quantity=10, today=TODAY)
    # when hot standby is ordered against the Ultimate PBX, then refused: another plan (R-EX-6)
    with pytest.raises(RuleViolation) as other_plan:
        checkout(world, primary, ServiceRequest("PSE-HOTSTANDBY", standby_serial=ultimate.serial))
    assert other_plan.value.rule == "R-EX-6" and "PSE-ULTIMATE" in other_plan.value.message
    # when against the Enterprise PBX with 50 extensions (the primary has 60), then refused: capacity
    with pytest.raises(RuleViolation) as other_capacity:
        checkout(world, primary, ServiceRequest("PSE-HOTSTANDBY", standby_serial=standby.serial))
    assert "60 extensions" in other_capacity.value.message and "50 extensions" in other_capacity.value.message
    # when against itself or nothing, then refused
    for serial in (primary.serial, "", "PBX-NOPE"):
        with pytest.raises(RuleViolation):
            checkout(world, primary, ServiceRequest("PSE-HOTSTANDBY", standby_serial=serial))
    # given the same capacity on the second licence
    service_order(actor=world.actor, pbx=standby, product_code="PSE-EXT", quantity=10, today=TODAY)
    # when ordered and paid, then both licences name the pair
    with django_capture_on_commit_callbacks(execute=True):
        order = checkout(
            world, primary, ServiceRequest("PSE-HOTSTANDBY", standby_serial=standby.serial)
        ).order
        payment_record_offline(
            actor=world.staff_actor,
            invoice_id=order.invoice.pk,
            amount=order.invoice.total,
            received_on=TODAY,
        )
    primary_doc = licence.verify(
        bytes(primary.licence_versions.order_by("-version").first().wire), published_keys()
    )
    assert primary_doc.services["hot_standby"]["standby_serial"] == standby.serial
    standby_doc = licence.verify(poll(standby_credential).content, published_keys())
    assert standby_doc.services["hot_standby"] == {
        "product": "PSE-HOTSTANDBY",
        "role": "standby",
        "primary_serial": primary.serial,
    }
    # and the pair cannot be linked twice
    with pytest.raises(RuleViolation) as twice:
        checkout(world, primary, ServiceRequest("PSE-HOTSTANDBY", standby_serial=standby.serial))
    assert "already part of a hot-standby pair" in twice.value.message


def test_plan_switch_upgrade_is_prorated_now_and_a_downgrade_waits_for_the_term_end(
    world: SoftwareWorld, django_capture_on_commit_callbacks: Any
) -> None:
    # given an active Enterprise PBX started today
    pbx, credential = active_pbx(world, "hotel-one")
    later = TODAY + timedelta(days=73)
    # when upgraded to Ultimate 73 days later (R-EX-5), then the price difference is charged prorated
    with django_capture_on_commit_callbacks(execute=True):
        upgrade = plan_switch(actor=world.actor, pbx_id=pbx.pk, product_code="PSE-ULTIMATE", today=later)
    days = (pbx.expires_on - later).days
    term_days = (pbx.expires_on - TODAY).days
    expected = (Decimal("160.00") * days / term_days).quantize(Decimal("0.01"))
    assert upgrade.invoice is not None and upgrade.invoice.total == expected
    # and the licence says Ultimate at once
    assert (
        licence.verify(poll(credential).content, published_keys()).services["plan"]["product"]
        == "PSE-ULTIMATE"
    )
    # when downgraded back, then nothing is charged and the switch is scheduled for the term's end
    downgrade = plan_switch(actor=world.actor, pbx_id=pbx.pk, product_code="PSE-ENTERPRISE", today=later)
    assert downgrade.invoice is None
    sub = Subscription.objects.get(pbx=pbx, product__family="software_plan")
    assert sub.product.code == "PSE-ULTIMATE" and sub.scheduled_plan.code == "PSE-ENTERPRISE-1y"


def test_an_unpaid_order_can_be_cancelled_its_services_end_and_its_invoice_is_credited(
    world: SoftwareWorld,
) -> None:
    from pbxportal.expansions.services import expansion_order_cancel
    from pbxportal.invoicing.models import Invoice, InvoiceKind

    # given an order awaiting payment
    pbx, _ = active_pbx(world, "hotel-one")
    order = checkout(world, pbx, ServiceRequest("PSE-EXT", 5)).order
    # when the partner cancels it
    expansion_order_cancel(actor=world.actor, order_id=order.pk, today=TODAY)
    # then its service is cancelled and a credit note cancels the invoice, which is never edited
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert [line.subscription.status for line in order.lines.all()] == ["cancelled"]
    note = Invoice.objects.get(credited_invoice=order.invoice, kind=InvoiceKind.CREDIT_NOTE)
    assert note.total == -order.invoice.total
    # and it cannot be cancelled twice, nor paid afterwards into a delivery
    with pytest.raises(ApplicationError):
        expansion_order_cancel(actor=world.actor, order_id=order.pk, today=TODAY)


def test_without_auto_renew_the_capacity_leaves_the_licence_at_expiry(
    world: SoftwareWorld, django_capture_on_commit_callbacks: Any
) -> None:
    from pbxportal.clock.services import clock_run

    # given 20 extra extensions bought with auto-renew off, paid, on a PBX that renews
    pbx, credential = active_pbx(world, "hotel-one")
    with django_capture_on_commit_callbacks(execute=True):
        order = checkout(world, pbx, ServiceRequest("PSE-EXT", 20), auto_renew=False).order
        payment_record_offline(
            actor=world.staff_actor,
            invoice_id=order.invoice.pk,
            amount=order.invoice.total,
            received_on=TODAY,
        )
    assert licence.verify(poll(credential).content, published_keys()).capacity["extensions"] == 70
    # when the clock passes the expiry (R-EX-4)
    expiry = pbx.expires_on
    clock_run(since=expiry - timedelta(days=1), until=expiry)
    # then the next poll has the plan's 50 extensions again and the new expiry
    document = licence.verify(poll(credential).content, published_keys())
    assert document.capacity["extensions"] == 50
    assert document.expires_on is not None and document.expires_on > expiry
