"""Reads of the voice trunk, through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from pbxportal.catalog.models import Family
from pbxportal.common.actor import Actor
from pbxportal.common.db import fetch_one
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.core.periods import month_label
from pbxportal.core.rating import AllowanceUsage, RatedCall, UsageLine, summarise
from pbxportal.pbx.models import Pbx, Subscription
from pbxportal.voice.models import BundleSwitchTicket, CallRecord, NumberDocument, NumberOrder, UsageMonth


def usage_lines(*, pbx: Pbx, month: date) -> list[UsageLine]:
    """The month's usage lines per area and kind (R-VT-2..4): the core's ``summarise`` over the
    rated records, each line's amount rounded once (R-CAT-6), the allowance used and left."""
    currency = pbx.partner.price_book.currency
    label = month_label(month)
    rated = [
        RatedCall(
            call_id=identity,
            area=area or None,
            billed_seconds=billed,
            free_seconds=free,
            charged_units=units,
            amount=amount,
            capped=capped,
            error=error or None,
            pbx=str(pbx.pk),
            period=label,
            kind="sms" if kind == "sms" else "voice",
            unit="sms" if kind == "sms" else ("minute" if area == "CTA1" else "second"),
            currency=currency if area else None,
        )
        for identity, area, billed, free, units, amount, capped, error, kind in CallRecord.objects.filter(
            pbx_id=pbx.pk, month=month, rated_at__isnull=False
        ).values_list(
            "identity",
            "area",
            "billed_seconds",
            "free_seconds",
            "charged_units",
            "amount",
            "capped",
            "error",
            "kind",
        )
    ]
    usage = UsageMonth.objects.filter(pbx_id=pbx.pk, month=month).first()
    allowances = []
    if usage is not None and usage.bundle:
        allowances.append(
            AllowanceUsage(
                pbx=str(pbx.pk),
                period=label,
                bundle="CTA2" if usage.bundle == "CTA2" else "CTA1",
                seconds_total=usage.allowance_seconds,
                seconds_used=usage.allowance_used,
                sms_total=usage.sms_total,
                sms_used=usage.sms_used,
            )
        )
    return summarise(rated, allowances)


def pbx_for_usage(*, actor: Actor, pbx_id: int) -> Pbx:
    return get_scoped(Pbx.objects.select_related("partner__price_book", "customer"), actor, pk=pbx_id)


def usage_month(*, pbx: Pbx, month: date) -> UsageMonth | None:
    return UsageMonth.objects.filter(pbx=pbx, month=month).first()


def usage_months(*, pbx: Pbx) -> list[date]:
    return list(UsageMonth.objects.filter(pbx=pbx).order_by("-month").values_list("month", flat=True))


def call_errors(*, pbx: Pbx, month: date) -> QuerySet[CallRecord]:
    """The month's error records (unknown destinations and the like, R-VT-7), never charged."""
    return CallRecord.objects.filter(pbx=pbx, month=month).exclude(error="").order_by("start")


def number_orders(*, actor: Actor, status: str | None = None) -> QuerySet[NumberOrder]:
    orders = scoped(NumberOrder.objects.select_related("pbx__partner", "requirement"), actor)
    return orders.filter(status=status) if status else orders


def number_order_get(*, actor: Actor, order_id: int) -> NumberOrder:
    return get_scoped(
        NumberOrder.objects.select_related("pbx__partner", "requirement__product"), actor, pk=order_id
    )


def number_document_get(*, actor: Actor, document_id: int) -> NumberDocument:
    return get_scoped(NumberDocument.objects.select_related("order"), actor, pk=document_id)


def numbers(*, actor: Actor) -> QuerySet[Subscription]:
    """The partner's numbers: active number subscriptions (R-VT-10)."""
    return scoped(
        Subscription.objects.filter(product__family=Family.NUMBER).select_related("pbx", "product"), actor
    ).order_by("pbx__name", "id")


def bundle_switches(*, actor: Actor, status: str | None = None) -> QuerySet[BundleSwitchTicket]:
    tickets = scoped(BundleSwitchTicket.objects.select_related("pbx__partner", "to_product"), actor)
    return tickets.filter(status=status) if status else tickets


# The PBX agent's hot path (R-VT-6): prepared statements, built once.
_USAGE_SQL = (
    f"SELECT allowance_used, amount FROM {UsageMonth._meta.db_table} WHERE pbx_id = %s AND month = %s"
)


def usage_of_row(row: tuple[Any, ...] | None) -> tuple[int, Decimal]:
    """(allowance seconds used, amount) of a ``(allowance_used, amount)`` row; none yet: zero."""
    if row is None or row[0] is None:
        return 0, Decimal(0)
    return int(row[0]), Decimal(str(row[1]))


def month_usage(*, pbx_id: int, month: date) -> tuple[int, Decimal]:
    """The PBX's allowance seconds used and amount rated in ``month`` (one prepared query)."""
    return usage_of_row(fetch_one(_USAGE_SQL, [pbx_id, month]))


def import_problems_csv_rows(job: Any) -> Iterator[list[str]]:
    """Every problem of an import job as CSV rows (header first): line, kind, reason."""
    from pbxportal.voice.models import ImportProblem

    yield ["line", "kind", "reason"]
    rows = ImportProblem.objects.filter(job_id=job.pk).order_by("line", "id")
    for line, kind, reason in rows.values_list("line", "kind", "reason").iterator(chunk_size=5000):
        yield [str(line), kind, reason]


def import_job_dict(
    job: Any, *, months: int | None = None, errors_limit: int | None = None
) -> dict[str, Any]:
    """An import job's counts and its problems (all, or the first ``errors_limit``), as the API gives them."""
    from pbxportal.voice.models import ImportProblem

    problems = ImportProblem.objects.filter(job_id=job.pk).order_by("line", "id")
    if errors_limit is not None:
        problems = problems[:errors_limit]
    return {
        "job": job.pk,
        "status": job.status,
        "file_name": job.file_name,
        "rows": job.rows,
        "accepted": job.stored,
        "stored": job.stored,
        "duplicates": job.duplicates,
        "not_answered": job.not_answered,
        "skipped_inbound": job.skipped_inbound,
        "skipped_internal": job.skipped_internal,
        "skipped_feature": job.skipped_feature,
        "bad_lines": job.bad_lines,
        "rated": job.rated,
        "free": job.free,
        "charged": job.charged,
        "rating_errors": dict(job.rating_errors),
        "errors": [
            {"line": line, "kind": kind, "reason": reason}
            for line, kind, reason in problems.values_list("line", "kind", "reason")
        ],
        "months_rated": months if months is not None else 0,
        # A portal upload's progress (its file's lines, read so far): a client can poll this too.
        "lines_total": job.lines_total,
        "lines_read": job.lines_read,
    }


def import_job_for(*, actor: Actor, job_id: int) -> Any:
    """An import job the actor may read (its partner's, or any for staff), else NotFound (R-TEN-1)."""
    from pbxportal.voice.models import ImportJob

    return get_scoped(ImportJob.objects.all(), actor, pk=job_id)


def import_progress(job: Any, *, now: Any = None) -> dict[str, Any]:
    """What the job's page shows while an import runs: lines read of the file's lines, the percent,
    lines per second since it started, whether it still runs (the page polls) and whether it can
    be resumed (an unfinished upload)."""
    from django.utils import timezone

    from pbxportal.voice.models import ImportStatus

    now = now or timezone.now()
    running = job.status in (ImportStatus.QUEUED, ImportStatus.STORING, ImportStatus.RATING)
    end = job.finished_at if not running and job.finished_at else (job.progress_at or now)
    seconds = (end - job.started_at).total_seconds() if job.started_at else 0.0
    read = job.rows if not job.lines_total and not running else job.lines_read
    last = job.progress_at or job.created_at
    return {
        "running": running,
        "lines_read": job.lines_read,
        "lines_total": job.lines_total,
        "percent": min(100, round(job.lines_read * 100 / job.lines_total)) if job.lines_total else 0,
        "per_second": round(read / seconds) if seconds > 0 else None,
        "seconds": round(seconds, 1),
        # An unfinished upload that failed or shows no progress for two minutes (a worker was
        # killed or restarted): its page offers to resume it; a running one is never run twice.
        "resumable": bool(job.stored_file)
        and (
            job.status == ImportStatus.FAILED
            or (running and last is not None and (now - last).total_seconds() > 120)
        ),
    }


CALL_COLUMNS = (
    "start",
    "caller",
    "callee",
    "callee_e164",
    "kind",
    "billsec",
    "area",
    "billed_seconds",
    "free_seconds",
    "charged_units",
    "amount",
    "capped",
    "error",
)


def rated_call_rows(*, pbx: Pbx, month: date) -> Iterator[list[Any]]:
    """A PBX-month's calls with their rating, header first, in start order, read in chunks
    (streamed downloads for rebilling, issue 12)."""
    yield list(CALL_COLUMNS)
    rows = CallRecord.objects.filter(pbx=pbx, month=month).order_by("start", "identity")
    for row in rows.values_list(*CALL_COLUMNS).iterator(chunk_size=5000):
        yield [value.isoformat() if hasattr(value, "isoformat") else value for value in row]
