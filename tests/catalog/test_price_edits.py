"""Vendor admins edit price book items (R-CAT-1) with validation and a history (who, when,
before/after); the next invoice uses the new price (R-CAT-4); catalog files still export."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from pbxportal.accounts.models import StaffRole, User
from pbxportal.catalog.models import Price, PriceChange
from pbxportal.common.models import AuditEvent
from pbxportal.invoicing.models import Invoice
from pbxportal.pbx.billrun import billrun_day
from tests.pbx.billrun_helpers import RENEWAL_DAY, renewing_world


@pytest.fixture
def world(db: Any) -> Any:
    return renewing_world(1)


def _yearly_business(world: Any) -> Price:
    return Price.objects.get(book=world.book, plan__product__code="UC-BUSINESS", plan__term="yearly")


def test_a_price_edit_appears_in_the_history_and_in_the_next_invoice(
    world: Any, vendor_admin: User, client_for: Callable[[User], Client]
) -> None:
    # given the yearly UC-BUSINESS price of the book of a PBX renewing on RENEWAL_DAY
    price = _yearly_business(world)
    before = price.amount
    client = client_for(vendor_admin)
    # when a vendor admin sets a new amount on the item's page
    response = client.post(f"/staff/prices/{price.pk}/", {"amount": "123.45", "reason": "2026 list"})
    assert response.status_code == 302
    # then the item's history shows who, when, before and after
    change = PriceChange.objects.get(price=price)
    assert (change.before, change.after, change.changed_by_id, change.reason) == (
        before,
        Decimal("123.45"),
        vendor_admin.pk,
        "2026 list",
    )
    page = client.get(f"/staff/prices/{price.pk}/")
    assert page.content.count(b'class="price-change"') == 1 and b"123.45" in page.content
    assert AuditEvent.objects.filter(action="price.changed", object_id=str(price.pk)).exists()
    # and the next invoice (the renewal bill run) charges the new unit price
    billrun_day(day=RENEWAL_DAY)
    line = (
        Invoice.objects.get(issued_on=RENEWAL_DAY)
        .lines.filter(product_code=price.plan.code, kind="renewal")
        .first()
    )
    assert line is not None and before != Decimal("123.45")
    assert line.unit_price == Decimal("123.45")
    assert line.amount == Decimal("123.45") * line.quantity


@pytest.mark.parametrize("amount", ["-1", "abc", "1.1234567", "1e20", "NaN", ""])
def test_bad_amounts_are_refused_naming_the_field_and_rule(
    world: Any, vendor_admin: User, client_for: Callable[[User], Client], amount: str
) -> None:
    price = _yearly_business(world)
    response = client_for(vendor_admin).post(f"/staff/prices/{price.pk}/", {"amount": amount})
    assert response.status_code == 400
    assert b"amount:" in response.content and b"R-CAT-6" in response.content
    assert not PriceChange.objects.exists()
    assert Price.objects.get(pk=price.pk).amount == price.amount


def test_only_vendor_admins_edit_prices(
    world: Any, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    price = _yearly_business(world)
    manager = make_user(staff_role=StaffRole.AREA_MANAGER)
    client = client_for(manager)
    assert client.get(f"/staff/prices/{price.pk}/").status_code == 200  # read, history
    assert client.post(f"/staff/prices/{price.pk}/", {"amount": "1"}).status_code == 403
    partner_user = client_for(world.user)
    assert partner_user.post(f"/staff/prices/{price.pk}/", {"amount": "1"}).status_code == 403
    assert Price.objects.get(pk=price.pk).amount == price.amount


def test_the_book_page_links_each_item_to_its_edit_page_and_exports_the_new_price(
    world: Any, vendor_admin: User, client_for: Callable[[User], Client]
) -> None:
    price = _yearly_business(world)
    client = client_for(vendor_admin)
    client.post(f"/staff/prices/{price.pk}/", {"amount": "77"})
    page = client.get(f"/staff/price-books/{world.book.code}/")
    assert f"/staff/prices/{price.pk}/".encode() in page.content
    csv = client.get(f"/staff/price-books/{world.book.code}/", {"export": "csv"}).content.decode()
    assert any(price.plan.code in row and "77" in row for row in csv.splitlines())
