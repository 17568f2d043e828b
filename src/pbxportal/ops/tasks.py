"""A trivial task to prove a worker consumes the queue (the process-set smoke test sends it)."""

from __future__ import annotations

import logging

from celery import shared_task

from pbxportal.ops.logging import current_request_id

log = logging.getLogger(__name__)


@shared_task(name="pbxportal.ops.tasks.ping")
def ping() -> dict[str, str | None]:
    request_id = current_request_id()
    log.info("ping task ran", extra={"event": "ops.ping"})
    return {"pong": "ok", "request_id": request_id}
