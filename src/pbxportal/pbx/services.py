"""Writes of the subscription engine: PBXs, licence and service changes, cancellations, plan
switches, renewals, the deletion countdown, SSH windows, cloud activation and corrections.

Every change that costs money is planned by a ``*_plan`` function (which writes nothing, the
what-if preview of R-CO-4) and then applied by the matching service, which issues exactly the
planned lines.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import holidays
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from pbxportal.accounts.models import Customer
from pbxportal.catalog.limits import ensure_quantity_allowed
from pbxportal.catalog.models import Family, Plan, PlanTerm, PricingModel, Product
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, NotFound, RuleViolation
from pbxportal.common.models import AuditEvent
from pbxportal.common.tenancy import get_scoped
from pbxportal.core.periods import Term, last_day_of_month, term_end
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, InvoiceKind, LineKind
from pbxportal.invoicing.services import invoice_issue
from pbxportal.overdue.policy import ensure_allowed
from pbxportal.pbx import engine
from pbxportal.pbx.correction_rules import lock_filed_correction
from pbxportal.pbx.engine import ChangePlan
from pbxportal.pbx.models import (
    CorrectionRequest,
    CorrectionStatus,
    Pbx,
    PbxStatus,
    QuantityChange,
    Reminder,
    SshWindow,
    Subscription,
    SubscriptionStatus,
)
from pbxportal.pbx.refusals import refuse_auto_renew_off

DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CLOUD_ACTIVATION_DELAY = timedelta(minutes=3)  # R-PBX-3
SSH_DEFAULT_MINUTES, SSH_MAX_MINUTES = 60, 24 * 60  # R-PBX-11
STOP_AFTER_DAYS, DELETE_AFTER_DAYS = 5, 14  # R-PBX-9
SERVICE_FAMILIES = {Family.STORAGE, Family.VOICE, Family.HWAAS, Family.NUMBER, Family.EXPANSION, Family.FEE}
CLOSED = {PbxStatus.DELETED, PbxStatus.ENDED}

# Extra requirements of a service family, added by the apps that own them (voice: CTA2 DIDs;
# expansions: hot-standby pairing ...). Each raises RuleViolation to refuse.
ServiceCheck = Callable[[Pbx, Product, int, dict[str, Any], date], None]
SERVICE_CHECKS: dict[str, list[ServiceCheck]] = {}


def service_requirement(family: str) -> Callable[[ServiceCheck], ServiceCheck]:
    def register(check: ServiceCheck) -> ServiceCheck:
        SERVICE_CHECKS.setdefault(family, []).append(check)
        return check

    return register


@dataclass(frozen=True)
class ChangeResult:
    plan: ChangePlan
    invoice: Invoice | None
    subscription: Subscription | None = None
    pbx: Pbx | None = None


# Work after a PBX changed, registered by apps (licensing re-signs the PBX's licence, R-LIC-1).
# Every change of a PBX is audited, so ``_audit`` runs the hooks, after the transaction commits.
PbxChangedHook = Callable[[int], None]
PBX_CHANGED_HOOKS: list[PbxChangedHook] = []


def on_pbx_changed(hook: PbxChangedHook) -> PbxChangedHook:
    PBX_CHANGED_HOOKS.append(hook)
    return hook


def _audit(actor: Actor | None, pbx: Pbx, action: str, **data: Any) -> None:
    AuditEvent.objects.create(
        actor=actor.user if actor else None,
        partner_id=pbx.partner_id,
        action=action,
        object_type="pbx",
        object_id=str(pbx.pk),
        data={k: str(v) for k, v in data.items()},
    )
    for hook in PBX_CHANGED_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(pbx.pk))  # type: ignore[misc]


def _issue(pbx: Pbx, lines: list[LineDraft], today: date) -> Invoice | None:
    return invoice_issue(partner=pbx.partner, lines=lines, issued_on=today, pbx_id=pbx.pk) if lines else None


def _lock(pbx: Pbx) -> Pbx:
    return (
        Pbx.objects.select_for_update()
        .select_related("partner__price_book", "model", "customer")
        .get(pk=pbx.pk)
    )


def _record(
    sub: Subscription, delta: int, today: date, kind: str, actor: Actor | None, note: str = ""
) -> None:
    QuantityChange.objects.create(
        subscription=sub,
        pbx_id=sub.pbx_id,
        delta=delta,
        quantity_after=sub.quantity,
        effective_on=today,
        kind=kind,
        actor=actor.user if actor else None,
        note=note[:200],
    )


def _product(code: str, *families: str) -> Product:
    product = Product.objects.filter(code=code, active=True).first()
    if product is None or (families and product.family not in families):
        raise ApplicationError(
            f"product: {code!r} is not a product of this kind.", fields={"product": "unknown"}
        )
    return product


# --- PBXs -------------------------------------------------------------------------------------


def _new_serial() -> str:
    return "PBX-" + secrets.token_hex(5).upper()


def pbx_create_plan(
    *, partner_id: int, model: Product, term: str, licences: dict[str, int], storage_blocks: int, today: date
) -> tuple[ChangePlan, list[tuple[Product, int]]]:
    """The first invoice of a new PBX: every licence and the storage for the first full term."""
    items: list[tuple[Product, int]] = [(model, 1)]
    for code, quantity in sorted(licences.items()):
        if quantity < 0:
            raise ApplicationError(
                f"licences.{code}: a quantity cannot be negative.", fields={f"licences.{code}": "negative"}
            )
        if quantity:
            items.append((_product(code, Family.LICENCE), quantity))
            ensure_quantity_allowed(items[-1][0], quantity, field=f"licences.{code}")
    if storage_blocks:
        storage = Product.objects.filter(family=Family.STORAGE, active=True).order_by("code").first()
        if storage is None:
            raise ApplicationError(
                "storage: no storage product in the catalog.", fields={"storage_blocks": "unavailable"}
            )
        items.append((storage, storage_blocks))
        ensure_quantity_allowed(storage, storage_blocks, field="storage_blocks")
    from pbxportal.accounts.models import Partner

    partner = Partner.objects.select_related("price_book").get(pk=partner_id)
    probe = Pbx(
        partner=partner,
        model=model,
        term=term,
        anchor_date=today,
        invoiced_through=term_end(today, Term(term)),
    )
    plan = ChangePlan()
    for product, quantity in items:
        product_plan = engine.plan_for(product, term)
        price = engine.unit_price(probe, product_plan, quantity)
        plan.lines += engine.charge_lines(
            pbx=probe,
            product=product,
            plan=product_plan,
            price=price,
            quantity=quantity,
            start=today,
            kind=LineKind.TERM,
            description=f"{product.name}, first term",
        )
    return plan, items


def pbx_create(
    *,
    actor: Actor,
    customer_id: int,
    model_code: str,
    name: str,
    term: str,
    licences: dict[str, int],
    region: str = "",
    storage_blocks: int = 0,
    today: date,
    preview: bool = False,
) -> ChangeResult:
    """Create a PBX (R-PBX-1, 2, 3) with its licences; the first term is invoiced at once."""
    actor.require_partner_role("sales", "technician")
    customer = get_scoped(Customer, actor, pk=customer_id)
    ensure_allowed(partner_id=customer.partner_id, action="order_licences", today=today)  # R-INV-5
    model = _product(model_code, Family.PBX, Family.SOFTWARE_PLAN)
    name = (name or "").strip().lower()
    if not DNS_LABEL.match(name):
        raise ApplicationError(
            "name: a PBX name is a DNS label: 1-63 lowercase letters, digits or hyphens, not starting or ending "
            "with a hyphen (R-PBX-1).",
            rule="R-PBX-1",
            fields={"name": "not a DNS label"},
        )
    if Pbx.objects.filter(name=name).exists():
        raise Conflict(
            f"name: {name!r} is taken (PBX names are unique across the vendor).",
            rule="R-PBX-1",
            fields={"name": "taken"},
        )
    if term not in Term._value2member_map_:
        raise ApplicationError(
            f"term: {term!r}; expected monthly, yearly, five_year or lifetime.", fields={"term": "invalid"}
        )
    cloud = bool(model.attributes.get("cloud"))
    if cloud and term == Term.LIFETIME:
        raise RuleViolation(
            "term: lifetime is not available for cloud PBXs.", rule="R-PBX-2", fields={"term": "lifetime"}
        )
    regions = model.attributes.get("regions") or []
    if cloud and not region:
        raise ApplicationError(
            "region: required for a cloud PBX.", rule="R-PBX-1", fields={"region": "required"}
        )
    if cloud and regions and region not in regions:
        raise ApplicationError(
            f"region: {region!r}; expected one of {', '.join(regions)}.", fields={"region": "invalid"}
        )
    if not cloud and (region or storage_blocks):
        raise ApplicationError(
            "region and storage are for cloud PBXs only.",
            rule="R-PBX-1",
            fields={"region" if region else "storage_blocks": "cloud only"},
        )
    if storage_blocks < 0:
        raise ApplicationError("storage_blocks: cannot be negative.", fields={"storage_blocks": "negative"})
    plan, items = pbx_create_plan(
        partner_id=customer.partner_id,
        model=model,
        term=term,
        licences=licences,
        storage_blocks=storage_blocks,
        today=today,
    )
    if preview:
        return ChangeResult(plan=plan, invoice=None)
    now = timezone.now()
    try:
        with transaction.atomic():
            pbx = Pbx.objects.create(
                partner_id=customer.partner_id,
                customer=customer,
                model=model,
                name=name,
                region=region,
                term=term,
                anchor_date=today,
                expires_on=term_end(today, Term(term)),
                invoiced_through=term_end(today, Term(term)),
                serial=_new_serial(),
                pbx_key="" if cloud else secrets.token_urlsafe(24),
                activation_due_at=now + CLOUD_ACTIVATION_DELAY if cloud else None,
            )
            for product, quantity in items:
                sub = Subscription.objects.create(
                    pbx=pbx,
                    product=product,
                    plan=engine.plan_for(product, term),
                    quantity=quantity,
                    started_on=today,
                    commitment_until=engine.commitment_end(product, today),
                )
                _record(sub, quantity, today, "create", actor)
            lines = [_bind(line, pbx, items) for line in plan.lines]
            invoice = _issue(pbx, lines, today)
            if engine.per_user(pbx) and engine.user_licences(pbx) == 0:
                pbx.zero_users_since = today
                pbx.save(update_fields=["zero_users_since"])
            _audit(actor, pbx, "pbx.created", model=model.code, term=term)
    except IntegrityError:
        raise Conflict(f"name: {name!r} is taken.", rule="R-PBX-1", fields={"name": "taken"}) from None
    if cloud:
        from pbxportal.pbx.tasks import activate_cloud_pbx

        transaction.on_commit(lambda: _schedule(activate_cloud_pbx, pbx.pk, CLOUD_ACTIVATION_DELAY))
    return ChangeResult(plan=plan, invoice=invoice, pbx=pbx)


def _bind(line: LineDraft, pbx: Pbx, items: list[tuple[Product, int]]) -> LineDraft:
    """Attach the created subscription ids to the planned lines (the preview had none)."""
    from dataclasses import replace

    sub = pbx.subscriptions.filter(plan__code=line.product_code).first()
    return replace(line, pbx_id=pbx.pk, subscription_id=sub.pk if sub else None)


def _schedule(task: Any, pbx_id: int, delay: timedelta) -> None:
    """Queue a delayed task; in the embedded (eager) mode the clock's short jobs do it on time."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    task.apply_async(args=[pbx_id], countdown=delay.total_seconds())


def pbx_activate(*, pbx: Pbx, now: datetime) -> bool:
    """Activate a PBX (R-PBX-3): a cloud one when due, a VM/HW one when it presents its key."""
    with transaction.atomic():
        locked = _lock(pbx)
        if locked.status != PbxStatus.PENDING_ACTIVATION:
            return False
        counting_down = engine.per_user(locked) and locked.zero_users_since is not None
        locked.status = PbxStatus.PENDING_DELETION if counting_down else PbxStatus.ACTIVE
        locked.activated_at = now
        if locked.is_cloud and not locked.firmware_version:
            locked.firmware_version = getattr(settings, "CLOUD_FIRMWARE_VERSION", "7.0")
        locked.save(update_fields=["status", "activated_at", "firmware_version"])
        _audit(None, locked, "pbx.activated")
    return True


def cloud_activation_due(*, now: datetime) -> int:
    """The clock's backstop for the cloud activation task (R-PBX-3, R-CLK-1)."""
    due = Pbx.objects.filter(status=PbxStatus.PENDING_ACTIVATION, activation_due_at__lte=now)
    return sum(pbx_activate(pbx=pbx, now=now) for pbx in due)


def pbx_activate_with_key(*, pbx_key: str, now: datetime) -> Pbx:
    """A VM/HW PBX presents its PBX key (R-PBX-3)."""
    pbx = Pbx.objects.filter(pbx_key=pbx_key).exclude(pbx_key="").first() if pbx_key else None
    if pbx is None:
        raise NotFound("Unknown PBX key.", rule="R-PBX-3")
    pbx_activate(pbx=pbx, now=now)
    pbx.refresh_from_db()
    return pbx


def pbx_set_auto_renew(*, actor: Actor, pbx_id: int, auto_renew: bool) -> Pbx:
    """R-EX-4: with auto-renew off the PBX and its services end at expiry."""
    actor.require_partner_role("sales", "billing")
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    pbx.auto_renew = auto_renew
    pbx.save(update_fields=["auto_renew"])
    _audit(actor, pbx, "pbx.auto_renew", value=auto_renew)
    return pbx


# --- Quantity changes (licences and per-unit services) ---------------------------------------


def _open(pbx: Pbx) -> None:
    if pbx.status in CLOSED:
        raise RuleViolation(
            f"The PBX is {pbx.get_status_display().lower()}: it cannot be changed.", rule="R-PBX-9"
        )


def quantity_change_plan(*, pbx: Pbx, product: Product, quantity: int, today: date) -> ChangePlan:
    """What setting ``product`` to ``quantity`` on the PBX charges (R-PBX-6..8, R-CO-3)."""
    _open(pbx)
    if quantity < 0:
        raise ApplicationError("quantity: cannot be negative.", fields={"quantity": "negative"})
    ensure_quantity_allowed(product, quantity)
    plan_obj = engine.plan_for(product, pbx.term)
    sub = pbx.subscriptions.filter(product=product, status=SubscriptionStatus.ACTIVE).first()
    current = sub.quantity if sub else 0
    plan = ChangePlan(warnings=engine.late_change_warning(pbx, today))
    if quantity < current and product.family == Family.LICENCE and last_day_of_month(today):
        raise RuleViolation(
            f"Licence decreases are refused on the last day of a month ({today.isoformat()}, vendor time zone).",
            rule="R-PBX-8",
            fields={"quantity": "decrease on the last day of the month"},
        )
    if quantity > current:
        price = engine.unit_price(pbx, plan_obj, quantity)
        plan.lines += engine.charge_lines(
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


def _banded_follow_up(pbx: Pbx, profile: str, delta: int, today: date) -> list[LineDraft]:
    """A banded subscription counting this profile (the voice trunk flat fee, R-VT-1) follows the
    counted users: added users are charged prorated at the band price; removed ones refund nothing."""
    lines: list[LineDraft] = []
    if delta <= 0:
        return lines
    for sub in engine.active_subscriptions(pbx):
        profiles = sub.product.attributes.get("counted_profiles") or []
        if sub.product.pricing_model != PricingModel.BANDED or profile not in profiles:
            continue
        users = engine.counted_users(pbx, profiles) + delta
        price = engine.unit_price(pbx, sub.plan, users)
        lines += engine.charge_lines(
            pbx=pbx,
            product=sub.product,
            plan=sub.plan,
            price=price,
            quantity=delta,
            start=today,
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
                plan=engine.plan_for(product, pbx.term),
                quantity=quantity,
                started_on=today,
                commitment_until=engine.commitment_end(product, today),
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
    from dataclasses import replace

    if line.subscription_id is None and line.product_code == sub.plan.code:
        return replace(line, subscription_id=sub.pk)
    return line


def _follow_counted_users(pbx: Pbx, profile: str, today: date, actor: Actor | None) -> None:
    for sub in engine.active_subscriptions(pbx):
        profiles = sub.product.attributes.get("counted_profiles") or []
        if sub.product.pricing_model != PricingModel.BANDED or profile not in profiles:
            continue
        users = engine.counted_users(pbx, profiles)
        if users != sub.quantity:
            delta = users - sub.quantity
            sub.quantity = users
            sub.save(update_fields=["quantity"])
            _record(sub, delta, today, "counted_users", actor)


def _deletion_countdown_after_change(pbx: Pbx, today: date, actor: Actor | None) -> None:
    """R-PBX-9: zero user licences start the countdown; adding one back restores the PBX and
    notifies its area manager."""
    if not engine.per_user(pbx):
        return
    users = engine.user_licences(pbx)
    if users == 0 and pbx.zero_users_since is None:
        pbx.zero_users_since = today
        if pbx.status == PbxStatus.ACTIVE:
            pbx.status = PbxStatus.PENDING_DELETION
        pbx.save(update_fields=["zero_users_since", "status"])
        _audit(actor, pbx, "pbx.deletion_countdown_started", on=today)
    elif users > 0 and pbx.zero_users_since is not None:
        pbx.zero_users_since = None
        if pbx.status in (PbxStatus.PENDING_DELETION, PbxStatus.STOPPED):
            pbx.status = PbxStatus.ACTIVE if pbx.activated_at else PbxStatus.PENDING_ACTIVATION
        pbx.save(update_fields=["zero_users_since", "status"])
        _audit(actor, pbx, "pbx.restored", on=today)
        _notify_area_manager(pbx, today)


def _notify_area_manager(pbx: Pbx, today: date) -> None:
    manager = pbx.partner.area_manager
    if manager is None or not manager.email:
        return
    transaction.on_commit(
        lambda: send_mail(
            f"PBX {pbx.name} restored by {pbx.partner.name}",
            f"{pbx.partner.name} added back a user licence to PBX {pbx.name} (serial {pbx.serial}) on "
            f"{today.isoformat()}, which stops its deletion countdown (R-PBX-9).",
            None,
            [manager.email],
            fail_silently=True,
        )
    )


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


def _firmware_at_least(version: str, minimum: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", v)[:3]) or (0,)

    return bool(version) and parts(version) >= parts(minimum)


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
    if product.family in (Family.VOICE, Family.HWAAS) and not Term(pbx.term).is_recurring:
        raise RuleViolation(
            f"{product.name} needs a recurring subscription: not available on lifetime PBXs.",
            rule="R-CO-2" if product.family == Family.VOICE else "R-HW-1",
            fields={"product": "lifetime PBX"},
        )
    if product.family == Family.VOICE:
        if pbx.model.family != Family.PBX:
            raise RuleViolation(
                "The voice trunk needs a per-user PBX.",
                rule="R-CO-2",
                fields={"product": "per-user PBX only"},
            )
        minimum = str(product.attributes.get("min_firmware", "6.0"))
        if not _firmware_at_least(pbx.firmware_version, minimum):
            raise RuleViolation(
                f"The voice trunk needs firmware {minimum} or later; the PBX reports "
                f"{pbx.firmware_version or 'no version yet'}.",
                rule="R-CO-2",
                fields={"product": "firmware"},
            )
        if pbx.subscriptions.filter(
            status=SubscriptionStatus.ACTIVE,
            product__family=Family.VOICE,
            product__pricing_model__in=[PricingModel.BANDED, PricingModel.FLAT],
        ).exists() and product.pricing_model in (PricingModel.BANDED, PricingModel.FLAT):
            raise RuleViolation(
                "The PBX has a voice bundle already: CTA1 and CTA2 bundles exclude each other; "
                "switching is a customer-care ticket.",
                rule="R-VT-5",
                fields={"product": "bundle"},
            )
    if product.family == Family.STORAGE and not pbx.is_cloud:
        raise RuleViolation(
            "Storage is for cloud PBXs only.", rule="R-PBX-1", fields={"product": "cloud only"}
        )
    for check in SERVICE_CHECKS.get(product.family, []):
        check(pbx, product, quantity, attributes, today)
    if product.pricing_model == PricingModel.BANDED:
        quantity = engine.counted_users(pbx, product.attributes.get("counted_profiles") or [])
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
    product_plan = product.plans.get(term=PlanTerm.ONE_OFF) if one_off else engine.plan_for(product, pbx.term)
    price = engine.unit_price(pbx, product_plan, quantity)
    plan = ChangePlan(warnings=engine.late_change_warning(pbx, today))
    plan.lines = engine.charge_lines(
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
        plan_obj = planned or engine.plan_for(product, pbx.term)
        sub = Subscription.objects.create(
            pbx=pbx,
            product=product,
            plan=plan_obj,
            quantity=quantity,
            started_on=today,
            attributes=attributes or {},
            commitment_until=engine.commitment_end(product, today),
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
    return ChangePlan(lines=engine.commitment_lines(pbx, sub, today))


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


def subscription_set_auto_renew(*, actor: Actor, subscription_id: int, auto_renew: bool) -> Subscription:
    """R-EX-4: switch auto-renew off any time before expiry, where the catalog allows it."""
    actor.require_partner_role("sales", "billing")
    sub = get_scoped(Subscription.objects.select_related("product"), actor, pk=subscription_id)
    if not auto_renew and not sub.product.auto_renew_optional:
        raise RuleViolation(
            f"{sub.product.name} renews with its PBX; auto-renew cannot be switched off.", rule="R-EX-4"
        )
    sub.auto_renew = auto_renew
    sub.save(update_fields=["auto_renew"])
    return sub


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
    new_plan = engine.plan_for(new_product, pbx.term)
    upgrade = int(new_product.attributes.get("plan_rank", 0)) > int(
        sub.product.attributes.get("plan_rank", 0)
    )
    plan = ChangePlan(warnings=engine.late_change_warning(pbx, today))
    if upgrade:
        difference = engine.unit_price(pbx, new_plan, 1) - engine.unit_price(pbx, sub.plan, 1)
        if difference > 0:
            plan.lines = engine.charge_lines(
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
            f"Downgrade to {new_product.name} is scheduled for the end of the term ({engine.expires_on(pbx, today)}) (R-EX-5)."
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
        new_plan = engine.plan_for(new_product, pbx.term)
        if upgrade:
            sub.product, sub.plan, sub.scheduled_plan = new_product, new_plan, None
        else:
            sub.scheduled_plan = new_plan
        sub.save(update_fields=["product", "plan", "scheduled_plan"])
        invoice = _issue(pbx, plan.lines, today)
        _audit(actor, pbx, "plan.switch", to=new_product.code, upgrade=upgrade)
    return ChangeResult(plan=plan, invoice=invoice, subscription=sub)


# --- The clock's daily work (R-CLK-1) --------------------------------------------------------


def renew_pbx(*, pbx_id: int, day: date) -> Invoice | None:
    """R-PBX-5: on the last day of its term a PBX is invoiced for the next term, with the
    quantities and services in force that day. Idempotent: the PBX row is locked, the period is
    checked against ``invoiced_through``, and every line has a unique (subscription, period) key."""
    with transaction.atomic():
        pbx = Pbx.objects.select_for_update().select_related("partner__price_book").get(pk=pbx_id)
        if pbx.invoiced_through is None or pbx.invoiced_through != day + timedelta(days=1):
            return None
        if (
            pbx.status in CLOSED
            or pbx.status in (PbxStatus.PENDING_DELETION, PbxStatus.STOPPED)
            or not pbx.auto_renew
        ):
            return None
        period = engine.term_period(pbx, pbx.invoiced_through)
        assert period is not None
        subs = [s for s in engine.active_subscriptions(pbx) if s.auto_renew]
        lines = engine.renewal_lines(pbx, subs, period)
        invoice = None
        if lines:
            invoice = invoice_issue(
                partner=pbx.partner,
                lines=lines,
                issued_on=day,
                pbx_id=pbx.pk,
                source_key=f"renewal:{pbx.pk}:{period.start}",
            )
        pbx.invoiced_through = period.end
        pbx.save(update_fields=["invoiced_through"])
    return invoice


def renew_pbxs(*, pbx_ids: list[int], day: date) -> list[Invoice]:
    """``renew_pbx`` for a chunk of PBXs in one transaction (a bill run task, R-INV-2): the same
    lines and the same guards (PBX row locks, the ``invoiced_through`` check, a unique key per
    (subscription, period) and per invoice), with bulk reads and writes and one block of invoice
    numbers. If anything fails, nothing of the chunk is kept and the caller renews PBX by PBX."""
    from pbxportal.invoicing.services import InvoiceDraft, invoices_issue_batch

    prices: dict[tuple[int, int, int], Any] = {}

    def price_of(pbx: Pbx, plan: Any, units: int) -> Any:
        key = (pbx.partner.price_book_id, plan.pk, units)
        if key not in prices:
            prices[key] = engine.unit_price(pbx, plan, units)
        return prices[key]

    with transaction.atomic():
        pbxs = list(
            Pbx.objects.select_for_update(of=("self",))
            .select_related("partner__price_book")
            .filter(pk__in=pbx_ids, invoiced_through=day + timedelta(days=1), auto_renew=True)
            .exclude(status__in=[*CLOSED, PbxStatus.PENDING_DELETION, PbxStatus.STOPPED])
            .order_by("id")
        )
        subs: dict[int, list[Subscription]] = {}
        rows = list(
            Subscription.objects.filter(
                pbx_id__in=[p.pk for p in pbxs], status=SubscriptionStatus.ACTIVE, auto_renew=True
            )
            .only("id", "pbx_id", "plan_id", "scheduled_plan_id", "quantity")
            .order_by("pbx_id", "product__family", "product__code", "id")
        )
        # The few plans of a chunk are read once, not joined into every subscription row.
        plans = Plan.objects.select_related("product").in_bulk(
            {r.plan_id for r in rows} | {r.scheduled_plan_id for r in rows if r.scheduled_plan_id}
        )
        for sub in rows:
            sub.plan = plans[sub.plan_id]
            sub.scheduled_plan = plans[sub.scheduled_plan_id] if sub.scheduled_plan_id else None
            subs.setdefault(sub.pbx_id, []).append(sub)
        drafts: list[InvoiceDraft] = []
        ends: dict[date, list[int]] = {}
        for pbx in pbxs:
            period = engine.term_period(pbx, day + timedelta(days=1))
            assert period is not None
            lines = engine.renewal_lines(pbx, subs.get(pbx.pk, []), period, price_of)
            if lines:
                drafts.append(
                    InvoiceDraft(
                        partner=pbx.partner,
                        pbx_id=pbx.pk,
                        lines=lines,
                        source_key=f"renewal:{pbx.pk}:{period.start}",
                    )
                )
            ends.setdefault(period.end, []).append(pbx.pk)
        invoices = invoices_issue_batch(drafts=drafts, issued_on=day)
        for end, ids in ends.items():
            Pbx.objects.filter(pk__in=ids).update(invoiced_through=end)
    return invoices


def renewals_due(day: date) -> list[int]:
    return list(
        Pbx.objects.filter(invoiced_through=day + timedelta(days=1), auto_renew=True)
        .exclude(status__in=[*CLOSED, PbxStatus.PENDING_DELETION, PbxStatus.STOPPED])
        .order_by("partner_id", "id")
        .values_list("id", flat=True)
    )


def term_boundary(*, day: date) -> int:
    """On the first day of a new term (the old ``expires_on``): the PBX's expiry moves on, scheduled
    downgrades take effect (R-EX-5) and what was not renewed ends (R-EX-4): subscriptions with
    auto-renew off, PBXs with auto-renew off."""
    done = 0
    for pbx in (
        Pbx.objects.filter(expires_on__lte=day)
        .exclude(status__in=CLOSED)
        .select_related("partner")
        .order_by("id")
    ):
        with transaction.atomic():
            period = engine.term_period(pbx, day)
            assert period is not None
            pbx.expires_on = period.end
            for sub in engine.active_subscriptions(pbx):
                if sub.scheduled_plan_id:
                    sub.product_id = sub.scheduled_plan.product_id  # type: ignore[union-attr]
                    sub.plan_id = sub.scheduled_plan_id
                    sub.scheduled_plan = None
                    sub.save(update_fields=["product", "plan", "scheduled_plan"])
                    done += 1
                if not sub.auto_renew or not pbx.auto_renew:
                    sub.status, sub.ended_on = SubscriptionStatus.ENDED, day
                    sub.save(update_fields=["status", "ended_on"])
                    _record(sub, 0, day, "ended", None, "auto-renew off (R-EX-4)")
                    done += 1
            if not pbx.auto_renew and pbx.invoiced_through is not None and pbx.invoiced_through <= day:
                pbx.status = PbxStatus.ENDED
                _audit(None, pbx, "pbx.ended", on=day)
            pbx.save(update_fields=["expires_on", "status"])
    return done


def deletion_countdown(*, day: date) -> int:
    """R-PBX-9: stopped on day 5 and deleted, irrevocably, on day 14 after users reached zero."""
    done = 0
    pending = Pbx.objects.filter(zero_users_since__isnull=False).exclude(status__in=CLOSED)
    for pbx in pending:
        assert pbx.zero_users_since is not None
        age = (day - pbx.zero_users_since).days
        if age >= DELETE_AFTER_DAYS:
            with transaction.atomic():
                pbx.status = PbxStatus.DELETED
                pbx.save(update_fields=["status"])
                pbx.subscriptions.filter(status=SubscriptionStatus.ACTIVE).update(
                    status=SubscriptionStatus.ENDED, ended_on=day
                )
                _audit(None, pbx, "pbx.deleted", on=day)
            done += 1
        elif age >= STOP_AFTER_DAYS and pbx.status != PbxStatus.STOPPED:
            pbx.status = PbxStatus.STOPPED
            pbx.save(update_fields=["status"])
            _audit(None, pbx, "pbx.stopped", on=day)
            done += 1
    return done


REMINDER_DAYS = {Term.MONTHLY: (7,), Term.YEARLY: (30, 7), Term.FIVE_YEAR: (30, 7)}


def renewal_reminders(*, day: date) -> int:
    """R-PBX-6: reminders to the billing contact 30 and 7 days before expiry (yearly, five-year),
    7 days before on monthly terms; once each."""
    sent = 0
    candidates = Pbx.objects.filter(
        auto_renew=True, expires_on__in=[day + timedelta(days=n) for n in (7, 30)]
    )
    for pbx in candidates.exclude(status__in=CLOSED).select_related("partner").order_by("id"):
        assert pbx.expires_on is not None
        expiry = pbx.expires_on
        days_left = (expiry - day).days
        if days_left not in REMINDER_DAYS[Term(pbx.term)]:
            continue
        _, created = Reminder.objects.get_or_create(
            pbx=pbx, expires_on=expiry, days_before=days_left, defaults={"sent_on": day}
        )
        if not created:
            continue
        contact = pbx.partner.billing_contacts.filter(is_default=True).first()
        if contact:
            send_mail(
                f"PBX {pbx.name} renews on {expiry.isoformat()}",
                f"The licences of PBX {pbx.name} (serial {pbx.serial}) expire on {expiry.isoformat()} and renew "
                f"automatically; they are invoiced on the last day of the term. Changes are best made at least "
                f"2 days before expiry (R-PBX-6).",
                None,
                [contact.email],
                fail_silently=True,
            )
        sent += 1
    return sent


# --- SSH (R-PBX-11) ---------------------------------------------------------------------------


def ssh_open(*, actor: Actor, pbx_id: int, minutes: int = SSH_DEFAULT_MINUTES, now: datetime) -> SshWindow:
    actor.require_partner_role("technician")
    pbx = get_scoped(Pbx.objects.select_related("model"), actor, pk=pbx_id)
    if not pbx.is_cloud:
        raise RuleViolation("SSH port 2222 is opened from the portal for cloud PBXs only.", rule="R-PBX-11")
    if pbx.status != PbxStatus.ACTIVE:
        raise RuleViolation("The PBX is not active.", rule="R-PBX-11")
    if not 1 <= minutes <= SSH_MAX_MINUTES:
        raise RuleViolation(
            f"minutes: between 1 and {SSH_MAX_MINUTES} (24 hours).",
            rule="R-PBX-11",
            fields={"minutes": "out of range"},
        )
    with transaction.atomic():
        for window in pbx.ssh_windows.filter(closed_at__isnull=True):
            window.closed_at = now
            window.save(update_fields=["closed_at"])
        window = SshWindow.objects.create(
            pbx=pbx, opened_by=actor.user, opened_at=now, closes_at=now + timedelta(minutes=minutes)
        )
        _audit(actor, pbx, "ssh.opened", minutes=minutes, closes_at=window.closes_at.isoformat())
    from pbxportal.pbx.tasks import close_ssh_window

    transaction.on_commit(lambda: _schedule(close_ssh_window, window.pk, timedelta(minutes=minutes)))
    return window


def ssh_close(*, actor: Actor, pbx_id: int, now: datetime) -> int:
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    closed = 0
    for window in pbx.ssh_windows.filter(closed_at__isnull=True):
        window.closed_at = now
        window.save(update_fields=["closed_at"])
        _audit(actor, pbx, "ssh.closed")
        closed += 1
    return closed


def ssh_close_due(*, now: datetime) -> int:
    """Close every SSH window whose time is up (the task's backstop, R-PBX-11)."""
    closed = 0
    for window in SshWindow.objects.filter(closed_at__isnull=True, closes_at__lte=now).select_related("pbx"):
        window.closed_at = window.closes_at
        window.save(update_fields=["closed_at"])
        _audit(None, window.pbx, "ssh.closed", at=window.closes_at.isoformat())
        closed += 1
    return closed


# --- Corrections (R-PBX-10) -------------------------------------------------------------------


def next_business_day(day: date) -> date:
    """The first business day after ``day`` in the vendor's country (weekends and public holidays off)."""
    calendar = holidays.country_holidays(settings.VENDOR_COUNTRY, years=[day.year, day.year + 1])
    candidate = day + timedelta(days=1)
    while candidate.weekday() >= 5 or candidate in calendar:
        candidate += timedelta(days=1)
    return candidate


def correction_file(
    *, actor: Actor, pbx_id: int, change_date: date, quantities: dict[str, int], note: str = "", today: date
) -> CorrectionRequest:
    """A partner reports a mistake within 1 business day of the change (R-PBX-10)."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    if change_date > today:
        raise ApplicationError("change_date: cannot be in the future.", fields={"change_date": "future"})
    deadline = next_business_day(change_date)
    if today > deadline:
        raise RuleViolation(
            f"Corrections must be filed within 1 business day of the change: the change of {change_date.isoformat()} "
            f"could be corrected until {deadline.isoformat()}.",
            rule="R-PBX-10",
            fields={"change_date": "too late"},
        )
    if not quantities:
        raise ApplicationError(
            "quantities: name at least one licence profile.", fields={"quantities": "required"}
        )
    for code, quantity in quantities.items():
        _product(code, Family.LICENCE)
        if not isinstance(quantity, int) or quantity < 0:
            raise ApplicationError(
                f"quantities.{code}: a whole number ≥ 0.", fields={f"quantities.{code}": "invalid"}
            )
    correction = CorrectionRequest.objects.create(
        pbx=pbx,
        filed_by=actor.user,
        filed_on=today,
        change_date=change_date,
        quantities=quantities,
        note=note[:2000],
    )
    _audit(actor, pbx, "correction.filed", id=correction.pk)
    return correction


def correction_apply(*, actor: Actor, correction_id: int, today: date) -> list[Invoice]:
    """Staff apply a correction (R-PBX-10): the quantities are set as of the change date and the
    difference becomes a credit note (fewer licences) or a charge (more), prorated from that date."""
    # Looked up before the role check: another partner's id answers 404 like any unknown id (R-TEN-1).
    correction = get_scoped(CorrectionRequest.objects.select_related("pbx"), actor, pk=correction_id)
    actor.require_staff("area_manager", "customer_care")
    if correction.status != CorrectionStatus.FILED:
        raise Conflict(f"The correction is {correction.status} already.")
    documents: list[Invoice] = []
    with transaction.atomic():
        pbx = _lock(correction.pbx)
        correction = lock_filed_correction(correction.pk)
        credit_lines: list[LineDraft] = []
        charge_lines: list[LineDraft] = []
        for code, wanted in sorted(correction.quantities.items()):
            product = _product(code, Family.LICENCE)
            sub = pbx.subscriptions.filter(product=product, status=SubscriptionStatus.ACTIVE).first()
            current = sub.quantity if sub else 0
            if wanted == current:
                continue
            plan_obj = engine.plan_for(product, pbx.term)
            price = engine.unit_price(pbx, plan_obj, max(wanted, current))
            start = max(correction.change_date, pbx.anchor_date)
            lines = engine.charge_lines(
                pbx=pbx,
                product=product,
                plan=plan_obj,
                price=price,
                quantity=abs(wanted - current),
                start=start,
                kind=LineKind.CORRECTION,
                description=f"Correction of {code}: {current} → {wanted} from {start.isoformat()} (R-PBX-10)",
                subscription_id=sub.pk if sub else None,
            )
            if wanted < current:
                from dataclasses import replace

                credit_lines += [
                    replace(line, amount=-line.amount, quantity=-line.quantity, kind=LineKind.CREDIT)
                    for line in lines
                ]
            else:
                charge_lines += lines
            if sub is None:
                sub = Subscription.objects.create(
                    pbx=pbx, product=product, plan=plan_obj, quantity=wanted, started_on=start
                )
            else:
                sub.quantity = wanted
                sub.save(update_fields=["quantity"])
            _record(sub, wanted - current, today, "correction", actor, f"correction #{correction.pk}")
            _follow_counted_users(pbx, code, today, actor)
        if credit_lines:
            credited = (
                pbx.invoices.filter(kind=InvoiceKind.INVOICE, number__isnull=False)
                .order_by("-issued_on", "-id")
                .first()
            )
            documents.append(
                invoice_issue(
                    partner=pbx.partner,
                    lines=credit_lines,
                    issued_on=today,
                    pbx_id=pbx.pk,
                    kind=InvoiceKind.CREDIT_NOTE,
                    credited_invoice=credited,
                    reason=f"Correction #{correction.pk}",
                )
            )
        if charge_lines:
            documents.append(
                invoice_issue(
                    partner=pbx.partner,
                    lines=charge_lines,
                    issued_on=today,
                    pbx_id=pbx.pk,
                    reason=f"Correction #{correction.pk}",
                )
            )
        _deletion_countdown_after_change(pbx, today, actor)
        correction.status = CorrectionStatus.APPLIED
        correction.decided_by = actor.user
        correction.decided_on = today
        correction.save(update_fields=["status", "decided_by", "decided_on"])
        _audit(actor, pbx, "correction.applied", id=correction.pk)
    return documents


def correction_reject(*, actor: Actor, correction_id: int, reason: str, today: date) -> CorrectionRequest:
    correction = get_scoped(CorrectionRequest, actor, pk=correction_id)
    actor.require_staff("area_manager", "customer_care")
    if correction.status != CorrectionStatus.FILED:
        raise Conflict(f"The correction is {correction.status} already.")
    if not reason.strip():
        raise ApplicationError("reason: required.", fields={"reason": "required"})
    correction.status, correction.decided_by, correction.decided_on = (
        CorrectionStatus.REJECTED,
        actor.user,
        today,
    )
    correction.decision_note = reason[:300]
    correction.save(update_fields=["status", "decided_by", "decided_on", "decision_note"])
    return correction
