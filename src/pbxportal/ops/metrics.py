"""Prometheus metrics: the names every process updates and the ``/metrics`` rendering.

Other apps import the metric objects (or the two helpers) and update them; nothing here knows
about billing::

    from pbxportal.ops import metrics

    metrics.billrun_planned(run="2026-05-31", pbxs=len(pbx_ids))
    metrics.BILLRUN_PBXS_DONE.labels(run="2026-05-31").inc()
    metrics.RATING_CALLS.labels(outcome="rated").inc(len(records))

Multi-process: gunicorn with several workers and Celery's prefork pool are separate processes,
each with its own counters. With ``PROMETHEUS_MULTIPROC_DIR`` set (before Python starts; an
empty directory shared by the processes of one machine) every process writes its samples
there and ``/metrics`` aggregates them, so one scrape of any web process shows the web workers
and the Celery workers of that machine. Without it (the embedded run, tests) the process's own
registry is served.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

REQUEST_LATENCY = Histogram(
    "pbxportal_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TASKS = Counter(
    "pbxportal_celery_tasks",
    "Celery tasks finished, by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
)
# Bill-run progress (R-INV-2 runs are resumable): planned is set once per run, done grows by one
# per PBX invoiced. Done is summed over processes because chunks of one run execute in several
# workers; planned takes the maximum so a resumed run that plans again does not double it.
BILLRUN_PBXS_PLANNED = Gauge(
    "pbxportal_billrun_progress_pbxs_planned",
    "PBXs a bill run has to invoice, by run (the date it runs for).",
    ["run"],
    multiprocess_mode="max",
)
BILLRUN_PBXS_DONE = Gauge(
    "pbxportal_billrun_progress_pbxs_done",
    "PBXs a bill run has invoiced so far, by run (the date it runs for).",
    ["run"],
    multiprocess_mode="sum",
)
RATING_CALLS = Counter(
    "pbxportal_rating_calls",
    "Call records through rating, by outcome (rated, duplicate, error).",
    ["outcome"],
)
RATING_SECONDS = Counter(
    "pbxportal_rating_seconds",
    "Wall-clock seconds spent rating call records (rate of RATING_CALLS over this is throughput).",
)


def billrun_planned(*, run: str, pbxs: int) -> None:
    """A bill run for ``run`` (its date, ISO) has ``pbxs`` PBXs to invoice."""
    BILLRUN_PBXS_PLANNED.labels(run=run).set(pbxs)


def billrun_pbx_done(*, run: str, count: int = 1) -> None:
    BILLRUN_PBXS_DONE.labels(run=run).inc(count)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def registry() -> CollectorRegistry:
    """The registry to expose: the multi-process aggregate when configured, else this process's."""
    if multiprocess_dir():
        aggregate = CollectorRegistry()
        multiprocess.MultiProcessCollector(aggregate)
        return aggregate
    return REGISTRY


def render() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def route_of(request: HttpRequest) -> str:
    """A low-cardinality label: the URL name (or pattern) the request resolved to."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return match.view_name or match.route or "<unnamed>"


class MetricsMiddleware:
    """Observes every request's latency by route name, method and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(
            route=route_of(request), method=request.method or "", status=str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


def task_outcome(outcome: str) -> Callable[..., None]:
    """A receiver for Celery's task_success / task_failure / task_retry signals."""

    def receiver(sender: object = None, **kwargs: object) -> None:
        name = getattr(sender, "name", None) or str(sender)
        TASKS.labels(task=name, outcome=outcome).inc()

    receiver.__name__ = f"count_task_{outcome}"
    return receiver


def serve_worker_metrics(**kwargs: object) -> None:
    """worker_ready: with WORKER_METRICS_PORT set, the worker's main process serves /metrics.

    For a machine that runs Celery workers and no web process. The pool's child processes only
    show up through PROMETHEUS_MULTIPROC_DIR, so it is required for this.
    """
    port = os.environ.get("WORKER_METRICS_PORT")
    if not port:
        return
    if not multiprocess_dir():
        logging.getLogger(__name__).error(
            "WORKER_METRICS_PORT=%s ignored: PROMETHEUS_MULTIPROC_DIR is not set", port
        )
        return
    start_http_server(int(port), addr=os.environ.get("WORKER_METRICS_ADDR", "127.0.0.1"), registry=registry())
