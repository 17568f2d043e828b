"""Corrections a partner files within 1 business day of a change and staff apply or reject (R-PBX-10)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

import holidays
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from pbxportal.catalog.models import Family
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.tenancy import get_scoped
from pbxportal.common.timeutil import vendor_tz
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, InvoiceKind, LineKind
from pbxportal.invoicing.services import invoice_issue
from pbxportal.notifications.kinds import Kind
from pbxportal.notifications.services import notify
from pbxportal.pbx import charges
from pbxportal.pbx.correction_rules import lock_filed_correction
from pbxportal.pbx.models import (
    CorrectionRequest,
    CorrectionStatus,
    Pbx,
    QuantityChange,
    Subscription,
    SubscriptionStatus,
)
from pbxportal.pbx.services.base import (
    _audit,
    _lock,
    _product,
    _record,
)
from pbxportal.pbx.services.changes import _banded_follow_up, _follow_counted_users
from pbxportal.pbx.services.renewals import _deletion_countdown_after_change

# --- Corrections (R-PBX-10) -------------------------------------------------------------------


def next_business_day(day: date) -> date:
    """The first business day after ``day`` in the vendor's country (weekends and public holidays off)."""
    calendar = holidays.country_holidays(settings.VENDOR_COUNTRY, years=[day.year, day.year + 1])
    candidate = day + timedelta(days=1)
    while candidate.weekday() >= 5 or candidate in calendar:
        candidate += timedelta(days=1)
    return candidate


# The ledger entries a correction may correct: an activation's quantities or a licence change.
CORRECTABLE_KINDS = ("create", "change")


@dataclass(frozen=True)
class CorrectedEvent:
    """The activation or licence change a correction corrects, found in the ledger (R-PBX-10)."""

    on: date
    activation: bool


def corrected_event(pbx: Pbx, change_date: date) -> CorrectedEvent:
    """The PBX's activation or a recorded licence change on ``change_date``; the date a client
    sends is only a key into the ledger, never the window itself (issue 13 item 6)."""
    activated_on = pbx.activated_at.astimezone(vendor_tz()).date() if pbx.activated_at else None
    if change_date in (pbx.anchor_date, activated_on):
        return CorrectedEvent(on=change_date, activation=True)
    changed = QuantityChange.objects.filter(
        pbx=pbx,
        effective_on=change_date,
        kind__in=CORRECTABLE_KINDS,
        subscription__product__family=Family.LICENCE,
    ).exclude(delta=0)
    if not changed.exists():
        raise RuleViolation(
            f"change_date: the PBX was neither activated nor had its licences changed on "
            f"{change_date.isoformat()}; a correction names the day of that activation or change.",
            rule="R-PBX-10",
            fields={"change_date": "no activation or licence change on that day"},
        )
    return CorrectedEvent(on=change_date, activation=False)


def _held_before(pbx: Pbx, product_code: str, event: CorrectedEvent) -> int:
    """The licences of a profile held before the corrected event, replayed from the ledger: what
    was prepaid then. A correction never refunds below it (R-PBX-8: decreases refund nothing)."""
    if event.activation:
        return 0
    deltas = QuantityChange.objects.filter(
        pbx=pbx, subscription__product__code=product_code, effective_on__lt=event.on
    ).values_list("delta", flat=True)
    return sum(deltas)


def _check_quantities(pbx: Pbx, quantities: dict[str, int], event: CorrectedEvent) -> None:
    """Crediting licences that were held before the corrected event would refund a decrease."""
    for code, wanted in sorted(quantities.items()):
        before = _held_before(pbx, code, event)
        current = sum(
            pbx.subscriptions.filter(product__code=code, status=SubscriptionStatus.ACTIVE).values_list(
                "quantity", flat=True
            )
        )
        if wanted < min(current, before):
            raise RuleViolation(
                f"quantities.{code}: {wanted} is below the {before} held before the change of "
                f"{event.on.isoformat()}; a decrease refunds nothing of what was prepaid, so a "
                "correction cannot refund it either (R-PBX-8). Reduce the licences with a licence change.",
                rule="R-PBX-8",
                fields={f"quantities.{code}": "below the quantity held before the change"},
            )


def correction_file(
    *, actor: Actor, pbx_id: int, change_date: date, quantities: dict[str, int], note: str = "", today: date
) -> CorrectionRequest:
    """A partner reports a mistake within 1 business day of the activation or licence change it
    corrects, which must be in the ledger (R-PBX-10)."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    if change_date > today:
        raise ApplicationError("change_date: cannot be in the future.", fields={"change_date": "future"})
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
    event = corrected_event(pbx, change_date)
    deadline = next_business_day(event.on)
    if today > deadline:
        raise RuleViolation(
            f"Corrections must be filed within 1 business day of the change: the change of {event.on.isoformat()} "
            f"could be corrected until {deadline.isoformat()}.",
            rule="R-PBX-10",
            fields={"change_date": "too late"},
        )
    _check_quantities(pbx, quantities, event)
    correction = CorrectionRequest.objects.create(
        pbx=pbx,
        filed_by=actor.user,
        filed_on=today,
        change_date=event.on,
        quantities=quantities,
        note=note[:2000],
    )
    _audit(actor, pbx, "correction.filed", id=correction.pk)
    return correction


@dataclass(frozen=True)
class ProfileChange:
    """One licence profile a correction sets: from the current to the wanted quantity."""

    product_code: str
    current: int
    wanted: int


@dataclass
class CorrectionPlan:
    """What applying a correction issues (R-CO-4): a credit note and/or an invoice, and the
    quantities it sets. ``correction_apply`` issues exactly these lines."""

    credit_lines: list[LineDraft] = field(default_factory=list)
    charge_lines: list[LineDraft] = field(default_factory=list)
    changes: list[ProfileChange] = field(default_factory=list)
    start: date | None = None

    @property
    def credit_total(self) -> Decimal:
        return sum((line.amount for line in self.credit_lines), Decimal(0))

    @property
    def charge_total(self) -> Decimal:
        return sum((line.amount for line in self.charge_lines), Decimal(0))


def _keyed(lines: list[LineDraft], correction_id: int, profile: str) -> list[LineDraft]:
    """Charge keys (R-INV-2): one per correction, profile, product plan and period, unique across
    all documents, so a correction cannot be issued twice even past the row lock."""
    return [
        replace(
            line,
            charge_key=f"correction:{correction_id}:{profile}:{line.product_code}:"
            f"{line.period_start.isoformat() if line.period_start else 'once'}",
        )
        for line in lines
    ]


def _credited(lines: list[LineDraft]) -> list[LineDraft]:
    return [
        replace(line, amount=-line.amount, quantity=-line.quantity, kind=LineKind.CREDIT) for line in lines
    ]


def correction_apply_plan(*, pbx: Pbx, correction: CorrectionRequest) -> CorrectionPlan:
    """The documents applying ``correction`` issues, without writing anything: the difference of
    each profile prorated from the corrected day (R-CO-3), credited (fewer licences, never below
    what was held before the change, R-PBX-8) or charged (more, not the ones still prepaid), and
    the voice-trunk band fee following the counted users (R-VT-1)."""
    event = corrected_event(pbx, correction.change_date)
    _check_quantities(pbx, correction.quantities, event)
    plan = CorrectionPlan(start=max(event.on, pbx.anchor_date))
    start = plan.start
    assert start is not None
    counted_offset = 0
    for code, wanted in sorted(correction.quantities.items()):
        product = _product(code, Family.LICENCE)
        sub = pbx.subscriptions.filter(product=product, status=SubscriptionStatus.ACTIVE).first()
        current = sub.quantity if sub else 0
        if wanted == current:
            continue
        plan.changes.append(ProfileChange(product_code=code, current=current, wanted=wanted))
        # Licences between the current quantity and the one held before a mistaken decrease are
        # still prepaid for this term: putting them back charges nothing.
        prepaid = max(current, _held_before(pbx, code, event))
        units = wanted - prepaid if wanted > current else current - wanted
        if units <= 0:
            continue
        plan_obj = charges.plan_for(product, pbx.term)
        price = charges.unit_price(pbx, plan_obj, max(wanted, current))
        lines = charges.charge_lines(
            pbx=pbx,
            product=product,
            plan=plan_obj,
            price=price,
            quantity=units,
            start=start,
            kind=LineKind.CORRECTION,
            description=f"Correction of {code}: {current} → {wanted} from {start.isoformat()} (R-PBX-10)",
            subscription_id=sub.pk if sub else None,
        )
        if wanted > current:
            band = _banded_follow_up(pbx, code, units, start, counted_offset=counted_offset)
            plan.charge_lines += _keyed(lines + band, correction.pk, code)
        else:
            # The band fee charged for the users the mistake added is credited with them, at the
            # band price it was charged at (the counted users before this correction).
            band = [
                replace(
                    line, description=f"{line.description.split(':')[0]}: -{units} counted user(s) ({code})"
                )
                for line in _banded_follow_up(pbx, code, units, start, counted_offset=counted_offset - units)
            ]
            plan.credit_lines += _keyed(_credited(lines + band), correction.pk, code)
        counted_offset += wanted - current
    return plan


def correction_preview(*, actor: Actor, correction_id: int) -> CorrectionPlan:
    """What applying a filed correction will issue (R-CO-4), shown to staff before they apply it."""
    correction = get_scoped(CorrectionRequest.objects.select_related("pbx"), actor, pk=correction_id)
    actor.require_staff("area_manager", "customer_care")
    if correction.status != CorrectionStatus.FILED:
        raise Conflict(f"The correction is {correction.status} already.")
    pbx = Pbx.objects.select_related("partner__price_book", "model", "customer").get(pk=correction.pbx_id)
    return correction_apply_plan(pbx=pbx, correction=correction)


def correction_apply(*, actor: Actor, correction_id: int, today: date) -> list[Invoice]:
    """Staff apply a correction (R-PBX-10): the quantities are set as of the change date and the
    difference becomes a credit note (fewer licences) or a charge (more), prorated from that date,
    exactly as ``correction_apply_plan`` previewed it."""
    # Looked up before the role check: another partner's id answers 404 like any unknown id (R-TEN-1).
    correction = get_scoped(CorrectionRequest.objects.select_related("pbx"), actor, pk=correction_id)
    actor.require_staff("area_manager", "customer_care")
    if correction.status != CorrectionStatus.FILED:
        raise Conflict(f"The correction is {correction.status} already.")
    documents: list[Invoice] = []
    with transaction.atomic():
        pbx = _lock(correction.pbx)
        correction = lock_filed_correction(correction.pk)
        plan = correction_apply_plan(pbx=pbx, correction=correction)
        assert plan.start is not None
        for change in plan.changes:
            product = _product(change.product_code, Family.LICENCE)
            sub = pbx.subscriptions.filter(product=product, status=SubscriptionStatus.ACTIVE).first()
            if sub is None:
                sub = Subscription.objects.create(
                    pbx=pbx,
                    product=product,
                    plan=charges.plan_for(product, pbx.term),
                    quantity=change.wanted,
                    started_on=plan.start,
                )
            else:
                sub.quantity = change.wanted
                sub.save(update_fields=["quantity"])
            _record(
                sub,
                change.wanted - change.current,
                today,
                "correction",
                actor,
                f"correction #{correction.pk}",
            )
            _follow_counted_users(pbx, change.product_code, today, actor)
        if plan.credit_lines:
            credited = (
                pbx.invoices.filter(kind=InvoiceKind.INVOICE, number__isnull=False)
                .order_by("-issued_on", "-id")
                .first()
            )
            documents.append(
                invoice_issue(
                    partner=pbx.partner,
                    lines=_bound(plan.credit_lines, pbx),
                    issued_on=today,
                    pbx_id=pbx.pk,
                    kind=InvoiceKind.CREDIT_NOTE,
                    credited_invoice=credited,
                    reason=f"Correction #{correction.pk}",
                )
            )
        if plan.charge_lines:
            documents.append(
                invoice_issue(
                    partner=pbx.partner,
                    lines=_bound(plan.charge_lines, pbx),
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
        notify(
            partner_id=pbx.partner_id,
            kind=Kind.CORRECTION_APPLIED,
            title=_("Correction #%(id)s of PBX %(pbx)s applied") % {"id": correction.pk, "pbx": pbx.name},
            body=_(
                "The licence quantities are corrected from %(date)s; the difference is on a new invoice or credit note."
            )
            % {"date": correction.change_date.isoformat()},
            link=reverse("pbx:detail", args=[pbx.pk]),
        )
    return documents


def _bound(lines: list[LineDraft], pbx: Pbx) -> list[LineDraft]:
    """Bind lines of a profile the PBX did not hold (planned without a subscription) to the one
    just created."""
    subs = {
        s.plan.code: s.pk
        for s in pbx.subscriptions.filter(status=SubscriptionStatus.ACTIVE).select_related("plan")
    }
    return [
        line
        if line.subscription_id is not None
        else replace(line, subscription_id=subs.get(line.product_code))
        for line in lines
    ]


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
    with transaction.atomic():
        correction.save(update_fields=["status", "decided_by", "decided_on", "decision_note"])
        notify(
            partner_id=correction.pbx.partner_id,
            kind=Kind.CORRECTION_REJECTED,
            title=_("Correction #%(id)s of PBX %(pbx)s rejected")
            % {"id": correction.pk, "pbx": correction.pbx.name},
            body=_("Reason: %(reason)s") % {"reason": correction.decision_note},
            link=reverse("pbx:detail", args=[correction.pbx_id]),
        )
    return correction
