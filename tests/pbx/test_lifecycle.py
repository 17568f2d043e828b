"""Date-driven rules of the engine: activation, SSH, reminders, corrections, auto-renew, plan
switches and the clock's catch-up (R-PBX-3, 6, 10, 11, R-EX-4, R-EX-5, R-CLK-1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pbxportal.clock.models import ClockDay
from pbxportal.clock.services import clock_run
from pbxportal.common.errors import RuleViolation
from pbxportal.invoicing.models import Invoice, InvoiceKind
from pbxportal.pbx import charges, services
from pbxportal.pbx.models import (
    CorrectionStatus,
    Pbx,
    PbxStatus,
    Reminder,
    SshWindow,
    Subscription,
    SubscriptionStatus,
)
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return World()


def test_cloud_pbx_activates_about_three_minutes_after_creation(world: World) -> None:
    # given a cloud PBX just created
    services.pbx_create(
        actor=world.actor,
        customer_id=world.customer.pk,
        model_code="WPBX-CLOUD",
        name="cloudy",
        term="monthly",
        licences={"UC-BUSINESS": 2},
        region="eu-west",
        today=date(2026, 1, 10),
    )
    pbx = Pbx.objects.get(name="cloudy")
    assert pbx.status == PbxStatus.PENDING_ACTIVATION and pbx.activation_due_at is not None
    # when the short jobs run before and after the 3 minutes
    assert services.cloud_activation_due(now=pbx.activation_due_at - timedelta(seconds=1)) == 0
    assert services.cloud_activation_due(now=pbx.activation_due_at) == 1
    # then it is active and runs the vendor's firmware
    pbx.refresh_from_db()
    assert pbx.status == PbxStatus.ACTIVE and pbx.firmware_version


def test_vm_pbx_gets_a_key_and_activates_when_it_presents_it(world: World) -> None:
    created = services.pbx_create(
        actor=world.actor,
        customer_id=world.customer.pk,
        model_code="WPBX-VMHW",
        name="onprem",
        term="yearly",
        licences={"UC-BUSINESS": 2},
        today=date(2026, 1, 10),
    )
    pbx = Pbx.objects.get(name="onprem")
    assert created.pbx is not None
    key = created.pbx.new_pbx_key  # in clear only on the creating answer
    assert key and pbx.status == PbxStatus.PENDING_ACTIVATION
    assert pbx.pbx_key_digest and key not in pbx.pbx_key_digest and pbx.pbx_key_prefix == key[:6]
    assert services.pbx_activate_with_key(pbx_key=key, now=datetime.now(UTC)).status == PbxStatus.ACTIVE


@pytest.mark.parametrize("name", ["-bad", "bad-", "UPPER_case", "a" * 64, "dots.not.allowed", ""])
def test_pbx_name_must_be_a_dns_label(world: World, name: str) -> None:
    from pbxportal.common.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        services.pbx_create(
            actor=world.actor,
            customer_id=world.customer.pk,
            model_code="WPBX-VMHW",
            name=name,
            term="yearly",
            licences={"UC-BUSINESS": 1},
            today=date(2026, 1, 10),
        )
    assert "name" in refused.value.fields


def test_pbx_names_are_unique_across_the_vendor(world: World) -> None:
    from pbxportal.common.errors import Conflict

    world.pbx(start=date(2026, 1, 10), name="taken")
    with pytest.raises(Conflict):
        world.pbx(start=date(2026, 1, 10), name="taken")


def test_ssh_window_defaults_to_one_hour_max_24h_closes_by_itself_and_is_audited(world: World) -> None:
    from pbxportal.common.models import AuditEvent

    pbx = world.pbx(start=date(2026, 1, 10), cloud=True)
    now = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    window = services.ssh_open(actor=world.actor, pbx_id=pbx.pk, now=now)
    assert window.closes_at - window.opened_at == timedelta(hours=1)
    with pytest.raises(RuleViolation) as refused:
        services.ssh_open(actor=world.actor, pbx_id=pbx.pk, minutes=24 * 60 + 1, now=now)
    assert refused.value.rule == "R-PBX-11"
    assert services.ssh_close_due(now=now + timedelta(minutes=59)) == 0
    assert services.ssh_close_due(now=now + timedelta(hours=1)) == 1
    assert SshWindow.objects.get(pk=window.pk).closed_at == window.closes_at
    assert list(
        AuditEvent.objects.filter(object_id=str(pbx.pk), action__startswith="ssh.").values_list(
            "action", flat=True
        )
    ) == ["ssh.closed", "ssh.opened"]


def test_ssh_is_refused_on_a_vm_pbx(world: World) -> None:
    pbx = world.pbx(start=date(2026, 1, 10))
    with pytest.raises(RuleViolation):
        services.ssh_open(actor=world.actor, pbx_id=pbx.pk, now=datetime(2026, 1, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("term", "expected_days"), [("yearly", [30, 7]), ("five_year", [30, 7]), ("monthly", [7])]
)
def test_renewal_reminders_30_and_7_days_or_7_on_monthly(
    world: World,
    term: str,
    expected_days: list[int],
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    pbx = world.pbx(term=term, start=date(2026, 1, 10))
    expiry = pbx.expires_on
    assert expiry is not None
    # the reminder mails leave after the clock's transaction commits (notifications.notify)
    with django_capture_on_commit_callbacks(execute=True):
        clock_run(until=expiry - timedelta(days=1), since=expiry - timedelta(days=40))
        clock_run(
            until=expiry - timedelta(days=1), since=expiry - timedelta(days=40)
        )  # re-run: no second reminder
    assert (
        sorted(Reminder.objects.filter(pbx=pbx).values_list("days_before", flat=True), reverse=True)
        == expected_days
    )
    assert len([m for m in mailoutbox if "renews" in m.subject]) == len(expected_days)


def test_correction_within_one_business_day_skips_weekend_and_holidays(world: World) -> None:
    # given a change on Friday 2026-12-04 (Italy): Monday 2026-12-07 is a business day, 12-08 a holiday
    pbx = world.pbx(term="yearly", start=date(2026, 12, 4))
    assert services.next_business_day(date(2026, 12, 4)) == date(2026, 12, 7)
    assert services.next_business_day(date(2026, 12, 7)) == date(2026, 12, 9)  # Immacolata, 8 December
    correction = services.correction_file(
        actor=world.actor,
        pbx_id=pbx.pk,
        change_date=date(2026, 12, 4),
        quantities={"UC-BUSINESS": 2},
        today=date(2026, 12, 7),
    )
    assert correction.status == CorrectionStatus.FILED
    with pytest.raises(RuleViolation) as refused:
        services.correction_file(
            actor=world.actor,
            pbx_id=pbx.pk,
            change_date=date(2026, 12, 4),
            quantities={"UC-BUSINESS": 2},
            today=date(2026, 12, 8),
        )
    assert refused.value.rule == "R-PBX-10"


def test_staff_apply_a_correction_as_a_credit_note_and_partners_cannot(world: World) -> None:
    from pbxportal.common.errors import Forbidden

    # given a yearly PBX activated with 4 users by mistake (should have been 2)
    pbx = world.pbx(term="yearly", start=date(2026, 3, 2))
    first = Invoice.objects.get(pbx=pbx)
    correction = services.correction_file(
        actor=world.actor,
        pbx_id=pbx.pk,
        change_date=date(2026, 3, 2),
        quantities={"UC-BUSINESS": 2},
        today=date(2026, 3, 3),
    )
    with pytest.raises(Forbidden):
        services.correction_apply(actor=world.actor, correction_id=correction.pk, today=date(2026, 3, 3))
    # when staff apply it
    (credit,) = services.correction_apply(
        actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 4)
    )
    # then a credit note for 2 users over the whole first term, linked to the invoice; quantities corrected
    assert credit.kind == InvoiceKind.CREDIT_NOTE and credit.credited_invoice == first
    assert credit.total == Decimal("-240.00")
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 2


def test_auto_renew_off_ends_the_subscription_at_expiry_and_it_is_not_invoiced(world: World) -> None:
    # a software PBX: hotel PMS is a service of software PBXs (R-EX-1)
    services.pbx_create(
        actor=world.actor,
        customer_id=world.customer.pk,
        model_code="PSE-ENT",
        name="software-1",
        term="yearly",
        licences={},
        today=date(2026, 1, 10),
    )
    pbx = software = Pbx.objects.get(name="software-1")
    result = services.service_order(
        actor=world.actor, pbx=software, product_code="PSE-PMS", today=date(2026, 2, 1), auto_renew=False
    )
    sub = result.subscription
    assert sub is not None
    clock_run(until=date(2027, 1, 10))
    sub.refresh_from_db()
    renewal = Invoice.objects.get(source_key__startswith=f"renewal:{pbx.pk}:")
    assert "PSE-PMS-yearly" not in set(renewal.lines.values_list("product_code", flat=True))
    assert (sub.status, sub.ended_on) == (SubscriptionStatus.ENDED, date(2027, 1, 10))


def test_auto_renew_cannot_be_switched_off_where_the_catalog_does_not_allow_it(world: World) -> None:
    pbx = world.pbx(term="yearly", start=date(2026, 1, 10))
    with pytest.raises(RuleViolation) as refused:
        services.service_order(
            actor=world.actor, pbx=pbx, product_code="STORAGE-50", today=date(2026, 2, 1), auto_renew=False
        )
    assert refused.value.rule == "R-EX-4"


def _software_pbx(world: World, plan: str, start: date) -> Pbx:
    services.pbx_create(
        actor=world.actor,
        customer_id=world.customer.pk,
        model_code=plan,
        name=f"sw-{plan.lower()}",
        term="yearly",
        licences={},
        today=start,
    )
    return Pbx.objects.get(name=f"sw-{plan.lower()}")


def test_upgrade_is_immediate_and_prorated_downgrade_waits_for_the_term_end(world: World) -> None:
    # given an Enterprise software PBX (300/year) started 2026-01-01
    pbx = _software_pbx(world, "PSE-ENT", date(2026, 1, 1))
    # when upgrading to Ultimate (480/year) on 2026-07-02: the difference 180 for 183 of 365 days
    up = services.plan_switch(
        actor=world.actor, pbx_id=pbx.pk, product_code="PSE-ULT", today=date(2026, 7, 2)
    )
    (line,) = up.invoice.lines.all()
    assert (line.days_charged, line.days_in_term, line.amount) == (183, 365, Decimal("90.25"))
    assert Subscription.objects.get(pbx=pbx, product__family="software_plan").product.code == "PSE-ULT"
    # when downgrading again: nothing charged now, the renewal invoices Enterprise and the switch happens at expiry
    down = services.plan_switch(
        actor=world.actor, pbx_id=pbx.pk, product_code="PSE-ENT", today=date(2026, 8, 1)
    )
    assert down.invoice is None and any("R-EX-5" in w for w in down.plan.warnings)
    clock_run(until=date(2026, 12, 31))
    renewal = Invoice.objects.get(source_key__startswith=f"renewal:{pbx.pk}:")
    assert list(renewal.lines.values_list("product_code", "amount")) == [
        ("PSE-ENT-yearly", Decimal("300.00"))
    ]
    assert Subscription.objects.get(pbx=pbx, product__family="software_plan").product.code == "PSE-ULT"
    clock_run(until=date(2027, 1, 1))
    assert Subscription.objects.get(pbx=pbx, product__family="software_plan").product.code == "PSE-ENT"


def test_a_40_day_jump_catches_up_every_day_in_order_and_a_rerun_does_nothing(world: World) -> None:
    pbx = world.pbx(term="monthly", start=date(2026, 1, 31))
    clock_run(until=date(2026, 1, 31))
    clock_run(until=date(2026, 3, 12))
    days = list(ClockDay.objects.order_by("day").values_list("day", flat=True))
    assert days == [date(2026, 1, 31) + timedelta(days=n) for n in range(41)]
    renewals = list(
        Invoice.objects.filter(pbx=pbx, source_key__startswith="renewal:")
        .order_by("issued_on")
        .values_list("issued_on", flat=True)
    )
    assert renewals == [date(2026, 2, 27)]
    count = Invoice.objects.count()
    clock_run(until=date(2026, 3, 12))
    assert Invoice.objects.count() == count
    assert charges.expires_on(pbx, date(2026, 3, 12)) == date(2026, 3, 31)


def test_reminder_mail_is_sent_to_the_default_billing_contact(
    world: World, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    # given a monthly PBX expiring 2026-06-01: its reminder is due on 2026-05-25
    pbx = world.pbx(term="monthly", start=date(2026, 5, 1))
    with django_capture_on_commit_callbacks(execute=True):
        clock_run(until=date(2026, 5, 24), since=date(2026, 5, 24))
    assert not [m for m in mailoutbox if pbx.name in m.subject]
    with django_capture_on_commit_callbacks(execute=True):
        clock_run(until=date(2026, 5, 25))
    assert [m.to for m in mailoutbox if pbx.name in m.subject] == [["billing@p.example"]]
