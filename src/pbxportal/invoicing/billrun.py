"""Bill runs at scale (R-INV-2): the day's renewals fan out as Celery tasks, one per chunk of
partners, so more workers on more machines finish sooner (eager, in-process, in the embedded mode).

Each chunk renews its PBXs in one transaction (``pbx.services.renew_pbxs``); if that fails, the
chunk falls back to ``renew_pbx`` PBX by PBX, so one bad PBX fails alone. Every renewal is
idempotent (PBX row lock, ``invoiced_through``, a unique key per (subscription, period) and per
invoice), so a re-run or a resumed run charges nothing twice; the ``BillRun`` row only reports.
"""

from __future__ import annotations

import logging
from datetime import date
from itertools import groupby

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from pbxportal.common.errors import ApplicationError
from pbxportal.invoicing.models import BillRun, BillRunStatus
from pbxportal.ops import metrics

log = logging.getLogger(__name__)


class BillRunIncomplete(ApplicationError):
    """Some PBXs could not be renewed: the clock day stays unfinished and is run again."""


def due_chunks(*, day: date, chunk_size: int) -> list[list[int]]:
    """The PBX ids renewing on ``day``, in chunks of whole partners (a partner larger than a chunk
    is split); ordered by partner, so one partner's invoices are issued together."""
    from pbxportal.pbx.models import Pbx
    from pbxportal.pbx.services import renewals_due

    ids = renewals_due(day)
    partners = dict(Pbx.objects.filter(pk__in=ids).values_list("id", "partner_id")) if ids else {}
    chunks: list[list[int]] = [[]]
    for _, group in groupby(ids, key=partners.__getitem__):
        members = list(group)
        if chunks[-1] and len(chunks[-1]) + len(members) > chunk_size:
            chunks.append([])
        for pbx_id in members:
            if len(chunks[-1]) >= chunk_size:
                chunks.append([])
            chunks[-1].append(pbx_id)
    return [c for c in chunks if c]


def billrun_start(*, day: date, chunk_size: int | None = None) -> BillRun:
    """Start (or re-run) the renewal bill run of ``day``: record it and queue its chunks."""
    from pbxportal.invoicing.tasks import renew_chunk

    chunks = due_chunks(day=day, chunk_size=chunk_size or settings.BILLRUN_CHUNK_SIZE)
    run, _ = BillRun.objects.get_or_create(kind="renewals", day=day, defaults={"started_at": timezone.now()})
    BillRun.objects.filter(pk=run.pk).update(
        status=BillRunStatus.RUNNING if chunks else BillRunStatus.DONE,
        total=sum(len(c) for c in chunks),
        done=0,
        failed=0,
        invoices=0,
        error="",
        attempts=F("attempts") + 1,
        started_at=timezone.now(),
        finished_at=None if chunks else timezone.now(),
    )
    metrics.billrun_planned(run=day.isoformat(), pbxs=sum(len(c) for c in chunks))
    for chunk in chunks:
        renew_chunk.delay(run.pk, chunk, day.isoformat())
    run.refresh_from_db()
    return run


def billrun_chunk(*, run_id: int, pbx_ids: list[int], day: date) -> int:
    """One task: renew a chunk of PBXs, report progress; returns the invoices issued."""
    from pbxportal.pbx.services import renew_pbx, renew_pbxs

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


def billrun_day(*, day: date) -> int:
    """The clock's renewal job: run the day's bill run. In the eager mode it has finished on return
    and a failure raises, so the clock runs the day again; with workers it returns once queued."""
    run = billrun_start(day=day)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        run.refresh_from_db()
        if run.failed:
            raise BillRunIncomplete(
                f"Bill run {day}: {run.failed} of {run.total} PBXs failed; the day will be run again.\n{run.error}",
                rule="R-INV-2",
            )
        return run.invoices
    return run.total
