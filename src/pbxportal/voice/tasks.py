"""Background work of the voice trunk: a portal upload's import (issue 12; docs/usage-pipeline.md)."""

from __future__ import annotations

from celery import shared_task

from pbxportal.voice.services.imports import import_job_run


# acks_late: a worker killed mid-import leaves the message unacknowledged, so the broker hands it
# to another worker, which resumes the job (its stored records kept, nothing charged twice).
@shared_task(name="pbxportal.voice.tasks.import_cdr_file", acks_late=True)
def import_cdr_file(job_id: int) -> int:
    """Import (or resume) a stored upload; the job's exit code, -1 when nothing was left to run."""
    return import_job_run(job_id)
