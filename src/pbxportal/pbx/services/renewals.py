"""The clock's daily work on PBXs (R-CLK-1): which PBXs renew on a day (one definition, used by
``renew_pbx``, ``renew_pbxs`` and the bill run), the term boundary (R-EX-4, 5), the deletion
countdown (R-PBX-9) and the renewal reminders (R-PBX-6).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from pbxportal.catalog.models import Plan
from pbxportal.common.actor import Actor
from pbxportal.core.periods import Term
from pbxportal.invoicing.models import BillRun, BillRunStatus, Invoice
from pbxportal.invoicing.services import InvoiceDraft, invoice_issue, invoices_issue_batch
from pbxportal.notifications.kinds import Kind
from pbxportal.notifications.services import notify
from pbxportal.ops import metrics
from pbxportal.pbx import charges
from pbxportal.pbx.models import (
    Pbx,
    PbxStatus,
    Reminder,
    Subscription,
    SubscriptionStatus,
)
from pbxportal.pbx.services.base import (
    CLOSED,
    DELETE_AFTER_DAYS,
    STOP_AFTER_DAYS,
    _audit,
    _record,
)

log = logging.getLogger(__name__)

# --- The clock's daily work (R-CLK-1) --------------------------------------------------------


def renewing_on(day: date) -> QuerySet[Pbx]:
    """R-PBX-5: the PBXs that renew on ``day``, the last day of their term: invoiced through the
    next day, auto-renew on, neither closed, pending deletion nor stopped. The one definition the
    bill run (``renewals_due``), ``renew_pbx`` and ``renew_pbxs`` use."""
    return Pbx.objects.filter(invoiced_through=day + timedelta(days=1), auto_renew=True).exclude(
        status__in=[*CLOSED, PbxStatus.PENDING_DELETION, PbxStatus.STOPPED]
    )


def renew_pbx(*, pbx_id: int, day: date) -> Invoice | None:
    """R-PBX-5: on the last day of its term a PBX is invoiced for the next term, with the
    quantities and services in force that day. Idempotent: the PBX row is locked, the period is
    checked against ``invoiced_through``, and every line has a unique (subscription, period) key."""
    with transaction.atomic():
        pbx = (
            renewing_on(day)
            .select_for_update()
            .select_related("partner__price_book")
            .filter(pk=pbx_id)
            .first()
        )
        if pbx is None:
            return None
        period = charges.term_period(pbx, day + timedelta(days=1))
        assert period is not None
        subs = [s for s in charges.active_subscriptions(pbx) if s.auto_renew]
        lines = charges.renewal_lines(pbx, subs, period)
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
    prices: dict[tuple[int, int, int], Any] = {}

    def price_of(pbx: Pbx, plan: Any, units: int) -> Any:
        key = (pbx.partner.price_book_id, plan.pk, units)
        if key not in prices:
            prices[key] = charges.unit_price(pbx, plan, units)
        return prices[key]

    with transaction.atomic():
        pbxs = list(
            renewing_on(day)
            .select_for_update(of=("self",))
            .select_related("partner__price_book")
            .filter(pk__in=pbx_ids)
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
            period = charges.term_period(pbx, day + timedelta(days=1))
            assert period is not None
            lines = charges.renewal_lines(pbx, subs.get(pbx.pk, []), period, price_of)
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
    """The ids of the PBXs renewing on ``day``, by partner (the bill run's plan, R-INV-2)."""
    return list(renewing_on(day).order_by("partner_id", "id").values_list("id", flat=True))


def billrun_chunk(*, run_id: int, pbx_ids: list[int], day: date) -> int:
    """One task: renew a chunk of PBXs, report progress; returns the invoices issued."""
    done = failed = invoices = 0
    errors: list[str] = []
    try:
        invoices = len(renew_pbxs(pbx_ids=pbx_ids, day=day))
        done = len(pbx_ids)
    except Exception:
        log.warning("bill run %s: chunk failed, renewing its %d PBXs one by one", run_id, len(pbx_ids))
        for pbx_id in pbx_ids:
            try:
                invoices += renew_pbx(pbx_id=pbx_id, day=day) is not None
                done += 1
            except Exception as exc:
                failed += 1
                errors.append(f"PBX {pbx_id}: {exc}")
                log.exception("bill run %s: PBX %s failed", run_id, pbx_id)
    metrics.billrun_pbx_done(run=day.isoformat(), count=done)
    BillRun.objects.filter(pk=run_id).update(
        done=F("done") + done, failed=F("failed") + failed, invoices=F("invoices") + invoices
    )
    if errors:
        run = BillRun.objects.get(pk=run_id)
        BillRun.objects.filter(pk=run_id).update(error=(run.error + "\n".join(errors) + "\n")[-4000:])
    BillRun.objects.filter(
        pk=run_id, status=BillRunStatus.RUNNING, total__lte=F("done") + F("failed")
    ).update(status=BillRunStatus.DONE, finished_at=timezone.now())
    BillRun.objects.filter(pk=run_id, status=BillRunStatus.DONE, failed__gt=0).update(
        status=BillRunStatus.FAILED
    )
    return invoices


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
            period = charges.term_period(pbx, day)
            assert period is not None
            pbx.expires_on = period.end
            for sub in charges.active_subscriptions(pbx):
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
        _reminder, created = Reminder.objects.get_or_create(
            pbx=pbx, expires_on=expiry, days_before=days_left, defaults={"sent_on": day}
        )
        if not created:
            continue
        contact = pbx.partner.billing_contacts.filter(is_default=True).first()
        # One path for the reminder: the partner's users as their preferences say, and the
        # default billing contact by email (R-PBX-6), each address mailed once.
        notify(
            partner_id=pbx.partner_id,
            kind=Kind.RENEWAL_REMINDER,
            title=_("PBX %(pbx)s renews on %(date)s") % {"pbx": pbx.name, "date": expiry.isoformat()},
            body=_(
                "The licences of PBX %(pbx)s (serial %(serial)s) expire on %(date)s and renew automatically; "
                "they are invoiced on the last day of the term. Changes are best made at least 2 days "
                "before expiry."
            )
            % {"pbx": pbx.name, "serial": pbx.serial, "date": expiry.isoformat()},
            link=reverse("pbx:detail", args=[pbx.pk]),
            extra_emails=[contact.email] if contact else [],
        )
        sent += 1
    return sent


def _deletion_countdown_after_change(pbx: Pbx, today: date, actor: Actor | None) -> None:
    """R-PBX-9: zero user licences start the countdown; adding one back restores the PBX and
    notifies its area manager."""
    if not charges.per_user(pbx):
        return
    users = charges.user_licences(pbx)
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
            gettext("PBX %(pbx)s restored by %(partner)s") % {"pbx": pbx.name, "partner": pbx.partner.name},
            f"{pbx.partner.name} added back a user licence to PBX {pbx.name} (serial {pbx.serial}) on "
            f"{today.isoformat()}, which stops its deletion countdown (R-PBX-9).",
            None,
            [manager.email],
            fail_silently=True,
        )
    )
