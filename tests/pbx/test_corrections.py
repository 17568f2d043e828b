"""Corrections (issue 13 item 6, R-PBX-10, R-PBX-8, R-VT-1, R-CO-4, R-INV-2): the 1-business-day
window comes from an activation or licence change in the ledger, a correction never refunds a
decrease, its lines carry charge keys, it moves the voice-trunk band fee with the counted users,
and staff see what applying it will issue, computed by the function that applies it.

Calendar: Monday 2026-03-02 is the activation of a yearly PBX with 4 UC-Business users (120.00 a
user a year, term 2026-03-02..2027-03-02, 365 days); the voice trunk costs 73.20 a user a year
for 1-5 users, 60.00 from 6.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine
from django.db.models import F
from django.test import Client

from pbxportal.catalog.models import Product
from pbxportal.common.errors import Conflict, RuleViolation
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from pbxportal.invoicing.services import invoice_issue
from pbxportal.pbx import services
from pbxportal.pbx.models import CorrectionRequest, Pbx, Subscription
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db

ACTIVATION = date(2026, 3, 2)


@pytest.fixture
def world() -> World:
    return World()


@contextmanager
def on(day: date) -> Iterator[None]:
    Invoice.objects.filter(kind=InvoiceKind.INVOICE).update(
        status=InvoiceStatus.PAID, amount_paid=F("total"), paid_on=day
    )
    with time_machine.travel(datetime.combine(day, time(10), tzinfo=UTC), tick=False):
        yield


def half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def change_users(pbx: Pbx, quantity: int, day: date) -> None:
    product = Product.objects.get(code="UC-BUSINESS")
    services.quantity_change(actor=None, pbx=pbx, product=product, quantity=quantity, today=day)


def file(world: World, pbx: Pbx, change_date: date, users: int, today: date) -> CorrectionRequest:
    return services.correction_file(
        actor=world.actor,
        pbx_id=pbx.pk,
        change_date=change_date,
        quantities={"UC-BUSINESS": users},
        today=today,
    )


def users_of(pbx: Pbx, code: str = "UC-BUSINESS") -> int:
    return Subscription.objects.get(pbx=pbx, product__code=code, status="active").quantity


# --- The window comes from the ledger ------------------------------------------------------------


def test_a_correction_naming_a_day_without_activation_or_licence_change_is_refused(world: World) -> None:
    # given a PBX activated on Monday, unchanged since
    pbx = world.pbx(start=ACTIVATION)
    # when the partner names Tuesday (a day with no change) on Wednesday, within 1 business day of it
    with pytest.raises(RuleViolation) as refused:
        file(world, pbx, date(2026, 3, 3), 2, today=date(2026, 3, 4))
    # then it is refused naming the field and R-PBX-10: there was nothing to correct that day
    assert refused.value.rule == "R-PBX-10"
    assert "change_date" in (refused.value.fields or {})
    assert not CorrectionRequest.objects.exists()


def test_the_window_runs_from_a_recorded_licence_change(world: World) -> None:
    # given a licence change on Thursday 2026-03-05 (4 -> 10)
    pbx = world.pbx(start=ACTIVATION)
    change_users(pbx, 10, date(2026, 3, 5))
    # when corrected on Friday / then filed; on the Monday after / then too late (R-PBX-10)
    assert file(world, pbx, date(2026, 3, 5), 6, today=date(2026, 3, 6)).change_date == date(2026, 3, 5)
    with pytest.raises(RuleViolation) as late:
        file(world, pbx, date(2026, 3, 5), 6, today=date(2026, 3, 9))
    assert late.value.rule == "R-PBX-10" and "change_date" in (late.value.fields or {})


def test_the_api_refuses_a_day_without_a_change_with_422_naming_the_field(world: World) -> None:
    pbx = world.pbx(start=ACTIVATION)
    client = Client()
    client.force_login(world.user)
    with on(date(2026, 3, 4)):
        response = client.post(
            f"/api/v1/pbx/pbxs/{pbx.pk}/corrections",
            {"change_date": "2026-03-03", "quantities": {"UC-BUSINESS": 2}},
            content_type="application/json",
        )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["rule"] == "R-PBX-10" and "change_date" in error["fields"]


# --- No refund of a decrease (R-PBX-8) ----------------------------------------------------------


def test_a_correction_below_the_quantity_before_a_decrease_is_refused_r_pbx_8(world: World) -> None:
    # given a decrease 4 -> 2 on 2026-03-10 (no refund for what was prepaid, R-PBX-8)
    pbx = world.pbx(start=ACTIVATION)
    change_users(pbx, 2, date(2026, 3, 10))
    # when the partner files a "correction" to 1 the next day / then refused with R-PBX-8
    with pytest.raises(RuleViolation) as refused:
        file(world, pbx, date(2026, 3, 10), 1, today=date(2026, 3, 11))
    assert refused.value.rule == "R-PBX-8" and "quantities.UC-BUSINESS" in (refused.value.fields or {})
    assert not Invoice.objects.filter(pbx=pbx, kind=InvoiceKind.CREDIT_NOTE).exists()


def test_a_correction_below_what_was_held_before_an_increase_is_refused_at_apply_too(world: World) -> None:
    # given an increase 4 -> 10 on 2026-03-10 and a correction filed down to 3 behind the service's back
    pbx = world.pbx(start=ACTIVATION)
    change_users(pbx, 10, date(2026, 3, 10))
    with pytest.raises(RuleViolation) as refused:
        file(world, pbx, date(2026, 3, 10), 3, today=date(2026, 3, 11))
    assert refused.value.rule == "R-PBX-8"
    correction = file(world, pbx, date(2026, 3, 10), 6, today=date(2026, 3, 11))
    CorrectionRequest.objects.filter(pk=correction.pk).update(quantities={"UC-BUSINESS": 3})
    # when staff apply it / then refused: 4 were prepaid before the change and stay without refund
    with pytest.raises(RuleViolation) as at_apply:
        services.correction_apply(
            actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 11)
        )
    assert at_apply.value.rule == "R-PBX-8"
    assert users_of(pbx) == 10 and not Invoice.objects.filter(pbx=pbx, kind=InvoiceKind.CREDIT_NOTE).exists()


def test_undoing_a_mistaken_decrease_charges_nothing_still_prepaid(world: World) -> None:
    # given a decrease 4 -> 2 on 2026-03-10 by mistake (3 were meant): the 4 are paid for the term
    pbx = world.pbx(start=ACTIVATION)
    change_users(pbx, 2, date(2026, 3, 10))
    correction = file(world, pbx, date(2026, 3, 10), 3, today=date(2026, 3, 11))
    # when staff apply the correction to 3
    documents = services.correction_apply(
        actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 11)
    )
    # then the quantity is 3 and nothing is charged (the licence was prepaid)
    assert documents == [] and users_of(pbx) == 3


def test_a_mistaken_increase_is_credited_from_its_day(world: World) -> None:
    # given an increase 4 -> 10 on 2026-03-10 (6 meant)
    pbx = world.pbx(start=ACTIVATION)
    change_users(pbx, 10, date(2026, 3, 10))
    correction = file(world, pbx, date(2026, 3, 10), 6, today=date(2026, 3, 11))
    (credit,) = services.correction_apply(
        actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 11)
    )
    # then 4 users are credited from 2026-03-10 to expiry: 357 of 365 days
    (line,) = credit.lines.all()
    assert credit.kind == InvoiceKind.CREDIT_NOTE and line.days_charged == 357
    assert line.amount == -half_up(Decimal(480) * 357 / 365) and users_of(pbx) == 6


# --- Charge keys (R-INV-2) -----------------------------------------------------------------------


def test_correction_lines_carry_charge_keys_so_they_cannot_be_issued_twice(world: World) -> None:
    # given a correction of the activation 4 -> 2, previewed, then applied
    pbx = world.pbx(start=ACTIVATION)
    correction = file(world, pbx, ACTIVATION, 2, today=date(2026, 3, 3))
    planned = services.correction_preview(actor=world.staff_actor, correction_id=correction.pk)
    (credit,) = services.correction_apply(
        actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 3)
    )
    # then every issued line has a key of this correction
    keys = list(credit.lines.values_list("charge_key", flat=True))
    assert keys and all(str(key).startswith(f"correction:{correction.pk}:UC-BUSINESS:") for key in keys)
    # and issuing the same planned lines again (a path past the row lock) is refused
    with pytest.raises(Conflict) as twice:
        invoice_issue(
            partner=pbx.partner,
            lines=planned.credit_lines,
            issued_on=date(2026, 3, 3),
            pbx_id=pbx.pk,
            kind=InvoiceKind.CREDIT_NOTE,
            credited_invoice=credit.credited_invoice,
        )
    assert twice.value.rule == "R-INV-2"
    assert Invoice.objects.filter(pbx=pbx, kind=InvoiceKind.CREDIT_NOTE).count() == 1


# --- The voice-trunk band fee follows the counted users (R-VT-1) ---------------------------------


def test_a_correction_adding_counted_users_charges_the_voice_trunk_band_fee(world: World) -> None:
    # given a PBX activated with 4 users and the voice trunk (4 counted users, 73.20 each)
    pbx = world.pbx(start=ACTIVATION)
    services.service_order(actor=world.actor, pbx=pbx, product_code="VOICE-FLAT", today=ACTIVATION)
    correction = file(world, pbx, ACTIVATION, 6, today=date(2026, 3, 3))
    # when staff apply the correction to 6 users
    (invoice,) = services.correction_apply(
        actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 3)
    )
    # then the invoice charges 2 licences and 2 counted users of the trunk at the 6+ band (60.00)
    by_code = {line.product_code: line for line in invoice.lines.all()}
    assert set(by_code) == {"UC-BUSINESS-yearly", "VOICE-FLAT-yearly"}
    trunk = by_code["VOICE-FLAT-yearly"]
    assert trunk.quantity == 2 and trunk.unit_price == Decimal("60.00") and trunk.amount == Decimal("120.00")
    assert users_of(pbx, "VOICE-FLAT") == 6


def test_a_correction_removing_counted_users_credits_their_band_fee(world: World) -> None:
    pbx = world.pbx(start=ACTIVATION)
    services.service_order(actor=world.actor, pbx=pbx, product_code="VOICE-FLAT", today=ACTIVATION)
    correction = file(world, pbx, ACTIVATION, 2, today=date(2026, 3, 3))
    (credit,) = services.correction_apply(
        actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 3)
    )
    by_code = {line.product_code: line for line in credit.lines.all()}
    assert by_code["VOICE-FLAT-yearly"].amount == Decimal("-146.40")  # 2 x 73.20, the band charged
    assert by_code["UC-BUSINESS-yearly"].amount == Decimal("-240.00")
    assert users_of(pbx, "VOICE-FLAT") == 2


# --- The preview is what applying issues (R-CO-4) -------------------------------------------------


def _setup_trunk_decrease(world: World) -> tuple[Pbx, date, int, date]:
    pbx = world.pbx(start=ACTIVATION)
    services.service_order(actor=world.actor, pbx=pbx, product_code="VOICE-FLAT", today=ACTIVATION)
    return pbx, ACTIVATION, 2, date(2026, 3, 3)


def _setup_trunk_increase(world: World) -> tuple[Pbx, date, int, date]:
    pbx = world.pbx(start=ACTIVATION)
    services.service_order(actor=world.actor, pbx=pbx, product_code="VOICE-FLAT", today=date(2026, 3, 9))
    change_users(pbx, 5, date(2026, 3, 10))
    return pbx, date(2026, 3, 10), 9, date(2026, 3, 11)


def _setup_change_increase(world: World) -> tuple[Pbx, date, int, date]:
    pbx = world.pbx(start=ACTIVATION)
    change_users(pbx, 10, date(2026, 3, 10))
    return pbx, date(2026, 3, 10), 6, date(2026, 3, 11)


def _comparable(line: Any) -> tuple[object, ...]:
    return (
        line["kind"],
        line["product_code"],
        line["description"],
        Decimal(str(line["unit_price"])),
        Decimal(str(line["quantity"])),
        Decimal(str(line["amount"])),
        line["days_charged"],
        line["days_in_term"],
        str(line["period_start"]),
        str(line["period_end"]),
    )


@pytest.mark.parametrize("setup", [_setup_trunk_decrease, _setup_trunk_increase, _setup_change_increase])
def test_the_preview_is_exactly_what_applying_issues(world: World, setup: Any) -> None:
    # given a filed correction
    pbx, change_date, users, today = setup(world)
    before = users_of(pbx)
    staff = Client()
    staff.force_login(world.staff)
    partner = Client()
    partner.force_login(world.user)
    with on(today):
        correction = file(world, pbx, change_date, users, today=today)
        # when staff preview it (partners cannot) and then apply it
        assert partner.get(f"/api/v1/pbx/corrections/{correction.pk}/preview").status_code == 403
        preview = staff.get(f"/api/v1/pbx/corrections/{correction.pk}/preview")
        applied = staff.post(
            f"/api/v1/pbx/corrections/{correction.pk}/apply", content_type="application/json"
        )
    assert preview.status_code == 200, preview.content
    assert applied.status_code == 200, applied.content
    # then the documents issued are the previewed ones: kinds, lines and net totals
    planned = preview.json()["documents"]
    issued = [Invoice.objects.get(pk=d["id"]) for d in applied.json()["documents"]]
    assert planned, "the correction issues something"
    assert [d["kind"] for d in planned] == [i.kind for i in issued]
    for doc, invoice in zip(planned, issued, strict=True):
        rows = invoice.lines.order_by("position").values()
        assert [_comparable(line) for line in doc["lines"]] == [
            _comparable({**row, "period_start": row["period_start"], "period_end": row["period_end"]})
            for row in rows
        ]
        assert Decimal(str(doc["total"])) == invoice.net_total
    assert preview.json()["quantities"] == [
        {"product_code": "UC-BUSINESS", "current": before, "wanted": users}
    ]
    assert users_of(pbx) == users


def test_the_staff_page_shows_what_applying_will_issue_before_the_apply_button(world: World) -> None:
    # given a filed correction of the activation 4 -> 2
    pbx = world.pbx(start=ACTIVATION)
    staff = Client()
    staff.force_login(world.staff)
    with on(date(2026, 3, 3)):
        file(world, pbx, ACTIVATION, 2, today=date(2026, 3, 3))
        page = staff.get("/staff/corrections/").content.decode()
    # then the credit note it will issue is shown, with its amount, before the Apply button
    assert "Applying it will issue:" in page and "-240.00 EUR" in page
    assert page.index("-240.00 EUR") < page.index(">Apply</button>")


def test_the_correction_form_shows_the_refusal_at_the_quantity(world: World) -> None:
    # given a decrease 4 -> 2 on 2026-03-10
    pbx = world.pbx(start=ACTIVATION)
    change_users(pbx, 2, date(2026, 3, 10))
    client = Client()
    client.force_login(world.user)
    form = {"change_date": "2026-03-10", "profile": "UC-BUSINESS", "quantity": 1, "note": ""}
    # when the partner files a correction to 1 on the page
    with on(date(2026, 3, 11)):
        response = client.post(f"/pbxs/{pbx.pk}/corrections/", form)
    # then the form comes back with the refusal (R-PBX-8) at the quantity field
    page = response.content.decode()
    assert response.status_code == 400 and "R-PBX-8" in page
    assert 'id="error_1_id_quantity"' in page or "is-invalid" in page.split('name="quantity"')[0][-300:]
