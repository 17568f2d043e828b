"""The charge computations of the subscription engine (R-CO-3, R-PBX-5, R-HW-5, R-EX-5).

Each function returns the lines a change would charge, without writing anything: the what-if
preview (R-CO-4) shows them and the real change issues exactly them, so the two cannot differ.
The arithmetic itself is the pure core's (pbxportal.core.periods / proration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from pbxportal.catalog.models import Plan, PlanTerm, Product
from pbxportal.catalog.selectors import plan_price
from pbxportal.common.errors import RuleViolation
from pbxportal.core.money import round_line
from pbxportal.core.periods import Period, Term, add_months_anchored, term_period_containing
from pbxportal.core.proration import full_term, prorate
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import LineKind
from pbxportal.pbx.models import Pbx, Subscription, SubscriptionStatus

LATE_CHANGE_DAYS = 2  # R-PBX-6: changes are recommended at least 2 days before expiry


@dataclass
class ChangePlan:
    """What a change will do: the lines it charges and the warnings it shows (R-CO-4)."""

    lines: list[LineDraft] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def term_of(pbx: Pbx) -> Term:
    return Term(pbx.term)


def term_period(pbx: Pbx, on: date) -> Period | None:
    """The PBX's term period containing ``on`` (None for lifetime PBXs)."""
    term = term_of(pbx)
    if not term.is_recurring:
        return None
    return term_period_containing(pbx.anchor_date, term, max(on, pbx.anchor_date))


def expires_on(pbx: Pbx, on: date) -> date | None:
    period = term_period(pbx, on)
    return period.end if period else None


def plan_for(product: Product, term: str) -> Plan:
    """The product's plan for the PBX's term; none means the service cannot have that term (R-CO-1)."""
    plan = product.plans.filter(term=term).first()
    if plan is None:
        raise RuleViolation(
            f"{product.code} has no {term.replace('_', '-')} plan: every service of a PBX has the PBX's term.",
            rule="R-CO-1",
            fields={"product": product.code},
        )
    return plan


def unit_price(pbx: Pbx, plan: Plan, units: int) -> Decimal:
    return plan_price(book=pbx.partner.price_book, plan=plan, units=units).amount


def late_change_warning(pbx: Pbx, today: date) -> list[str]:
    expiry = expires_on(pbx, today)
    if expiry is not None and (expiry - today).days <= LATE_CHANGE_DAYS:
        return [
            f"Late change: the PBX expires on {expiry.isoformat()}; the vendor recommends changes at least "
            f"{LATE_CHANGE_DAYS} days before expiry (R-PBX-6)."
        ]
    return []


def charge_lines(
    *,
    pbx: Pbx,
    product: Product,
    plan: Plan,
    price: Decimal,
    quantity: int,
    start: date,
    kind: str,
    description: str,
    subscription_id: int | None = None,
    until: date | None = None,
) -> list[LineDraft]:
    """Charge ``quantity`` units from ``start`` up to what the PBX has been invoiced through
    (or ``until``): the first term period prorated (R-CO-3), any later one in full. A lifetime or
    one-off plan is one charge of its price."""
    currency = pbx.partner.price_book.currency
    if quantity <= 0 or price == 0:
        return []
    if plan.term in (PlanTerm.LIFETIME, PlanTerm.ONE_OFF) or not term_of(pbx).is_recurring:
        amount = round_line(price * quantity, currency)
        return [
            LineDraft(
                kind=LineKind.ONE_OFF,
                product_code=plan.code,
                description=description,
                unit_price=price,
                quantity=Decimal(quantity),
                amount=amount,
                currency=currency,
                subscription_id=subscription_id,
                pbx_id=pbx.pk,
            )
        ]
    current = term_period(pbx, start)
    assert current is not None and pbx.invoiced_through is not None
    # Normally the PBX is invoiced through the current term (or the next, after the renewal on the
    # term's last day); should the clock lag behind, the current term is still charged in full.
    end = until or max(pbx.invoiced_through, current.end)
    lines = []
    day = start
    while day < end:
        period = term_period(pbx, day)
        assert period is not None
        stop = min(end, period.end)
        charge = prorate(
            unit_price=price,
            quantity=quantity,
            currency=currency,
            term_period=period,
            change_date=day,
            until=stop,
        )
        line_kind = (
            kind
            if charge.days_charged < charge.days_in_term
            else (LineKind.TERM if kind == LineKind.PRORATED else kind)
        )
        lines.append(
            LineDraft.from_proration(
                charge,
                kind=line_kind,
                product_code=plan.code,
                description=description,
                subscription_id=subscription_id,
                pbx_id=pbx.pk,
                charge_key=None,
            )
        )
        day = stop
    return lines


def renewal_lines(
    pbx: Pbx,
    subscriptions: list[Subscription],
    period: Period,
    price_of: Callable[[Pbx, Plan, int], Decimal] | None = None,
) -> list[LineDraft]:
    """The next term of every subscription in force (R-PBX-5), one line each, keyed by
    (subscription, period) so a re-run cannot charge it twice (R-INV-2). A bill run passes a
    memoised ``price_of`` (same prices, fewer queries)."""
    price_of = price_of or unit_price
    currency = pbx.partner.price_book.currency
    lines = []
    for sub in subscriptions:
        plan = sub.scheduled_plan or sub.plan
        if plan.term != pbx.term or sub.quantity <= 0:
            continue
        price = price_of(pbx, plan, sub.quantity)
        if price == 0:
            continue
        charge = full_term(unit_price=price, quantity=sub.quantity, currency=currency, term_period=period)
        lines.append(
            LineDraft.from_proration(
                charge,
                kind=LineKind.RENEWAL,
                product_code=plan.code,
                description=f"{plan.product.name}, renewal {period}",
                subscription_id=sub.pk,
                pbx_id=pbx.pk,
                charge_key=f"renewal:{sub.pk}:{period.start.isoformat()}",
            )
        )
    return lines


def commitment_end(product: Product, start: date) -> date | None:
    """R-HW-5: the minimum commitment is catalog data, separate from the term."""
    months = product.min_commitment_months
    return add_months_anchored(start, months) if months else None


def commitment_lines(pbx: Pbx, sub: Subscription, today: date) -> list[LineDraft]:
    """Cancelling within the minimum commitment costs the rest of it (R-HW-5): the part of
    [started_on, commitment_until) not invoiced yet, at the subscription's price."""
    if sub.commitment_until is None or pbx.invoiced_through is None:
        return []
    start = max(pbx.invoiced_through, today)
    if start >= sub.commitment_until:
        return []
    price = unit_price(pbx, sub.plan, sub.quantity)
    lines = []
    day = start
    while day < sub.commitment_until:
        period = term_period(pbx, day)
        assert period is not None
        stop = min(sub.commitment_until, period.end)
        charge = prorate(
            unit_price=price,
            quantity=sub.quantity,
            currency=pbx.partner.price_book.currency,
            term_period=period,
            change_date=day,
            until=stop,
        )
        lines.append(
            LineDraft.from_proration(
                charge,
                kind=LineKind.COMMITMENT,
                product_code=sub.plan.code,
                description=f"{sub.product.name}: minimum commitment until {sub.commitment_until.isoformat()} (R-HW-5)",
                subscription_id=sub.pk,
                pbx_id=pbx.pk,
                charge_key=f"commitment:{sub.pk}:{day.isoformat()}",
            )
        )
        day = stop
    return lines


def active_subscriptions(pbx: Pbx) -> list[Subscription]:
    return list(
        pbx.subscriptions.filter(status=SubscriptionStatus.ACTIVE)
        .select_related("product", "plan", "plan__product", "scheduled_plan", "scheduled_plan__product")
        .order_by("product__family", "product__code", "id")
    )


def counted_users(pbx: Pbx, profiles: list[str]) -> int:
    """R-VT-1: the PBX's users of the counted licence profiles (catalog data)."""
    return sum(
        s.quantity
        for s in pbx.subscriptions.filter(status=SubscriptionStatus.ACTIVE, product__code__in=profiles)
    )


def per_user(pbx: Pbx) -> bool:
    """A per-user PBX (R-CAT-2 models), as opposed to a software PBX sold by plan (R-EX-1)."""
    return bool(pbx.model.family == "pbx")


def user_licences(pbx: Pbx) -> int:
    """R-PBX-9: user licences (profiles flagged user_licence in the catalog)."""
    return sum(
        s.quantity
        for s in pbx.subscriptions.filter(
            status=SubscriptionStatus.ACTIVE, product__family="licence"
        ).select_related("product")
        if s.product.attributes.get("user_licence", True)
    )
