"""A PBX's life: creation (R-PBX-1, 2), activation (R-PBX-3), auto-renew (R-EX-4) and the SSH
windows (R-PBX-11).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from pbxportal.accounts.models import Customer, Partner
from pbxportal.catalog.limits import ensure_quantity_allowed
from pbxportal.catalog.models import Family, Product
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, NotFound, RuleViolation
from pbxportal.common.tenancy import get_scoped
from pbxportal.core.periods import Term, term_end
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import LineKind
from pbxportal.overdue.policy import ensure_allowed
from pbxportal.pbx import charges
from pbxportal.pbx.charges import ChangePlan
from pbxportal.pbx.keys import new_pbx_key, pbx_key_digest
from pbxportal.pbx.models import (
    Pbx,
    PbxStatus,
    SshWindow,
    Subscription,
)
from pbxportal.pbx.services.base import (
    CLOUD_ACTIVATION_DELAY,
    DNS_LABEL,
    SSH_DEFAULT_MINUTES,
    SSH_MAX_MINUTES,
    ChangeResult,
    _audit,
    _issue,
    _lock,
    _product,
    _record,
)


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
        product_plan = charges.plan_for(product, term)
        price = charges.unit_price(probe, product_plan, quantity)
        plan.lines += charges.charge_lines(
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
    key = None if cloud else new_pbx_key()
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
                pbx_key_digest=key.digest if key else "",
                pbx_key_prefix=key.prefix if key else "",
                activation_due_at=now + CLOUD_ACTIVATION_DELAY if cloud else None,
            )
            for product, quantity in items:
                sub = Subscription.objects.create(
                    pbx=pbx,
                    product=product,
                    plan=charges.plan_for(product, term),
                    quantity=quantity,
                    started_on=today,
                    commitment_until=charges.commitment_end(product, today),
                )
                _record(sub, quantity, today, "create", actor)
            lines = [_bind(line, pbx, items) for line in plan.lines]
            invoice = _issue(pbx, lines, today)
            if charges.per_user(pbx) and charges.user_licences(pbx) == 0:
                pbx.zero_users_since = today
                pbx.save(update_fields=["zero_users_since"])
            _audit(actor, pbx, "pbx.created", model=model.code, term=term)
            pbx.new_pbx_key = key.clear if key else ""  # shown once, never stored
    except IntegrityError:
        raise Conflict(f"name: {name!r} is taken.", rule="R-PBX-1", fields={"name": "taken"}) from None
    if cloud:
        # The documented Celery task/service pair: pbx.tasks runs these services.
        from pbxportal.pbx.tasks import activate_cloud_pbx

        transaction.on_commit(lambda: _schedule(activate_cloud_pbx, pbx.pk, CLOUD_ACTIVATION_DELAY))
    return ChangeResult(plan=plan, invoice=invoice, pbx=pbx)


def _bind(line: LineDraft, pbx: Pbx, items: list[tuple[Product, int]]) -> LineDraft:
    """Attach the created subscription ids to the planned lines (the preview had none)."""
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
        counting_down = charges.per_user(locked) and locked.zero_users_since is not None
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
    """A VM/HW PBX presents its PBX key (R-PBX-3), found by its digest (the key is never stored)."""
    pbx = Pbx.objects.filter(pbx_key_digest=pbx_key_digest(pbx_key)).first() if pbx_key else None
    if pbx is None:
        raise NotFound("Unknown PBX key.", rule="R-PBX-3")
    pbx_activate(pbx=pbx, now=now)
    pbx.refresh_from_db()
    return pbx


def pbx_key_regenerate(*, actor: Actor, pbx_id: int) -> Pbx:
    """A new PBX key for a VM/HW PBX (R-PBX-3): the old one stops working at once. The returned
    PBX carries the new key in ``new_pbx_key``, shown once; only its digest is stored."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx.objects.select_related("model"), actor, pk=pbx_id)
    if pbx.is_cloud:
        raise RuleViolation(
            "A cloud PBX activates by itself and has no PBX key.", rule="R-PBX-3", fields={"pbx": "cloud"}
        )
    if pbx.status in (PbxStatus.DELETED, PbxStatus.ENDED):
        raise RuleViolation(f"The PBX is {pbx.get_status_display().lower()}.", rule="R-PBX-9")
    key = new_pbx_key()
    pbx.pbx_key_digest, pbx.pbx_key_prefix = key.digest, key.prefix
    pbx.save(update_fields=["pbx_key_digest", "pbx_key_prefix"])
    _audit(actor, pbx, "pbx.key_regenerated", prefix=key.prefix)
    pbx.new_pbx_key = key.clear
    return pbx


def pbx_set_auto_renew(*, actor: Actor, pbx_id: int, auto_renew: bool) -> Pbx:
    """R-EX-4: with auto-renew off the PBX and its services end at expiry."""
    actor.require_partner_role("sales", "billing")
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    pbx.auto_renew = auto_renew
    pbx.save(update_fields=["auto_renew"])
    _audit(actor, pbx, "pbx.auto_renew", value=auto_renew)
    return pbx


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
    # The documented Celery task/service pair: pbx.tasks runs these services.
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
