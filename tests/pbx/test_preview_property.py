"""R-CO-4 and R-CO-3 by property: for random sequences of licence increases/decreases and service
orders on random days of a term, the what-if preview equals what the change then invoiced, every
charged line is round_half_up(quantity x price x days charged / days in term), month-end decreases
are refused (R-PBX-8), and the ledger replays to the subscriptions' quantities."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxportal.common.errors import RuleViolation
from pbxportal.core.periods import last_day_of_month
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from pbxportal.pbx import services
from pbxportal.pbx.models import Subscription
from pbxportal.pbx.selectors import ledger_replay
from tests.pbx.builders import World, hwaas_agreement_on_record

pytestmark = pytest.mark.django_db

START = date(2020, 5, 15)  # a yearly term: 2020-05-15 .. 2021-05-15 (365 days)
PROFILES = ["UC-BUSINESS", "UC-ESSENTIAL", "PBX-SERVICE"]
SERVICES = ["STORAGE-50", "HW-PHONE", "VOICE-FLAT"]

licence_change = st.tuples(
    st.just("licence"), st.integers(0, 363), st.sampled_from(PROFILES), st.integers(0, 9)
)
service_order = st.tuples(
    st.just("service"), st.integers(0, 363), st.sampled_from(SERVICES), st.integers(1, 4)
)
changes = st.lists(st.one_of(licence_change, service_order), min_size=1, max_size=8)


@pytest.fixture
def world() -> World:
    world = World()
    hwaas_agreement_on_record(world)  # devices are ordered as services here (R-HW-2)
    return world


def invoiced(line: InvoiceLine) -> tuple[object, ...]:
    """An issued line in the order of LineDraft.comparable()."""
    return (
        line.kind,
        line.product_code,
        line.description,
        line.unit_price,
        line.quantity,
        line.amount,
        line.invoice.currency,
        line.days_charged,
        line.days_in_term,
        line.period_start,
        line.period_end,
    )


def settle_invoices() -> None:
    """The partner pays as it goes, so no overdue stage (R-INV-5) interferes with the engine."""
    Invoice.objects.filter(kind=InvoiceKind.INVOICE).update(status=InvoiceStatus.PAID, amount_paid=F("total"))


def current(pbx_id: int, profile: str) -> int:
    sub = Subscription.objects.filter(pbx_id=pbx_id, product__code=profile, status="active").first()
    return sub.quantity if sub else 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=changes)
def test_preview_equals_the_charge_and_lines_are_prorated_once(
    world: World, steps: list[tuple[str, int, str, int]]
) -> None:
    with transaction.atomic():
        # given a yearly cloud PBX with 4 UC-Business users from 2020-05-15
        pbx = world.pbx(term="yearly", start=START, cloud=True, name="prop")
        for kind, offset, code, quantity in sorted(steps, key=lambda s: s[1]):
            today = START + timedelta(days=offset)
            settle_invoices()
            if kind == "licence":
                refusal = quantity < current(pbx.pk, code) and last_day_of_month(today)

                def change(
                    preview: bool, code: str = code, quantity: int = quantity, today: date = today
                ) -> services.ChangeResult:
                    return services.pbx_change_licences(
                        actor=world.actor,
                        pbx_id=pbx.pk,
                        profile=code,
                        quantity=quantity,
                        today=today,
                        preview=preview,
                    )
            else:
                # the voice trunk is one bundle per PBX (R-VT-5), priced per counted user (R-VT-1)
                bundled = Subscription.objects.filter(pbx=pbx, product__code=code).exists()
                counted = current(pbx.pk, "UC-BUSINESS") + current(pbx.pk, "UC-ESSENTIAL")
                refusal = code == "VOICE-FLAT" and (bundled or counted == 0)
                voice_rule = "R-VT-5" if bundled else "R-VT-1"

                def change(
                    preview: bool, code: str = code, quantity: int = quantity, today: date = today
                ) -> services.ChangeResult:
                    return services.pbx_service_order(
                        actor=world.actor,
                        pbx_id=pbx.pk,
                        product_code=code,
                        quantity=quantity,
                        today=today,
                        preview=preview,
                    )

            if refusal:
                # then a month-end decrease (R-PBX-8) or an impossible voice trunk is refused, previewed or not
                expected = "R-PBX-8" if kind == "licence" else voice_rule
                for preview in (True, False):
                    with pytest.raises(RuleViolation) as refused:
                        change(preview)
                    assert refused.value.rule == expected
                continue
            # when the change is previewed, then made the same day
            preview = change(True)
            result = change(False)
            # then the invoice holds exactly the previewed lines (R-CO-4)
            planned = [line.comparable() for line in preview.plan.lines]
            if result.invoice is None:
                assert planned == []
            else:
                issued = [
                    invoiced(line)
                    for line in result.invoice.lines.select_related("invoice").order_by("position")
                ]
                assert issued == planned
                # and every line is quantity x full price x days charged / days in term, rounded once (R-CO-3)
                for line in result.invoice.lines.all():
                    assert line.days_charged is not None and line.days_in_term is not None
                    exact = line.quantity * line.unit_price * line.days_charged / line.days_in_term
                    assert line.amount == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    assert line.period_end == date(2021, 5, 15) and line.period_start == today
        # and the ledger replays to the subscriptions' quantities
        pbx.refresh_from_db()
        replay = ledger_replay(pbx)
        quantities = {s.pk: s.quantity for s in pbx.subscriptions.all()}
        assert replay == quantities
        transaction.set_rollback(True)
