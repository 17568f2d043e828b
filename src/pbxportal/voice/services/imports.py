"""Call-record imports in the background (issue 12, R-VT-8; docs/usage-pipeline.md).

A portal upload is stored (under ``MEDIA_ROOT/cdr-imports/``, its SHA-256 computed on the way
in), recorded as an ``ImportJob`` in status ``queued`` and handed to a worker: the request
returns at once and the job's page follows its progress. The worker
(``voice.tasks.import_cdr_file``, or a thread of ``pbxportal serve`` in the embedded mode) runs
``import_job_run``, which calls the one import path (``voice.pipeline.import_file``) and records
the lines read after each chunk.

A killed worker leaves a job in ``storing`` or ``rating``: running it again resumes it
(``pipeline.job_for_file``: its stored records are kept and nothing is charged twice). Celery
redelivers the task (``acks_late``); staff and the partner's technicians can resume it from its
page (``import_job_resume``); the clock's short jobs run jobs left queued or stalled. One job is
never run twice at once (a PostgreSQL advisory lock held by the worker's connection, released if
the worker dies; a process-local guard on SQLite).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict
from pbxportal.common.tenancy import get_scoped
from pbxportal.pbx.models import Pbx
from pbxportal.voice import pipeline
from pbxportal.voice.models import CallRecord, ImportJob, ImportProblem, ImportStatus

log = logging.getLogger(__name__)

FORMATS = ("asterisk", "freeswitch", "csv")
UPLOAD_MAX_BYTES = 200 * 1024 * 1024
UPLOAD_DIR = "cdr-imports"
IMPORT_TASK = "pbxportal.voice.tasks.import_cdr_file"
# A running job records its progress after every chunk; one without progress for this long is
# taken for dead by the clock's short jobs (a chunk takes seconds, a month's rating minutes).
STALLED_AFTER = timedelta(minutes=15)
QUEUED_GRACE = timedelta(minutes=1)
_LOCK_SPACE = 0x5642  # "VB": the advisory-lock namespace of import jobs

_running: set[int] = set()
_running_lock = threading.Lock()
_threads: bool = False


# --- The upload --------------------------------------------------------------------------------


def _stored_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def _store(upload: Any) -> tuple[str, str, int]:
    """Write the upload under MEDIA_ROOT: (relative path, SHA-256, lines)."""
    directory = _stored_path(UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    lines = 0
    last = b"\n"
    with open(partial, "wb") as handle:
        for block in upload.chunks():
            digest.update(block)
            lines += block.count(b"\n")
            last = block[-1:] or last
            handle.write(block)
    if last != b"\n":
        lines += 1  # a last line without its newline
    sha256 = digest.hexdigest()
    relative = f"{UPLOAD_DIR}/{sha256[:2]}/{sha256}"
    target = _stored_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, target)  # the same content under the same name: replacing changes nothing
    return relative, sha256, lines


def cdr_upload(*, actor: Actor, pbx: Pbx, upload: Any, cdr_format: str, tz_name: str = "") -> ImportJob:
    """Store an uploaded call-record file and queue its import (R-VT-8): the job, status queued.

    The same file uploaded again for the same PBX while its job is unfinished resumes that job
    instead of starting another; a finished one gets a new job (its records are duplicates)."""
    actor.require_partner_role("technician")
    if upload is None:
        raise ApplicationError(_("file: choose the call-record file."), fields={"file": "required"})
    if cdr_format not in FORMATS:
        raise ApplicationError(_("format: asterisk, freeswitch or csv."), fields={"format": "unknown"})
    if (upload.size or 0) > UPLOAD_MAX_BYTES:
        raise ApplicationError(
            _("file: at most %(bytes)s bytes.") % {"bytes": UPLOAD_MAX_BYTES}, fields={"file": "size"}
        )
    tz_name = (tz_name or "").strip()
    if tz_name:
        from pbxportal.core.rating.allowance import zone

        try:
            zone(tz_name)
        except Exception:
            raise ApplicationError(
                _("timezone: %(name)s is not a time zone.") % {"name": tz_name},
                fields={"timezone": "unknown"},
            ) from None
    relative, sha256, lines = _store(upload)
    name = (upload.name or "upload.csv")[:255]
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .filter(sha256=sha256, pbx=pbx, format=cdr_format)
            .exclude(status=ImportStatus.DONE)
            .order_by("-id")
            .first()
        )
        if job is None:
            job = ImportJob.objects.create(
                pbx=pbx,
                partner_id=pbx.partner_id,
                file_name=name,
                sha256=sha256,
                format=cdr_format,
                source="upload",
                status=ImportStatus.QUEUED,
                stored_file=relative,
                tz_name=tz_name,
                lines_total=lines,
            )
        else:
            ImportJob.objects.filter(pk=job.pk).update(
                stored_file=relative, tz_name=tz_name, lines_total=lines
            )
            job.refresh_from_db()
        transaction.on_commit(lambda: queue_import(job.pk))
    return job


# --- Queueing and running ------------------------------------------------------------------------


def start_background_imports() -> None:
    """Embedded mode (no Celery broker, ``pbxportal serve``): run each queued import in a thread."""
    global _threads
    _threads = True


def queue_import(job_id: int) -> None:
    """Hand a job to a worker: the Celery task with a broker; a thread under ``pbxportal serve``
    in the embedded mode; otherwise (eager, no server: tests, commands) it stays queued until the
    clock's short jobs or ``import_job_run`` run it."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        from celery import current_app

        current_app.send_task(IMPORT_TASK, args=[job_id])
        return
    if _threads:
        threading.Thread(target=_thread_run, args=(job_id,), name=f"import-{job_id}", daemon=True).start()


def _thread_run(job_id: int) -> None:
    try:
        import_job_run(job_id)
    except Exception:
        log.exception("import job %s failed", job_id)
    finally:
        connections.close_all()  # this thread's own connection


@contextmanager
def _exclusive(job_id: int) -> Iterator[bool]:
    """True when this process may run the job now (nobody else is running it)."""
    with _running_lock:
        if job_id in _running:
            yield False
            return
        _running.add(job_id)
    try:
        if connection.vendor != "postgresql":
            yield True
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, job_id])
            got = bool(cursor.fetchone()[0])
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_SPACE, job_id])
    finally:
        with _running_lock:
            _running.discard(job_id)


class Progress:
    """The pipeline's ``progress(last_line, lines_in_chunk)``: the lines read and when, on the job."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def __call__(self, last_line: int, lines_in_chunk: int) -> None:
        ImportJob.objects.filter(pk=self.job_id).update(lines_read=last_line, progress_at=timezone.now())


def import_job_run(job_id: int) -> int:
    """Run (or resume) a stored upload's import; the job's exit code (docs/usage-pipeline.md),
    or -1 when there was nothing to run (finished, or running elsewhere)."""
    with _exclusive(job_id) as mine:
        if not mine:
            return -1
        job = ImportJob.objects.select_related("pbx").filter(pk=job_id).first()
        if job is None or job.status == ImportStatus.DONE or not job.stored_file:
            return -1
        path = _stored_path(job.stored_file)
        fresh = job.status == ImportStatus.QUEUED
        now = timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.STORING,
            lines_read=0,
            started_at=now,
            progress_at=now,
            finished_at=None,
        )
        job.refresh_from_db()
        options: dict[str, Any] = {
            "cdr_format": job.format,
            "pbx": job.pbx,
            "tz_name": job.tz_name or None,
            "source": "upload",
            "name": job.file_name,
            "progress": Progress(job.pk),
        }
        try:
            if not path.exists():
                raise FileNotFoundError(_("the stored file %(path)s is missing") % {"path": job.stored_file})
            # A fresh job runs as itself; an interrupted one is resumed by the pipeline, which
            # finds it by the file's SHA-256, PBX and format (its stored records are kept).
            result = (
                pipeline.import_file(path, job=job, **options)
                if fresh
                else pipeline.import_file(path, **options)
            )
        except Exception as exc:
            log.exception("import job %s failed", job_id)
            ImportJob.objects.filter(pk=job.pk).exclude(status=ImportStatus.DONE).update(
                status=ImportStatus.FAILED, message=str(exc)[:300], finished_at=timezone.now()
            )
            return 2
        if job.lines_total:  # trailing blank lines are never reported by a chunk
            ImportJob.objects.filter(pk=result.job.pk).update(lines_read=job.lines_total)
        return result.exit_code


def import_job_resume(*, actor: Actor, job_id: int) -> ImportJob:
    """Queue an unfinished upload again (a worker was killed or restarted): staff, or the job's
    partner's admins and technicians. A job still running is not run twice (``import_job_run``)."""
    job = get_scoped(ImportJob.objects.all(), actor, pk=job_id)
    actor.require_partner_role("technician")
    if job.status == ImportStatus.DONE:
        raise Conflict(_("This import has finished."), fields={"status": job.status})
    if not job.stored_file:
        raise ApplicationError(
            _("Only a portal upload can be resumed here; run the same import command again."),
            fields={"job": "not an upload"},
        )
    transaction.on_commit(lambda: queue_import(job.pk))
    return job


def stalled_imports(now: datetime) -> list[int]:
    """Uploads left queued (past a grace minute) or running without progress for ``STALLED_AFTER``."""
    jobs = ImportJob.objects.exclude(stored_file="").filter(
        Q(status=ImportStatus.QUEUED, created_at__lt=now - QUEUED_GRACE)
        | Q(
            status__in=(ImportStatus.STORING, ImportStatus.RATING),
            progress_at__lt=now - STALLED_AFTER,
        )
    )
    return list(jobs.order_by("id").values_list("pk", flat=True))


def stalled_imports_run(now: datetime, *, run: Callable[[int], Any] | None = None) -> int:
    """The clock's short job: run (embedded) or queue again (Celery) the stalled uploads."""
    ids = stalled_imports(now)
    for job_id in ids:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            (run or import_job_run)(job_id)
        else:
            queue_import(job_id)
    return len(ids)


# --- Jobs of the command line without --pbx -----------------------------------------------------


def import_job_assign_partner(job: ImportJob, *, pbx_ids: Iterable[int] | None = None) -> ImportJob:
    """A job without a PBX (``import-cdrs`` without ``--pbx``) belongs to no partner, so only
    staff see it. When every record of the file is of PBXs of one partner, the job is that
    partner's: the records it stored, and for duplicates the records stored by earlier imports of
    the same file. A record of an unknown PBX, or duplicates stored by another file, keep the
    job staff-only (docs/usage-pipeline.md).

    ``pbx_ids``: the PBXs of the file's records as the import found them (``ImportResult.pbx_ids``).
    Without duplicates they are the PBXs of every record stored from this file, so the call-record
    table (no index on ``job_id``) is not scanned for them."""
    if job.pbx_id is not None or job.partner_id is not None:
        return job
    if ImportProblem.objects.filter(job=job, kind="line", reason__startswith="unknown PBX serial").exists():
        return job
    if pbx_ids is not None and not job.duplicates:
        partners = set(Pbx.objects.filter(pk__in=set(pbx_ids)).values_list("partner_id", flat=True))
        if len(partners) == 1:
            ImportJob.objects.filter(pk=job.pk).update(partner_id=partners.pop())
            job.refresh_from_db()
        return job
    same_file = ImportJob.objects.filter(sha256=job.sha256, format=job.format, pbx__isnull=True)
    records = CallRecord.objects.filter(job_id__in=same_file.values("pk"))
    own = CallRecord.objects.filter(job_id=job.pk).count()
    if job.duplicates and records.count() < own + job.duplicates:
        return job  # some duplicates were stored by another file: their PBXs are not known here
    partners = set(
        Pbx.objects.filter(pk__in=records.values("pbx_id").distinct()).values_list("partner_id", flat=True)
    )
    if len(partners) == 1:
        ImportJob.objects.filter(pk=job.pk).update(partner_id=partners.pop())
        job.refresh_from_db()
    return job
