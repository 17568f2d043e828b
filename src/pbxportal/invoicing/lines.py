"""A line before it is issued: what a change would charge (the what-if preview, R-CO-4) and what
it then charges are the same objects, built by the same function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pbxportal.core.proration import ProratedCharge


@dataclass(frozen=True)
class LineDraft:
    kind: str
    product_code: str
    description: str
    unit_price: Decimal
    quantity: Decimal
    amount: Decimal
    currency: str
    days_charged: int | None = None
    days_in_term: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    subscription_id: int | None = None
    pbx_id: int | None = None
    charge_key: str | None = None

    @classmethod
    def from_proration(
        cls,
        charge: ProratedCharge,
        *,
        kind: str,
        product_code: str,
        description: str,
        subscription_id: int | None,
        pbx_id: int | None,
        charge_key: str | None,
    ) -> LineDraft:
        return cls(
            kind=kind,
            product_code=product_code,
            description=description,
            unit_price=charge.unit_price,
            quantity=Decimal(charge.quantity),
            amount=charge.amount,
            currency=charge.currency,
            days_charged=charge.days_charged,
            days_in_term=charge.days_in_term,
            period_start=charge.period.start,
            period_end=charge.period.end,
            subscription_id=subscription_id,
            pbx_id=pbx_id,
            charge_key=charge_key,
        )

    def comparable(self) -> tuple[object, ...]:
        """The fields a preview promises (everything but database ids)."""
        return (
            self.kind,
            self.product_code,
            self.description,
            self.unit_price,
            self.quantity,
            self.amount,
            self.currency,
            self.days_charged,
            self.days_in_term,
            self.period_start,
            self.period_end,
        )
