"""Bill runs at scale (R-INV-2): the day's renewals fan out as Celery tasks, one per chunk of
partners, so more workers on more machines finish sooner (eager, in-process, in the embedded mode).

The bill run plans the chunks here (``due_chunks``, ``billrun_start``, ``billrun_day``); each task
(``pbx.tasks.renew_chunk``) runs ``pbx.services.renewals.billrun_chunk``, which renews its PBXs in
one transaction (``renew_pbxs``) and reports progress; if that fails, the chunk falls back to
``renew_pbx`` PBX by PBX, so one bad PBX fails alone. Every renewal is
idempotent (PBX row lock, ``invoiced_through``, a unique key per (subscription, period) and per
invoice), so a re-run or a resumed run charges nothing twice; the ``BillRun`` row only reports.
"""

from __future__ import annotations

from datetime import date
from itertools import groupby

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from pbxportal.common.errors import ApplicationError
from pbxportal.invoicing.models import BillRun, BillRunStatus
from pbxportal.ops import metrics
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import billrun_chunk, renewals_due
from pbxportal.pbx.tasks import renew_chunk


class BillRunIncomplete(ApplicationError):
    """Some PBXs could not be renewed: the clock day stays unfinished and is run again."""


def due_chunks(*, day: date, chunk_size: int) -> list[list[int]]:
    """The PBX ids renewing on ``day``, in chunks of whole partners (a partner larger than a chunk
    is split); ordered by partner, so one partner's invoices are issued together."""
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


__all__ = ["BillRunIncomplete", "billrun_chunk", "billrun_day", "billrun_start", "due_chunks"]
