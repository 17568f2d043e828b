"""Vendor admins edit price book items (R-CAT-1: editable by vendor admins) with validation and a
history of every change (who, when, before/after); the next invoice prices with the new amount
(R-CAT-4: catalog.selectors.plan_price reads the same row). Audited too."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from pbxportal.catalog.models import Price, PriceChange
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.models import AuditEvent

MAX_AMOUNT = Decimal("1000000000000")  # the column holds 12 integer digits


def parse_amount(raw: object) -> Decimal:
    """A price: a decimal number >= 0 with at most 6 decimals (R-CAT-6), below 10^12."""
    try:
        amount = Decimal(str(raw).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ApplicationError(
            f"amount: {raw!r} is not a decimal number.", fields={"amount": "invalid"}, rule="R-CAT-6"
        ) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise ApplicationError(
            "amount: a price is a number from 0 to 999999999999.",
            fields={"amount": "invalid"},
            rule="R-CAT-6",
        )
    if amount != amount.quantize(Decimal("0.000001")):
        raise ApplicationError(
            "amount: at most 6 decimal places.", fields={"amount": "invalid"}, rule="R-CAT-6"
        )
    return amount


def price_update(*, actor: Actor, price_id: int, amount: object, reason: str = "") -> Price:
    actor.require_staff("vendor_admin")
    new = parse_amount(amount)
    with transaction.atomic():
        price = Price.objects.select_for_update().select_related("book", "plan").filter(pk=price_id).first()
        if price is None:
            raise NotFound("No such price.")
        before = price.amount
        if before == new:
            return price
        price.amount = new
        price.save(update_fields=["amount"])
        PriceChange.objects.create(
            price=price,
            book=price.book,
            plan=price.plan,
            band_min=price.band_min,
            before=before,
            after=new,
            changed_by=actor.user,
            reason=reason.strip()[:200],
        )
        AuditEvent.objects.create(
            actor=actor.user,
            action="price.changed",
            object_type="catalog.price",
            object_id=str(price.pk),
            data={
                "book": price.book.code,
                "plan": price.plan.code,
                "band": price.band_label,
                "before": str(before),
                "after": str(new),
            },
        )
    return price


def price_history(*, price: Price) -> list[PriceChange]:
    return list(PriceChange.objects.filter(price=price).select_related("changed_by"))
