"""Structured logs with a request id that follows a request into the tasks it sends.

- ``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` (when it looks sane) or makes one,
  keeps it in a context variable for the request, answers with it, and logs one access line.
- ``RequestIdFilter`` copies it (and the current Celery task, if any) onto every log record,
  so any formatter can print it; ``JsonFormatter`` writes one JSON object per line
  (``LOG_FORMAT=json``).
- Celery hooks: a task sent while a request id is set carries it in a message header; the worker
  restores it for the task's duration, so the task's log lines, and the tasks it sends in turn,
  have the same id. A task that arrives without one (sent by beat) gets a fresh id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

HTTP_HEADER = "X-Request-ID"
# The Celery message header; custom headers surface as attributes of ``task.request``.
TASK_HEADER = "x_request_id"
_SANE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")

_request_id: ContextVar[str | None] = ContextVar("pbxportal_request_id", default=None)
_task_tokens: dict[str, Token[str | None]] = {}

access_log = logging.getLogger("pbxportal.request")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


@contextlib.contextmanager
def request_id_context(request_id: str | None = None) -> Iterator[str]:
    """Run a block (a command, a test) under a request id."""
    value = request_id or new_request_id()
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


def accept_request_id(header: str | None) -> str:
    """The caller's id when it is short and plain (it ends up in logs), else a new one."""
    if header and _SANE.match(header):
        return header
    return new_request_id()


class RequestIdMiddleware:
    """Outermost middleware. The id stays set until ``request_finished`` (``end_request``), so
    Django's own "Internal Server Error" / "Service Unavailable" records, written after the
    middleware chain returns, carry it too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_request_id(request.headers.get(HTTP_HEADER))
        _request_id.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HTTP_HEADER] = request_id
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response


def end_request(**kwargs: Any) -> None:
    """request_finished: a worker thread's later log lines belong to no request."""
    _request_id.set(None)


def _current_task() -> Any:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    task = current_task
    return task if task and getattr(task.request, "id", None) else None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id``, ``task_id`` and ``task_name`` to every record (``-`` when absent)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        task = _current_task()
        record.task_id = task.request.id if task else "-"
        record.task_name = task.name if task else "-"
        return True


_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "task_id",
    "task_name",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, task, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
            "process": record.process,
        }
        task_id = getattr(record, "task_id", "-")
        if task_id and task_id != "-":
            entry["task_id"] = task_id
            entry["task_name"] = getattr(record, "task_name", None)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """The LOGGING dict for settings: ``fmt`` is ``json`` or ``text``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "pbxportal.ops.logging.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "pbxportal.ops.logging.JsonFormatter"},
            "text": {
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if fmt == "json" else "text",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


# Celery signal receivers, connected in OpsConfig.ready().


def add_request_id_header(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """before_task_publish: carry the current request id in the message headers."""
    request_id = _request_id.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def restore_request_id(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """task_prerun: the task runs under the id it was sent with (or a new one from beat)."""
    carried = getattr(task.request, TASK_HEADER, None) if task is not None else None
    if carried is None and _request_id.get() is not None:
        return  # eager task inside a request: the request's id is already set
    if task_id:
        _task_tokens[task_id] = _request_id.set(carried or new_request_id())


def clear_request_id(task_id: str | None = None, **kwargs: Any) -> None:
    """task_postrun: back to the id (or none) the process had before the task."""
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            _request_id.reset(token)
        except ValueError:  # set in another context (a pool that switched threads)
            _request_id.set(None)


def keep_django_logging(**kwargs: Any) -> None:
    """setup_logging: a connected receiver stops Celery from replacing Django's LOGGING."""
