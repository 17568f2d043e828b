"""Corrections a partner files within 1 business day of a change and staff apply or reject (R-PBX-10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import holidays
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from pbxportal.catalog.models import Family
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.tenancy import get_scoped
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
    Subscription,
    SubscriptionStatus,
)
from pbxportal.pbx.services.base import (
    _audit,
    _lock,
    _product,
    _record,
)
from pbxportal.pbx.services.changes import _follow_counted_users
from pbxportal.pbx.services.renewals import _deletion_countdown_after_change

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
            plan_obj = charges.plan_for(product, pbx.term)
            price = charges.unit_price(pbx, plan_obj, max(wanted, current))
            start = max(correction.change_date, pbx.anchor_date)
            lines = charges.charge_lines(
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
