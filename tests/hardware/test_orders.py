"""R-HW-1, R-HW-3, R-HW-4, R-HW-5, R-INV-5: carts, orders and their transitions, stock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pbxportal.common.actor import Actor
from pbxportal.common.errors import Conflict, RuleViolation
from pbxportal.hardware import services
from pbxportal.hardware.models import HardwareOrder, OrderStatus, OrderTransition, StockItem
from pbxportal.invoicing.models import Invoice, InvoiceLine, LineKind
from pbxportal.pbx.models import Subscription, SubscriptionStatus
from tests.hardware.helpers import accepted_agreement
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db

TODAY = date(2024, 3, 20)


def _stock(code: str = "HW-PHONE") -> StockItem:
    return StockItem.objects.get(product__code=code)


def _placed(world: World, quantity: int = 3, term: str = "yearly") -> HardwareOrder:
    pbx = world.pbx(term=term, start=date(2024, 3, 1))
    accepted_agreement(world)
    order = services.order_create(actor=world.actor, pbx_id=pbx.pk)
    services.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=quantity)
    return services.order_place(actor=world.actor, order_id=order.pk, today=TODAY)


def _history(order: HardwareOrder) -> list[tuple[str, str]]:
    return list(OrderTransition.objects.filter(order=order).values_list("from_status", "to_status"))


def test_cart_saved_as_draft_then_checked_out_becomes_cotermed_subscriptions(world: World) -> None:
    # given a yearly PBX started 1 March 2024 and an accepted agreement
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    accepted_agreement(world)
    # when the partner fills a cart, changes a quantity and leaves it as a draft
    order = services.order_create(actor=world.actor, pbx_id=pbx.pk)
    services.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=1)
    services.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=3)
    assert HardwareOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    assert list(order.lines.values_list("product__code", "quantity")) == [("HW-PHONE", 3)]
    # and checks it out on 20 March
    placed = services.order_place(actor=world.actor, order_id=order.pk, today=TODAY)
    # then the devices are a subscription of the PBX with its term and expiry (R-HW-1, R-CO-1) ...
    assert placed.status == OrderStatus.PLACED and placed.placed_on == TODAY
    line = placed.lines.get()
    sub = Subscription.objects.get(pk=line.subscription_id)
    assert (sub.pbx_id, sub.plan.code, sub.quantity) == (pbx.pk, "HW-PHONE-yearly", 3)
    assert sub.commitment_until == date(2024, 9, 20)
    # ... charged prorated from today to the PBX's expiry (R-CO-3): 3 x 60.00 x 346 / 365
    invoice_line = InvoiceLine.objects.get(invoice_id=line.invoice_id)
    assert (invoice_line.days_charged, invoice_line.days_in_term) == (346, 365)
    assert invoice_line.period_end == date(2025, 3, 1)
    assert invoice_line.amount == (Decimal(180) * 346 / 365).quantize(Decimal("0.01"))
    # ... stock is reserved though none is on hand: back-ordered, not refused (R-HW-4)
    assert (_stock().on_hand, _stock().reserved, _stock().available) == (0, 3, -3)
    # ... and the history has one audit row per transition
    assert _history(order) == [("", "draft"), ("draft", "placed")]


def test_staff_confirm_ship_deliver_consumes_stock(world: World) -> None:
    order = _placed(world, quantity=3)
    StockItem.objects.filter(product__code="HW-PHONE").update(on_hand=10)
    manager = Actor(user=world.manager)
    services.order_confirm(actor=manager, order_id=order.pk)
    services.order_ship(actor=manager, order_id=order.pk, note="DHL 123")
    # shipping consumes: on hand and reserved both drop
    assert (_stock().on_hand, _stock().reserved) == (7, 0)
    services.order_deliver(actor=manager, order_id=order.pk)
    assert _history(order)[1:] == [
        ("draft", "placed"),
        ("placed", "confirmed"),
        ("confirmed", "shipped"),
        ("shipped", "delivered"),
    ]
    assert OrderTransition.objects.get(order=order, to_status="shipped").note == "DHL 123"
    assert OrderTransition.objects.get(order=order, to_status="shipped").actor == world.manager


@pytest.mark.parametrize(
    ("steps", "illegal"),
    [
        ([], "ship"),
        ([], "deliver"),
        (["confirm"], "confirm"),
        (["confirm", "ship"], "cancel"),
        (["confirm", "ship", "deliver"], "confirm"),
        (["cancel"], "confirm"),
    ],
)
def test_an_illegal_transition_is_refused_and_writes_nothing(
    world: World, steps: list[str], illegal: str
) -> None:
    # given a placed order moved along some legal steps, with stock on hand
    order = _placed(world, quantity=2)
    StockItem.objects.filter(product__code="HW-PHONE").update(on_hand=5)
    manager = Actor(user=world.manager)
    moves = {
        "confirm": lambda: services.order_confirm(actor=manager, order_id=order.pk),
        "ship": lambda: services.order_ship(actor=manager, order_id=order.pk),
        "deliver": lambda: services.order_deliver(actor=manager, order_id=order.pk),
        "cancel": lambda: services.order_cancel(actor=manager, order_id=order.pk, today=TODAY),
    }
    for step in steps:
        moves[step]()
    before = (
        HardwareOrder.objects.get(pk=order.pk).status,
        OrderTransition.objects.count(),
        _stock().on_hand,
        _stock().reserved,
        Invoice.objects.count(),
        list(Subscription.objects.values_list("status", flat=True)),
    )
    # when staff try a move the transition map does not allow
    with pytest.raises(Conflict) as refused:
        moves[illegal]()
    # then a clear refusal naming the rule and the states, and nothing written
    assert refused.value.rule == "R-HW-3" and refused.value.code == "illegal_transition"
    assert refused.value.status == 409 and f"is {before[0]}" in refused.value.message
    after = (
        HardwareOrder.objects.get(pk=order.pk).status,
        OrderTransition.objects.count(),
        _stock().on_hand,
        _stock().reserved,
        Invoice.objects.count(),
        list(Subscription.objects.values_list("status", flat=True)),
    )
    assert after == before


def test_shipping_more_than_on_hand_waits_for_stock_and_writes_nothing(world: World) -> None:
    order = _placed(world, quantity=3)
    StockItem.objects.filter(product__code="HW-PHONE").update(on_hand=2)
    manager = Actor(user=world.manager)
    services.order_confirm(actor=manager, order_id=order.pk)
    with pytest.raises(RuleViolation) as refused:
        services.order_ship(actor=manager, order_id=order.pk)
    assert refused.value.rule == "R-HW-4"
    assert HardwareOrder.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED
    assert (_stock().on_hand, _stock().reserved) == (2, 3)
    # once devices are received, it ships
    services.stock_adjust(
        actor=world.staff_actor, product_code="HW-PHONE", delta=1, note="delivery from supplier"
    )
    assert services.order_ship(actor=manager, order_id=order.pk).status == OrderStatus.SHIPPED
    assert (_stock().on_hand, _stock().reserved) == (0, 0)


def test_cancelling_a_placed_order_releases_stock_and_charges_the_commitment(world: World) -> None:
    # given 2 devices placed on 20 March on a monthly PBX started 1 March (invoiced through 1 April)
    order = _placed(world, quantity=2, term="monthly")
    assert _stock().reserved == 2
    # when the partner cancels before shipping
    services.order_cancel(
        actor=world.actor, order_id=order.pk, today=TODAY + timedelta(days=1), note="customer changed mind"
    )
    # then stock is released, the subscription cancelled ...
    assert _stock().reserved == 0
    sub = Subscription.objects.get(pk=order.lines.get().subscription_id)
    assert sub.status == SubscriptionStatus.CANCELLED
    # ... and 1 April - 20 September is charged: the rest of the 6-month commitment (R-HW-5)
    commitment = InvoiceLine.objects.filter(subscription_id=sub.pk, kind=LineKind.COMMITMENT).order_by(
        "period_start"
    )
    assert commitment.first().period_start == date(2024, 4, 1)
    assert commitment.last().period_end == date(2024, 9, 20)
    assert _history(order)[-1] == ("placed", "cancelled")


def test_cancelling_a_draft_touches_no_stock(world: World) -> None:
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    accepted_agreement(world)
    order = services.order_create(actor=world.actor, pbx_id=pbx.pk)
    services.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=4)
    services.order_cancel(actor=world.actor, order_id=order.pk, today=TODAY)
    assert (_stock().on_hand, _stock().reserved) == (0, 0)
    assert not Invoice.objects.filter(lines__product_code__startswith="HW-PHONE").exists()
    with pytest.raises(Conflict):
        services.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=1)


def test_lifetime_pbx_gets_no_cart_r_hw_1(world: World) -> None:
    pbx = world.pbx(term="lifetime", start=date(2024, 3, 1))
    accepted_agreement(world)
    with pytest.raises(RuleViolation) as refused:
        services.order_create(actor=world.actor, pbx_id=pbx.pk)
    assert refused.value.rule == "R-HW-1"


def test_a_device_without_the_pbx_term_is_refused_r_co_1(world: World) -> None:
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    accepted_agreement(world)
    order = services.order_create(actor=world.actor, pbx_id=pbx.pk)
    with pytest.raises(RuleViolation) as refused:
        services.order_line_set(actor=world.actor, order_id=order.pk, product_code="MONTHLY-ONLY", quantity=1)
    assert refused.value.rule == "R-CO-1"


def test_empty_cart_cannot_be_checked_out(world: World) -> None:
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    accepted_agreement(world)
    order = services.order_create(actor=world.actor, pbx_id=pbx.pk)
    with pytest.raises(RuleViolation) as refused:
        services.order_place(actor=world.actor, order_id=order.pk, today=TODAY)
    assert refused.value.rule == "R-HW-3"


@pytest.mark.overdue_policy
@pytest.mark.parametrize(("days_overdue", "blocked"), [(5, False), (6, True)])
def test_checkout_blocked_after_day_5_of_an_overdue_invoice_r_inv_5(
    world: World, days_overdue: int, blocked: bool
) -> None:
    # given a cart, and an invoice of the partner due `days_overdue` days ago, unpaid
    pbx = world.pbx(term="yearly", start=date(2024, 3, 1))
    accepted_agreement(world)
    order = services.order_create(actor=world.actor, pbx_id=pbx.pk)
    services.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=1)
    Invoice.objects.filter(pbx=pbx).update(due_on=TODAY - timedelta(days=days_overdue))
    invoices = Invoice.objects.count()
    # when the partner checks out
    if not blocked:
        assert services.order_place(actor=world.actor, order_id=order.pk, today=TODAY).status == "placed"
        return
    with pytest.raises(RuleViolation) as refused:
        services.order_place(actor=world.actor, order_id=order.pk, today=TODAY)
    # then R-INV-5 refuses it and nothing is written: still a draft, no stock reserved, no invoice
    assert refused.value.rule == "R-INV-5"
    assert HardwareOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    assert _stock().reserved == 0 and Invoice.objects.count() == invoices
