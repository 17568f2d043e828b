"""A world of PBXs renewing on one day, and a comparable snapshot of what a bill run issued."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pbxportal.catalog.models import Plan, Product
from pbxportal.invoicing.models import Invoice
from pbxportal.pbx.models import Pbx, Subscription
from tests.pbx.builders import World

START = date(2025, 3, 10)
RENEWAL_DAY = date(2026, 3, 9)  # the last day of the first yearly term: invoiced_through == day + 1


def renewing_world(count: int) -> World:
    world = World()
    for n in range(count):
        world.pbx(start=START, licences={"UC-BUSINESS": 1 + n % 4, "UC-ESSENTIAL": n % 3})
    assert all(p.invoiced_through == RENEWAL_DAY + timedelta(days=1) for p in Pbx.objects.all())
    return world


def snapshot(day: date = RENEWAL_DAY) -> dict[str, Any]:
    """Per PBX: its renewal invoice's total and lines (not the number: which PBX got which number
    depends on the order chunks finish); plus the set of numbers, which must be gapless."""
    invoices = Invoice.objects.filter(issued_on=day).prefetch_related("lines").select_related("pbx")
    per_pbx = {
        inv.pbx.name: (
            inv.total,
            inv.status,
            inv.due_on,
            inv.source_key,
            tuple(
                (
                    line.kind,
                    line.product_code,
                    line.quantity,
                    line.unit_price,
                    line.amount,
                    line.period_start,
                    line.period_end,
                    line.charge_key,
                )
                for line in inv.lines.order_by("position")
            ),
        )
        for inv in invoices
    }
    return {
        "invoices": per_pbx,
        "sequences": sorted(inv.sequence for inv in invoices),
        "invoiced_through": sorted(Pbx.objects.values_list("name", "invoiced_through")),
    }


def break_pbx(pbx: Pbx) -> tuple[Subscription, int]:
    """Make one PBX's data invalid for renewing: its licence points at a plan with no price."""
    sub = pbx.subscriptions.filter(product__code="UC-BUSINESS").get()
    product, _ = Product.objects.get_or_create(
        code="UNPRICED", defaults={"name": "Unpriced", "family": "licence", "pricing_model": "per_unit"}
    )
    unpriced, _ = Plan.objects.get_or_create(product=product, code="UNPRICED-yearly", term="yearly")
    original = sub.plan_id
    Subscription.objects.filter(pk=sub.pk).update(plan=unpriced)
    return sub, original


def repair(sub: Subscription, plan_id: int) -> None:
    Subscription.objects.filter(pk=sub.pk).update(plan_id=plan_id)
