"""R-INV-5: the overdue policy function: stages by day since the earliest unpaid due date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pbxportal.common.errors import RuleViolation
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.overdue.policy import ensure_allowed, licence_status, partner_stage
from tests.pbx.builders import World

START = date(2025, 3, 10)
pytestmark = pytest.mark.overdue_policy


@pytest.fixture
def overdue_world(db: object) -> tuple[World, Invoice]:
    world = World()
    pbx = world.pbx(start=START)
    invoice = Invoice.objects.get(pbx=pbx)
    return world, invoice


@pytest.mark.parametrize(
    ("day", "stage", "hardware", "licences", "portal", "licence"),
    [
        (0, None, True, True, True, "active"),
        (1, None, True, True, True, "active"),
        (2, "warning", True, True, True, "active"),
        (5, "warning", True, True, True, "active"),
        (6, "hardware_blocked", False, True, True, "active"),
        (29, "hardware_blocked", False, True, True, "active"),
        (30, "read_only", False, False, False, "active"),
        (34, "read_only", False, False, False, "active"),
        (35, "suspended", False, False, False, "suspended"),
    ],
)
def test_stage_by_day_blocks_exactly_its_actions(
    overdue_world: tuple[World, Invoice],
    day: int,
    stage: str | None,
    hardware: bool,
    licences: bool,
    portal: bool,
    licence: str,
) -> None:
    # given an unpaid invoice, `day` days after its due date
    world, invoice = overdue_world
    assert invoice.due_on is not None
    today = invoice.due_on + timedelta(days=day)
    partner_id = world.partner.pk
    # when the policy is asked / then the stage and the blocks follow the default policy
    found = partner_stage(partner_id=partner_id, today=today)
    assert (found.code if found else None) == stage
    for action, allowed in (
        ("order_hardware", hardware),
        ("order_licences", licences),
        ("portal_write", portal),
    ):
        if allowed:
            ensure_allowed(partner_id=partner_id, action=action, today=today)
        else:
            with pytest.raises(RuleViolation) as refused:
                ensure_allowed(partner_id=partner_id, action=action, today=today)
            assert refused.value.rule == "R-INV-5"
    assert licence_status(partner_id=partner_id, today=today) == licence


def test_paid_invoice_clears_the_stage(overdue_world: tuple[World, Invoice]) -> None:
    # given a partner 40 days overdue
    world, invoice = overdue_world
    assert invoice.due_on is not None
    today = invoice.due_on + timedelta(days=40)
    assert partner_stage(partner_id=world.partner.pk, today=today) is not None
    # when the invoice is paid in full
    invoice.amount_paid = invoice.total
    invoice.status = InvoiceStatus.PAID
    invoice.save()
    # then no stage is left
    assert partner_stage(partner_id=world.partner.pk, today=today) is None
    ensure_allowed(partner_id=world.partner.pk, action="portal_write", today=today)
