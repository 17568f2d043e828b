"""R-HW-5: cancelling HWaaS within its first 6 months still costs the rest of those 6 months.

The clock runs day by day so the PBX renews (and invoices the device) as it would in production.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pbxportal.clock.services import clock_run
from pbxportal.invoicing.models import InvoiceLine, LineKind
from pbxportal.pbx import services
from pbxportal.pbx.models import SubscriptionStatus
from tests.pbx.builders import World, hwaas_agreement_on_record

pytestmark = pytest.mark.django_db

MONTHLY_PRICE = Decimal(5)  # HW-PHONE of tests/pbx/builders.py, per device and month


def _device_lines(sub_id: int) -> list[InvoiceLine]:
    return list(InvoiceLine.objects.filter(subscription_id=sub_id).order_by("period_start", "id"))


def test_cancelling_in_month_2_of_a_monthly_pbx_charges_months_3_to_6() -> None:
    # given a monthly PBX started 10 January with 2 devices rented from the same day
    world = World()
    hwaas_agreement_on_record(world)
    pbx = world.pbx(term="monthly", start=date(2021, 1, 10))
    sub = services.service_order(
        actor=world.actor, pbx=pbx, product_code="HW-PHONE", quantity=2, today=date(2021, 1, 10)
    ).subscription
    assert sub is not None and sub.commitment_until == date(2021, 7, 10)
    # and the clock ran into month 2 (10 February - 10 March), renewing month 2 on 9 February
    clock_run(until=date(2021, 2, 20))
    assert [line.period_start for line in _device_lines(sub.pk)] == [date(2021, 1, 10), date(2021, 2, 10)]
    # when the devices are cancelled on 20 February
    result = services.subscription_cancel(actor=world.actor, sub=sub, today=date(2021, 2, 20))
    # then months 3 to 6 are charged, one full month each, on the cancellation invoice
    assert result.invoice is not None
    lines = list(result.invoice.lines.order_by("period_start"))
    assert [(line.period_start, line.period_end) for line in lines] == [
        (date(2021, 3, 10), date(2021, 4, 10)),
        (date(2021, 4, 10), date(2021, 5, 10)),
        (date(2021, 5, 10), date(2021, 6, 10)),
        (date(2021, 6, 10), date(2021, 7, 10)),
    ]
    assert {line.kind for line in lines} == {LineKind.COMMITMENT}
    assert [line.amount for line in lines] == [2 * MONTHLY_PRICE] * 4
    # and the clock running on renews the PBX without the cancelled devices: 6 months in all
    clock_run(until=date(2021, 9, 30))
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCELLED
    all_lines = _device_lines(sub.pk)
    assert len(all_lines) == 6
    assert sum(line.amount for line in all_lines) == 6 * 2 * MONTHLY_PRICE


@pytest.mark.parametrize("cancel_on", [date(2021, 7, 9), date(2021, 7, 10), date(2021, 8, 2)])
def test_cancelling_after_month_6_charges_nothing_more(cancel_on: date) -> None:
    # given a monthly PBX and a device rented from 10 January, renewed month by month by the clock
    world = World()
    hwaas_agreement_on_record(world)
    pbx = world.pbx(term="monthly", start=date(2021, 1, 10))
    sub = services.service_order(
        actor=world.actor, pbx=pbx, product_code="HW-PHONE", quantity=1, today=date(2021, 1, 10)
    ).subscription
    assert sub is not None
    clock_run(until=cancel_on)
    paid_before = sum(line.amount for line in _device_lines(sub.pk))
    assert paid_before >= 6 * MONTHLY_PRICE
    # when it is cancelled once its six months are invoiced (the last day of month 6 renews month 7)
    result = services.subscription_cancel(actor=world.actor, sub=sub, today=cancel_on)
    # then nothing more is charged, now or later
    assert result.invoice is None and result.plan.lines == []
    clock_run(until=date(2021, 12, 31))
    assert sum(line.amount for line in _device_lines(sub.pk)) == paid_before


def test_cancelling_in_month_6_before_its_renewal_charges_nothing_more() -> None:
    # given a device rented from 10 January, the clock in month 6 (10 June - 10 July)
    world = World()
    hwaas_agreement_on_record(world)
    pbx = world.pbx(term="monthly", start=date(2021, 1, 10))
    sub = services.service_order(
        actor=world.actor, pbx=pbx, product_code="HW-PHONE", quantity=1, today=date(2021, 1, 10)
    ).subscription
    assert sub is not None
    clock_run(until=date(2021, 6, 20))
    # when it is cancelled in month 6, already invoiced
    result = services.subscription_cancel(actor=world.actor, sub=sub, today=date(2021, 6, 20))
    # then no commitment charge: six months have been invoiced
    assert result.invoice is None
    assert sum(line.amount for line in _device_lines(sub.pk)) == 6 * MONTHLY_PRICE


def test_a_device_added_mid_term_commits_to_six_months_from_its_own_start() -> None:
    # given a monthly PBX anchored on the 10th and a device added on 25 January (commitment to 25 July)
    world = World()
    hwaas_agreement_on_record(world)
    pbx = world.pbx(term="monthly", start=date(2021, 1, 10))
    sub = services.service_order(
        actor=world.actor, pbx=pbx, product_code="HW-PHONE", quantity=1, today=date(2021, 1, 25)
    ).subscription
    assert sub is not None and sub.commitment_until == date(2021, 7, 25)
    clock_run(until=date(2021, 2, 20))
    # when it is cancelled on 20 February
    result = services.subscription_cancel(actor=world.actor, sub=sub, today=date(2021, 2, 20))
    # then 10 March - 10 July in full and 10 - 25 July prorated (15 of 31 days) are charged
    assert result.invoice is not None
    lines = list(result.invoice.lines.order_by("period_start"))
    assert [line.period_start for line in lines] == [
        date(2021, 3, 10),
        date(2021, 4, 10),
        date(2021, 5, 10),
        date(2021, 6, 10),
        date(2021, 7, 10),
    ]
    assert lines[-1].period_end == date(2021, 7, 25)
    assert (lines[-1].days_charged, lines[-1].days_in_term) == (15, 31)
    assert lines[-1].amount == (MONTHLY_PRICE * 15 / 31).quantize(Decimal("0.01"))
