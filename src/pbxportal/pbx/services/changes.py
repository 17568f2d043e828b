"""Changes to a PBX that cost money: licence quantities (R-PBX-7, 8), services (the co-termination
mechanism, R-CO-1..4), cancellation (R-HW-5) and plan switches (R-EX-5).

Every change is planned by a ``*_plan`` function (which writes nothing, the what-if preview of
R-CO-4), defined next to the service that applies it and issues exactly the planned lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from django.db import transaction

from pbxportal.catalog.limits import ensure_quantity_allowed
from pbxportal.catalog.models import Family, PlanTerm, PricingModel, Product
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.registry import FamilyRegistry
from pbxportal.common.tenancy import get_scoped
from pbxportal.core.periods import Term, last_day_of_month
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import LineKind
from pbxportal.overdue.policy import ensure_allowed
from pbxportal.pbx import charges
from pbxportal.pbx.charges import ChangePlan
from pbxportal.pbx.models import (
    Pbx,
    Subscription,
    SubscriptionStatus,
)
from pbxportal.pbx.refusals import refuse_auto_renew_off
from pbxportal.pbx.services.base import (
    SERVICE_FAMILIES,
    ChangeResult,
    _audit,
    _issue,
    _lock,
    _open,
    _product,
    _record,
)
from pbxportal.pbx.services.renewals import _deletion_countdown_after_change

# The ordering rules of each service family, registered by the app that owns the family (voice:
# R-CO-2, R-VT-5; hardware: R-HW-1; expansions: R-EX-1, R-EX-6; pbx: storage, R-PBX-1), run by
# ``service_order_plan`` after the co-termination rules. Each raises RuleViolation to refuse.
ServiceCheck = Callable[[Pbx, Product, int, dict[str, Any], date], None]
SERVICE_RULES: FamilyRegistry[ServiceCheck] = FamilyRegistry("service ordering rules")
service_requirement = SERVICE_RULES.register


def recurring_term_only(rule: str) -> ServiceCheck:
    """A family that needs a recurring subscription: refused on lifetime PBXs (R-CO-2, R-HW-1)."""

    def recurring_term(
        pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
    ) -> None:
        if not Term(pbx.term).is_recurring:
            raise RuleViolation(
                f"{product.name} needs a recurring subscription: not available on lifetime PBXs.",
                rule=rule,
                fields={"product": "lifetime PBX"},
            )

    return recurring_term


# --- Quantity changes (licences and per-unit services) ---------------------------------------


def quantity_change_plan(*, pbx: Pbx, product: Product, quantity: int, today: date) -> ChangePlan:
    """What setting ``product`` to ``quantity`` on the PBX charges (R-PBX-6..8, R-CO-3)."""
    _open(pbx)
    if quantity < 0:
        raise ApplicationError("quantity: cannot be negative.", fields={"quantity": "negative"})
    ensure_quantity_allowed(product, quantity)
    plan_obj = charges.plan_for(product, pbx.term)
    sub = pbx.subscriptions.filter(product=product, status=SubscriptionStatus.ACTIVE).first()
    current = sub.quantity if sub else 0
    plan = ChangePlan(warnings=charges.late_change_warning(pbx, today))
    if quantity < current and product.family == Family.LICENCE and last_day_of_month(today):
        raise RuleViolation(
            f"Licence decreases are refused on the last day of a month ({today.isoformat()}, vendor time zone).",
            rule="R-PBX-8",
            fields={"quantity": "decrease on the last day of the month"},
        )
    if quantity > current:
        price = charges.unit_price(pbx, plan_obj, quantity)
        plan.lines += charges.charge_lines(
            pbx=pbx,
            product=product,
            plan=plan_obj,
            price=price,
            quantity=quantity - current,
            start=today,
            kind=LineKind.PRORATED,
            description=f"{product.name}: +{quantity - current} from {today.isoformat()}",
            subscription_id=sub.pk if sub else None,
        )
    if product.family == Family.LICENCE:
        plan.lines += _banded_follow_up(pbx, product.code, quantity - current, today)
    return plan


def _banded_follow_up(
    pbx: Pbx, profile: str, delta: int, today: date, *, counted_offset: int = 0
) -> list[LineDraft]:
    """A banded subscription counting this profile (the voice trunk flat fee, R-VT-1) follows the
    counted users: added users are charged prorated at the band price; removed ones refund nothing.
    ``counted_offset`` adds counted users not yet written (a correction of several profiles); a
    band subscription started after ``today`` is charged from its own start (a backdated correction)."""
    lines: list[LineDraft] = []
    if delta <= 0:
        return lines
    for sub in charges.active_subscriptions(pbx):
        profiles = sub.product.attributes.get("counted_profiles") or []
        if sub.product.pricing_model != PricingModel.BANDED or profile not in profiles:
            continue
        users = charges.counted_users(pbx, profiles) + counted_offset + delta
        price = charges.unit_price(pbx, sub.plan, users)
        lines += charges.charge_lines(
            pbx=pbx,
            product=sub.product,
            plan=sub.plan,
            price=price,
            quantity=delta,
            start=max(today, sub.started_on),
            kind=LineKind.PRORATED,
            description=f"{sub.product.name}: +{delta} counted user(s) ({profile})",
            subscription_id=sub.pk,
        )
    return lines


def quantity_change(
    *, actor: Actor | None, pbx: Pbx, product: Product, quantity: int, today: date, kind: str = "change"
) -> ChangeResult:
    with transaction.atomic():
        pbx = _lock(pbx)
        plan = quantity_change_plan(pbx=pbx, product=product, quantity=quantity, today=today)
        sub = pbx.subscriptions.filter(product=product, status=SubscriptionStatus.ACTIVE).first()
        current = sub.quantity if sub else 0
        if sub is None and quantity == 0:
            return ChangeResult(plan=plan, invoice=None)  # nothing held, nothing to change
        if sub is None:
            sub = Subscription.objects.create(
                pbx=pbx,
                product=product,
                plan=charges.plan_for(product, pbx.term),
                quantity=quantity,
                started_on=today,
                commitment_until=charges.commitment_end(product, today),
            )
        else:
            sub.quantity = quantity
            sub.save(update_fields=["quantity"])
        if quantity != current:
            _record(sub, quantity - current, today, kind, actor)
        if product.family == Family.LICENCE:
            _follow_counted_users(pbx, product.code, today, actor)
        lines = [_with_subscription(line, sub, product) for line in plan.lines]
        invoice = _issue(pbx, lines, today)
        if product.family == Family.LICENCE:
            _deletion_countdown_after_change(pbx, today, actor)
        _audit(actor, pbx, "pbx.quantity_changed", product=product.code, before=current, after=quantity)
    return ChangeResult(plan=plan, invoice=invoice, subscription=sub)


def _with_subscription(line: LineDraft, sub: Subscription, product: Product) -> LineDraft:
    if line.subscription_id is None and line.product_code == sub.plan.code:
        return replace(line, subscription_id=sub.pk)
    return line


def _follow_counted_users(pbx: Pbx, profile: str, today: date, actor: Actor | None) -> None:
    for sub in charges.active_subscriptions(pbx):
        profiles = sub.product.attributes.get("counted_profiles") or []
        if sub.product.pricing_model != PricingModel.BANDED or profile not in profiles:
            continue
        users = charges.counted_users(pbx, profiles)
        if users != sub.quantity:
            delta = users - sub.quantity
            sub.quantity = users
            sub.save(update_fields=["quantity"])
            _record(sub, delta, today, "counted_users", actor)


def pbx_change_licences(
    *, actor: Actor, pbx_id: int, profile: str, quantity: int, today: date, preview: bool = False
) -> ChangeResult:
    """R-PBX-7/8: set a licence profile's quantity; increases charged prorated to expiry,
    decreases at once with no refund (refused on a month's last day)."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx.objects.select_related("partner__price_book", "model"), actor, pk=pbx_id)
    ensure_allowed(partner_id=pbx.partner_id, action="order_licences", today=today)  # R-INV-5
    product = _product(profile, Family.LICENCE)
    if preview:
        return ChangeResult(
            plan=quantity_change_plan(pbx=pbx, product=product, quantity=quantity, today=today), invoice=None
        )
    return quantity_change(actor=actor, pbx=pbx, product=product, quantity=quantity, today=today)


# --- Services: the co-termination mechanism (R-CO-1..4) --------------------------------------


def service_order_plan(
    *,
    pbx: Pbx,
    product: Product,
    quantity: int,
    today: date,
    term: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> ChangePlan:
    """Check a new service against the co-termination rules and price its first, prorated part."""
    _open(pbx)
    attributes = attributes or {}
    if product.family not in SERVICE_FAMILIES:
        raise ApplicationError(
            f"product: {product.code} is not a service.", fields={"product": "not a service"}
        )
    # R-EX-1 flexible payment: a service with a one-off plan (hotel PMS) may be bought once for good.
    one_off = product.family == Family.FEE or (
        term == PlanTerm.ONE_OFF and product.plans.filter(term=PlanTerm.ONE_OFF).exists()
    )
    if term and term != pbx.term and not one_off:
        raise RuleViolation(
            f"term: a {term.replace('_', '-')} service cannot be added to a {pbx.term.replace('_', '-')} PBX; every "
            "service has its PBX's term and expiry.",
            rule="R-CO-1",
            fields={"term": "differs from the PBX's"},
        )
    for check in SERVICE_RULES.rules(product.family):
        check(pbx, product, quantity, attributes, today)
    if product.pricing_model == PricingModel.BANDED:
        quantity = charges.counted_users(pbx, product.attributes.get("counted_profiles") or [])
        if quantity < 1:
            raise RuleViolation(
                f"{product.name} is priced per counted user and the PBX has none.",
                rule="R-VT-1",
                fields={"product": "no counted users"},
            )
    elif product.pricing_model == PricingModel.FLAT:
        quantity = 1
    elif quantity < 1:
        raise ApplicationError("quantity: at least 1.", fields={"quantity": "at least 1"})
    ensure_quantity_allowed(product, quantity)
    product_plan = (
        product.plans.get(term=PlanTerm.ONE_OFF) if one_off else charges.plan_for(product, pbx.term)
    )
    price = charges.unit_price(pbx, product_plan, quantity)
    plan = ChangePlan(warnings=charges.late_change_warning(pbx, today))
    plan.lines = charges.charge_lines(
        pbx=pbx,
        product=product,
        plan=product_plan,
        price=price,
        quantity=quantity,
        start=today,
        kind=LineKind.PRORATED,
        description=f"{product.name} from {today.isoformat()}",
    )
    return plan


def service_order(
    *,
    actor: Actor | None,
    pbx: Pbx,
    product_code: str,
    quantity: int = 1,
    today: date,
    term: str | None = None,
    attributes: dict[str, Any] | None = None,
    preview: bool = False,
    auto_renew: bool = True,
    issue: bool = True,
) -> ChangeResult:
    """Add a co-termed service to a PBX (R-CO-1..3); later issues call this for every service kind.
    With ``issue=False`` the charged lines (bound to the new subscription) are returned in the
    plan for the caller to invoice together with others (an expansion checkout, R-EX-2).
    An overdue partner cannot order hardware/HWaaS after day 5, nor anything else once read-only (R-INV-5)."""
    product = _product(product_code)
    ensure_allowed(
        partner_id=pbx.partner_id,
        action="order_hardware" if product.family == Family.HWAAS else "order_licences",
        today=today,
    )
    refuse_auto_renew_off(product, auto_renew)
    if preview:
        return ChangeResult(
            plan=service_order_plan(
                pbx=pbx, product=product, quantity=quantity, today=today, term=term, attributes=attributes
            ),
            invoice=None,
        )
    with transaction.atomic():
        pbx = _lock(pbx)
        plan = service_order_plan(
            pbx=pbx, product=product, quantity=quantity, today=today, term=term, attributes=attributes
        )
        quantity = int(plan.lines[0].quantity) if plan.lines else max(quantity, 1)
        planned = product.plans.filter(code=plan.lines[0].product_code).first() if plan.lines else None
        plan_obj = planned or charges.plan_for(product, pbx.term)
        sub = Subscription.objects.create(
            pbx=pbx,
            product=product,
            plan=plan_obj,
            quantity=quantity,
            started_on=today,
            attributes=attributes or {},
            commitment_until=charges.commitment_end(product, today),
            auto_renew=auto_renew,
            status=SubscriptionStatus.ACTIVE
            if plan_obj.term != PlanTerm.ONE_OFF
            else SubscriptionStatus.ENDED,
            ended_on=None if plan_obj.term != PlanTerm.ONE_OFF else today,
        )
        _record(sub, quantity, today, "create", actor)
        lines = [_with_subscription(line, sub, product) for line in plan.lines]
        invoice = _issue(pbx, lines, today) if issue else None
        _audit(actor, pbx, "service.ordered", product=product.code, quantity=quantity)
    plan.lines = lines
    return ChangeResult(plan=plan, invoice=invoice, subscription=sub)


def pbx_service_order(
    *,
    actor: Actor,
    pbx_id: int,
    product_code: str,
    quantity: int = 1,
    today: date,
    term: str | None = None,
    attributes: dict[str, Any] | None = None,
    preview: bool = False,
    auto_renew: bool = True,
) -> ChangeResult:
    """A partner orders a service for one of its PBXs (R-CO-1..4): the role and tenancy checks of
    the API and the pages, then ``service_order``."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx.objects.select_related("partner__price_book", "model"), actor, pk=pbx_id)
    return service_order(
        actor=actor,
        pbx=pbx,
        product_code=product_code,
        quantity=quantity,
        today=today,
        term=term,
        attributes=attributes,
        preview=preview,
        auto_renew=auto_renew,
    )


def subscription_cancel_plan(*, pbx: Pbx, sub: Subscription, today: date) -> ChangePlan:
    if sub.status != SubscriptionStatus.ACTIVE:
        raise Conflict("The subscription is not active.", fields={"subscription": sub.status})
    return ChangePlan(lines=charges.commitment_lines(pbx, sub, today))


def subscription_cancel(
    *, actor: Actor | None, sub: Subscription, today: date, preview: bool = False
) -> ChangeResult:
    """End a service at once, no refund; within its minimum commitment the rest of it is charged (R-HW-5)."""
    pbx = Pbx.objects.select_related("partner__price_book").get(pk=sub.pbx_id)
    if preview:
        return ChangeResult(
            plan=subscription_cancel_plan(pbx=pbx, sub=sub, today=today), invoice=None, subscription=sub
        )
    with transaction.atomic():
        pbx = _lock(pbx)
        sub = Subscription.objects.select_for_update().select_related("product", "plan").get(pk=sub.pk)
        plan = subscription_cancel_plan(pbx=pbx, sub=sub, today=today)
        sub.status = SubscriptionStatus.CANCELLED
        sub.ended_on = today
        sub.save(update_fields=["status", "ended_on"])
        _record(sub, 0, today, "cancel", actor)
        invoice = _issue(pbx, plan.lines, today)
        _audit(actor, pbx, "service.cancelled", product=sub.product.code)
    return ChangeResult(plan=plan, invoice=invoice, subscription=sub)


def subscription_cancel_by_partner(
    *, actor: Actor, subscription_id: int, today: date, preview: bool = False
) -> ChangeResult:
    """A partner cancels a service of its PBX (R-HW-5). Licences are not cancelled but set to a
    quantity (R-PBX-8), and the PBX model itself ends only with the PBX."""
    actor.require_partner_role("sales")
    sub = get_scoped(Subscription.objects.select_related("product", "plan"), actor, pk=subscription_id)
    if sub.product.family not in SERVICE_FAMILIES:
        raise ApplicationError(
            f"{sub.product.name} is not a service: licences are changed by quantity.",
            fields={"subscription": "not a service"},
        )
    return subscription_cancel(actor=actor, sub=sub, today=today, preview=preview)


# --- Plan switches (R-EX-5) -------------------------------------------------------------------


def plan_switch_plan(*, pbx: Pbx, new_product: Product, today: date) -> tuple[ChangePlan, Subscription, bool]:
    """Upgrade (at once, the price difference prorated) or downgrade (scheduled for the term's end)."""
    _open(pbx)
    sub = (
        pbx.subscriptions.filter(status=SubscriptionStatus.ACTIVE, product__family=Family.SOFTWARE_PLAN)
        .select_related("product", "plan")
        .first()
    )
    if sub is None:
        raise ApplicationError("The PBX has no software plan to switch.", fields={"product": "no plan"})
    if new_product.family != Family.SOFTWARE_PLAN or new_product.pk == sub.product_id:
        raise ApplicationError(
            f"product: {new_product.code} is not another software plan.", fields={"product": "invalid"}
        )
    new_plan = charges.plan_for(new_product, pbx.term)
    upgrade = int(new_product.attributes.get("plan_rank", 0)) > int(
        sub.product.attributes.get("plan_rank", 0)
    )
    plan = ChangePlan(warnings=charges.late_change_warning(pbx, today))
    if upgrade:
        difference = charges.unit_price(pbx, new_plan, 1) - charges.unit_price(pbx, sub.plan, 1)
        if difference > 0:
            plan.lines = charges.charge_lines(
                pbx=pbx,
                product=new_product,
                plan=new_plan,
                price=difference,
                quantity=1,
                start=today,
                kind=LineKind.PRORATED,
                description=f"Upgrade {sub.product.name} → {new_product.name} (price difference)",
                subscription_id=sub.pk,
            )
    else:
        plan.warnings.append(
            f"Downgrade to {new_product.name} is scheduled for the end of the term ({charges.expires_on(pbx, today)}) (R-EX-5)."
        )
    return plan, sub, upgrade


def plan_switch(
    *, actor: Actor, pbx_id: int, product_code: str, today: date, preview: bool = False
) -> ChangeResult:
    actor.require_partner_role("sales")
    pbx = get_scoped(Pbx.objects.select_related("partner__price_book", "model"), actor, pk=pbx_id)
    new_product = _product(product_code, Family.SOFTWARE_PLAN)
    if preview:
        return ChangeResult(
            plan=plan_switch_plan(pbx=pbx, new_product=new_product, today=today)[0], invoice=None
        )
    with transaction.atomic():
        pbx = _lock(pbx)
        plan, sub, upgrade = plan_switch_plan(pbx=pbx, new_product=new_product, today=today)
        new_plan = charges.plan_for(new_product, pbx.term)
        if upgrade:
            sub.product, sub.plan, sub.scheduled_plan = new_product, new_plan, None
        else:
            sub.scheduled_plan = new_plan
        sub.save(update_fields=["product", "plan", "scheduled_plan"])
        invoice = _issue(pbx, plan.lines, today)
        _audit(actor, pbx, "plan.switch", to=new_product.code, upgrade=upgrade)
    return ChangeResult(plan=plan, invoice=invoice, subscription=sub)
