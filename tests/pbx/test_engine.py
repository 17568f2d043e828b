"""The subscription engine's acceptance scenarios (issue 3): R-PBX-*, R-CO-*, R-CLK-1."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from pbxportal.catalog.models import Price
from pbxportal.clock.services import clock_run
from pbxportal.common.errors import RuleViolation
from pbxportal.invoicing.models import Invoice, InvoiceLine
from pbxportal.pbx import charges, services
from pbxportal.pbx.models import Pbx, PbxStatus, Subscription
from pbxportal.pbx.selectors import ledger_replay
from tests.pbx.builders import World, hwaas_agreement_on_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return World()


def half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_seed_scenario_voice_trunk_is_cotermed_and_prorated_278_of_365(world: World) -> None:
    # given a yearly PBX activated 2020-05-15 (R-PBX-4)
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    assert charges.expires_on(pbx, date(2020, 8, 10)) == date(2021, 5, 15)
    # when the voice trunk is ordered on 2020-08-10 (R-CO-1, R-CO-3)
    result = services.service_order(
        actor=world.actor, pbx=pbx, product_code="VOICE-FLAT", today=date(2020, 8, 10)
    )
    # then it expires with the PBX and costs yearly_price x 278 / 365, rounded once
    (line,) = result.invoice.lines.all()
    yearly_price = Price.objects.get(plan__code="VOICE-FLAT-yearly", band_min=1).amount
    assert (line.days_charged, line.days_in_term) == (278, 365)
    assert line.period_end == date(2021, 5, 15)
    assert line.amount == half_up(yearly_price * 4 * 278 / 365)
    assert line.unit_price == yearly_price and line.quantity == 4


def test_monthly_service_on_yearly_pbx_is_refused_r_co_1(world: World) -> None:
    hwaas_agreement_on_record(world)  # the HWaaS agreement is accepted (R-HW-2): this is about the term
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    with pytest.raises(RuleViolation) as refused:
        services.service_order(
            actor=world.actor, pbx=pbx, product_code="MONTHLY-ONLY", today=date(2020, 8, 10)
        )
    assert refused.value.rule == "R-CO-1"
    with pytest.raises(RuleViolation) as refused:
        services.service_order(
            actor=world.actor, pbx=pbx, product_code="HW-PHONE", term="monthly", today=date(2020, 8, 10)
        )
    assert refused.value.rule == "R-CO-1"


def test_voice_trunk_on_lifetime_pbx_is_refused_r_co_2(world: World) -> None:
    pbx = world.pbx(term="lifetime", start=date(2020, 5, 15))
    with pytest.raises(RuleViolation) as refused:
        services.service_order(actor=world.actor, pbx=pbx, product_code="VOICE-FLAT", today=date(2020, 8, 10))
    assert refused.value.rule == "R-CO-2"


def test_voice_trunk_needs_firmware_6(world: World) -> None:
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15), firmware="5.4")
    with pytest.raises(RuleViolation) as refused:
        services.service_order(actor=world.actor, pbx=pbx, product_code="VOICE-FLAT", today=date(2020, 8, 10))
    assert refused.value.rule == "R-CO-2" and "6.0" in refused.value.message


def test_lifetime_cloud_pbx_is_refused_r_pbx_2(world: World) -> None:
    with pytest.raises(RuleViolation) as refused:
        world.pbx(term="lifetime", start=date(2020, 5, 15), cloud=True)
    assert refused.value.rule == "R-PBX-2"


def test_decrease_on_last_day_of_month_refused_and_day_before_accepted_without_credit(world: World) -> None:
    # given a yearly PBX with 4 users started 2020-05-15
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    invoices_before = Invoice.objects.count()
    # when decreasing on 2021-01-31 (the last day of the month) -> refused (R-PBX-8)
    with pytest.raises(RuleViolation) as refused:
        services.pbx_change_licences(
            actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=2, today=date(2021, 1, 31)
        )
    assert refused.value.rule == "R-PBX-8"
    # when decreasing on 2021-01-30 -> accepted, effective at once, nothing credited
    result = services.pbx_change_licences(
        actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=2, today=date(2021, 1, 30)
    )
    assert result.invoice is None and Invoice.objects.count() == invoices_before
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 2
    # then the next renewal (invoiced on 2021-05-14) invoices the reduced quantity
    clock_run(until=date(2021, 5, 14))
    renewal = Invoice.objects.get(source_key__startswith=f"renewal:{pbx.pk}:")
    (line,) = renewal.lines.all()
    assert renewal.issued_on == date(2021, 5, 14)
    assert (line.quantity, line.amount, line.period_start, line.period_end) == (
        2,
        Decimal("240.00"),
        date(2021, 5, 15),
        date(2022, 5, 15),
    )


def test_increase_is_charged_prorated_to_expiry_and_warns_when_late(world: World) -> None:
    # given a monthly PBX anchored on the 31st, renewed by the clock: its term is [2021-02-28, 2021-03-31)
    pbx = world.pbx(term="monthly", start=date(2021, 1, 31))
    clock_run(until=date(2021, 3, 29))
    result = services.pbx_change_licences(
        actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=5, today=date(2021, 3, 30)
    )
    (line,) = result.invoice.lines.all()
    assert (line.days_charged, line.days_in_term, line.amount) == (1, 31, half_up(Decimal(10) * 1 / 31))
    assert any("R-PBX-6" in w for w in result.plan.warnings)


def test_deletion_countdown_stops_on_day_5_deletes_on_day_14(world: World) -> None:
    # given users reach zero on day D
    d = date(2021, 3, 10)
    pbx = world.pbx(term="yearly", start=date(2021, 1, 5))
    services.pbx_change_licences(actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=0, today=d)
    clock_run(until=d + timedelta(days=4), since=d)
    assert Pbx.objects.get(pk=pbx.pk).status == PbxStatus.PENDING_DELETION
    clock_run(until=d + timedelta(days=5))
    assert Pbx.objects.get(pk=pbx.pk).status == PbxStatus.STOPPED
    clock_run(until=d + timedelta(days=13))
    assert Pbx.objects.get(pk=pbx.pk).status == PbxStatus.STOPPED
    clock_run(until=d + timedelta(days=14))
    assert Pbx.objects.get(pk=pbx.pk).status == PbxStatus.DELETED
    with pytest.raises(RuleViolation):
        services.pbx_change_licences(
            actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=1, today=d + timedelta(days=15)
        )


def test_a_licence_added_back_on_day_10_restores_the_pbx_and_notifies_the_area_manager(
    world: World, mailoutbox: list, django_capture_on_commit_callbacks: Any
) -> None:
    d = date(2021, 3, 10)
    pbx = world.pbx(term="yearly", start=date(2021, 1, 5))
    services.pbx_change_licences(actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=0, today=d)
    clock_run(until=d + timedelta(days=9), since=d)
    assert Pbx.objects.get(pk=pbx.pk).status == PbxStatus.STOPPED
    # when one licence is added back on D+10
    with django_capture_on_commit_callbacks(execute=True):
        services.pbx_change_licences(
            actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=1, today=d + timedelta(days=10)
        )
    clock_run(until=d + timedelta(days=20))
    # then it is active again, never deleted, and the area manager got a mail
    assert Pbx.objects.get(pk=pbx.pk).status == PbxStatus.ACTIVE
    assert any("restored" in m.subject and "am@vendor.example" in m.to for m in mailoutbox)


def _snapshot() -> list[tuple[object, ...]]:
    return [
        (
            inv.number,
            inv.issued_on,
            inv.total,
            tuple(
                (ln.product_code, ln.quantity, ln.amount, ln.period_start, ln.period_end)
                for ln in inv.lines.all()
            ),
        )
        for inv in Invoice.objects.order_by("number")
    ]


@pytest.mark.slow
def test_clock_day_by_day_equals_one_jump_over_two_years(world: World, django_db_blocker: object) -> None:
    from django.db import transaction

    # given PBXs of every recurring term with anchors on awkward days, and some changes
    start = date(2020, 1, 31)
    pbxs = [
        world.pbx(term="monthly", start=start),
        world.pbx(term="yearly", start=date(2020, 2, 29)),
        world.pbx(term="five_year", start=date(2020, 3, 15)),
    ]
    services.service_order(actor=world.actor, pbx=pbxs[1], product_code="VOICE-FLAT", today=date(2020, 6, 1))
    end = start + timedelta(days=730)
    results = []
    for step in ("day-by-day", "one jump"):
        with transaction.atomic():
            if step == "day-by-day":
                day = start
                while day <= end:
                    clock_run(until=day)
                    clock_run(until=day)  # a second run of the same day changes nothing
                    day += timedelta(days=1)
            else:
                clock_run(until=end)
            results.append(_snapshot())
            transaction.set_rollback(True)
    # then the same invoices, to the cent, and there were renewals to compare
    assert results[0] == results[1]
    assert len(results[0]) > 24


def test_ledger_replays_to_current_quantities(world: World) -> None:
    pbx = world.pbx(term="monthly", start=date(2021, 5, 3))
    for day, qty in ((5, 7), (9, 3), (12, 9), (20, 1)):
        services.pbx_change_licences(
            actor=world.actor, pbx_id=pbx.pk, profile="UC-BUSINESS", quantity=qty, today=date(2021, 5, day)
        )
    replay = ledger_replay(pbx)
    assert replay == {s.pk: s.quantity for s in Subscription.objects.filter(pbx=pbx)}
    assert InvoiceLine.objects.filter(pbx=pbx).count() == 1 + 2
