"""JSON logs with a request id that follows a request into the tasks it sends."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from pbxportal.ops import logging as ops_logging
from pbxportal.ops.tasks import ping


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What LOG_FORMAT=json writes, captured: the JSON formatter and the request-id filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ops_logging.JsonFormatter())
    handler.addFilter(ops_logging.RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_access_log_line_is_json_with_the_callers_request_id(db: Any, json_lines: io.StringIO) -> None:
    # given a caller that sends its own X-Request-ID
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")
    # then the answer and the JSON log line carry it
    assert response["X-Request-ID"] == "lb-7f3a.42"
    (line,) = [r for r in _records(json_lines) if r["logger"] == "pbxportal.request"]
    assert line["request_id"] == "lb-7f3a.42"
    assert line["message"] == "GET /healthz 200"
    assert line["status"] == 200 and line["path"] == "/healthz" and line["level"] == "INFO"
    assert line["ts"].endswith("+00:00")


@pytest.mark.parametrize("header", [None, "", "x" * 200, "bad id with spaces", "inject\nline"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(db: Any, header: str | None) -> None:
    extra = {} if header is None else {"HTTP_X_REQUEST_ID": header}
    response = Client().get("/healthz", **extra)
    assert len(response["X-Request-ID"]) == 32
    assert response["X-Request-ID"] != header


def test_error_records_written_after_the_middleware_still_carry_the_id(
    db: Any, json_lines: io.StringIO
) -> None:
    from django.test import override_settings

    # given a failing probe: Django logs "Service Unavailable" after the middleware chain returns
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        Client().get("/healthz", HTTP_X_REQUEST_ID="req-503")
    django_line = next(r for r in _records(json_lines) if r["logger"] == "django.request")
    assert django_line["request_id"] == "req-503"
    # and once the request is finished, nothing is attributed to it any more
    assert ops_logging.current_request_id() is None


def test_a_task_sent_during_a_request_carries_the_id_to_the_worker(json_lines: io.StringIO) -> None:
    # given a request id in the sending process / when a task is published
    headers: dict[str, Any] = {}
    with ops_logging.request_id_context("req-123"):
        ops_logging.add_request_id_header(headers=headers)
    assert headers == {ops_logging.TASK_HEADER: "req-123"}
    # when the worker runs it: custom headers surface on task.request
    task = SimpleNamespace(request=SimpleNamespace(**headers))
    ops_logging.restore_request_id(task_id="t-1", task=task)
    logging.getLogger("pbxportal.test").warning("inside the task")
    assert ops_logging.current_request_id() == "req-123"
    ops_logging.clear_request_id(task_id="t-1")
    # then its log lines had the id, and the worker forgets it afterwards
    assert _records(json_lines)[-1]["request_id"] == "req-123"
    assert ops_logging.current_request_id() is None


def test_a_task_from_beat_gets_its_own_id_for_itself_and_its_subtasks() -> None:
    task = SimpleNamespace(request=SimpleNamespace())
    ops_logging.restore_request_id(task_id="t-2", task=task)
    own = ops_logging.current_request_id()
    headers: dict[str, Any] = {}
    ops_logging.add_request_id_header(headers=headers)
    ops_logging.clear_request_id(task_id="t-2")
    assert own and headers[ops_logging.TASK_HEADER] == own


def test_an_eager_task_runs_under_the_request_id(db: Any) -> None:
    with ops_logging.request_id_context("eager-1"):
        result = ping.delay()
    assert result.get() == {"pong": "ok", "request_id": "eager-1"}


def test_json_formatter_keeps_extras_and_exceptions() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("once",), None)
    record.pbx_id = 42
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    entry = json.loads(ops_logging.JsonFormatter().format(record))
    assert entry["message"] == "failed once"
    assert entry["pbx_id"] == 42
    assert "RuntimeError: boom" in entry["exc_info"]
