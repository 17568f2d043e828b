"""R-HW-4 under real concurrency: 20 checkouts of the same device at once, on PostgreSQL.

Each thread has its own database connection and transaction; a barrier releases them together.
Reservations are single UPDATEs with F() expressions, so none is lost, and a stock of 5 with
far more ordered goes negative (back-ordered) without refusing a single order.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connections

from pbxportal.common.actor import Actor
from pbxportal.hardware import services
from pbxportal.hardware.models import HardwareOrder, OrderStatus, StockItem
from pbxportal.pbx.models import Subscription
from tests.hardware.helpers import accepted_agreement
from tests.pbx.builders import World

THREADS = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_20_parallel_checkouts_reserve_the_sum_and_go_negative_without_refusing() -> None:
    # given 20 carts on 20 PBXs of one customer, each with a different quantity of HW-PHONE, and 5 on hand
    world = World()
    accepted_agreement(world)
    orders = []
    for n in range(THREADS):
        pbx = world.pbx(term="yearly", start=date(2024, 3, 1), name=f"race-{n}")
        order = services.order_create(actor=world.actor, pbx_id=pbx.pk)
        services.order_line_set(actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=n + 1)
        orders.append(order.pk)
    StockItem.objects.filter(product__code="HW-PHONE").update(on_hand=5)
    actor = Actor(user=world.user)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def checkout(order_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.order_place(actor=actor, order_id=order_id, today=date(2024, 3, 20))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    # when all 20 check out at the same moment, each on its own connection
    threads = [threading.Thread(target=checkout, args=(order_id,)) for order_id in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then none was refused, every reservation counted, and availability is negative (back-ordered)
    assert errors == []
    expected = sum(range(1, THREADS + 1))
    stock = StockItem.objects.get(product__code="HW-PHONE")
    assert (stock.on_hand, stock.reserved, stock.available) == (5, expected, 5 - expected)
    assert HardwareOrder.objects.filter(status=OrderStatus.PLACED).count() == THREADS
    assert Subscription.objects.filter(product__code="HW-PHONE").count() == THREADS
