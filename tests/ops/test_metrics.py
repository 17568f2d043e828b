"""/metrics: Prometheus text with request latency, task outcomes, bill-run progress, rating."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from pbxportal.ops import metrics
from pbxportal.ops.tasks import ping
from tests.ops.conftest import ROOT, clean_env


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "pbxportal_http_request_duration_seconds",
        "pbxportal_celery_tasks_total",
        "pbxportal_billrun_progress_pbxs_planned",
        "pbxportal_billrun_progress_pbxs_done",
        "pbxportal_rating_calls_total",
        "pbxportal_rating_seconds_total",
    ],
)
def test_metrics_names_every_metric(db: Any, name: str) -> None:
    # given a request and one of each update, so labelled metrics have a sample
    Client().get("/healthz")
    metrics.billrun_planned(run="2026-05-31", pbxs=3)
    metrics.RATING_CALLS.labels(outcome="rated").inc(0)
    ping.delay()
    # then the exposition names it
    assert f"# TYPE {name.removesuffix('_total')}" in _scrape()


def test_request_latency_is_observed_by_route_name_and_status(db: Any) -> None:
    before = _samples(_scrape())
    key = (
        "pbxportal_http_request_duration_seconds_count",
        frozenset({("route", "healthz"), ("method", "GET"), ("status", "200")}),
    )
    Client().get("/healthz")
    Client().get("/healthz")
    assert _samples(_scrape())[key] - before.get(key, 0) == 2
    # an unknown path is one label, not one per URL
    Client().get("/no/such/page/12345")
    assert any(
        name == "pbxportal_http_request_duration_seconds_count" and ("route", "<unmatched>") in labels
        for name, labels in _samples(_scrape())
    )


def test_task_success_and_failure_are_counted(db: Any) -> None:
    def count(outcome: str, task: str) -> float:
        key = ("pbxportal_celery_tasks_total", frozenset({("task", task), ("outcome", outcome)}))
        return _samples(_scrape()).get(key, 0)

    before = count("success", "pbxportal.ops.tasks.ping")
    ping.delay()  # eager here: the same signals fire as in a worker
    assert count("success", "pbxportal.ops.tasks.ping") == before + 1

    from pbxportal.clock.tasks import run_clock

    failures = count("failure", "pbxportal.clock.tasks.run_clock")
    # apply() without propagation takes the worker's failure path (eager .delay() re-raises first)
    result = run_clock.apply(args=("not-a-date",), throw=False)
    assert result.state == "FAILURE"
    assert count("failure", "pbxportal.clock.tasks.run_clock") == failures + 1


def test_billrun_progress_and_rating_counters(db: Any) -> None:
    # given a bill run of 5 PBXs of which 2 are done, and 7 calls rated
    metrics.billrun_planned(run="2026-06-30", pbxs=5)
    metrics.billrun_pbx_done(run="2026-06-30")
    metrics.billrun_pbx_done(run="2026-06-30")
    before = _samples(_scrape()).get(("pbxportal_rating_calls_total", frozenset({("outcome", "rated")})), 0)
    metrics.RATING_CALLS.labels(outcome="rated").inc(7)
    samples = _samples(_scrape())
    run = frozenset({("run", "2026-06-30")})
    assert samples[("pbxportal_billrun_progress_pbxs_planned", run)] == 5
    assert samples[("pbxportal_billrun_progress_pbxs_done", run)] == 2
    assert samples[("pbxportal_rating_calls_total", frozenset({("outcome", "rated")}))] == before + 7


def test_metrics_token_is_required_when_configured(db: Any) -> None:
    with override_settings(METRICS_TOKEN="s3cret"):
        assert Client().get("/metrics").status_code == 401
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


UPDATE = """
import django; django.setup()
from pbxportal.ops import metrics
metrics.RATING_CALLS.labels(outcome="rated").inc({n})
metrics.billrun_planned(run="r1", pbxs=10)
metrics.billrun_pbx_done(run="r1", count={n})
"""
RENDER = """
import django; django.setup()
from pbxportal.ops import metrics
print(metrics.render()[0].decode())
"""


def test_multiprocess_directory_aggregates_separate_processes(tmp_path: Path) -> None:
    # given two processes (as two gunicorn or Celery workers) updating metrics in one directory
    env = clean_env(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="pbxportal.config.settings"
    )
    for n in (3, 4):
        subprocess.run([sys.executable, "-c", UPDATE.format(n=n)], cwd=ROOT, env=env, check=True)
    # when a third renders / then it sees the sum of done and of calls, the max of planned
    text = subprocess.run(
        [sys.executable, "-c", RENDER], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    samples = _samples(text)
    assert samples[("pbxportal_rating_calls_total", frozenset({("outcome", "rated")}))] == 7
    assert samples[("pbxportal_billrun_progress_pbxs_done", frozenset({("run", "r1")}))] == 7
    assert samples[("pbxportal_billrun_progress_pbxs_planned", frozenset({("run", "r1")}))] == 10
