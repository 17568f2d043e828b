"""R-INV-2 with a real Celery worker on Redis: the worker is killed (SIGKILL) in the middle of a
bill run, a new one takes over the re-run, and the invoices are exactly those of an uninterrupted
run: every due PBX once, the planned lines, numbers without gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from pbxportal.invoicing.models import BillRun, BillRunStatus, Invoice
from pbxportal.pbx import charges
from pbxportal.pbx.billrun import billrun_start
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.tasks import renew_chunk
from tests.pbx.billrun_helpers import RENEWAL_DAY, renewing_world

BROKER = "redis://127.0.0.1:6379/13"  # a Redis database of its own
COUNT = 40
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def _drop_connections(app: Any) -> None:
    """Forget pooled broker connections: eager tasks of earlier tests acquired them for the old URL."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(settings: Any) -> Iterator[None]:
    redis.Redis.from_url(BROKER).flushdb()
    celery_app = renew_chunk.app  # the app the task publishes through, whichever is current
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = BROKER, False
    _drop_connections(celery_app)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.BILLRUN_CHUNK_SIZE = 1
    yield
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
    _drop_connections(celery_app)
    redis.Redis.from_url(BROKER).flushdb()


def _worker() -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "pbxportal.config.celery",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate: Any, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_worker_killed_mid_run_then_a_rerun_issues_exactly_the_planned_invoices(broker: None) -> None:
    # given 40 PBXs renewing on one day and the lines each should get (planned, nothing written)
    renewing_world(COUNT)
    planned = {}
    for pbx in Pbx.objects.select_related("partner__price_book"):
        period = charges.term_period(pbx, pbx.invoiced_through)  # type: ignore[arg-type]
        subs = [s for s in charges.active_subscriptions(pbx) if s.auto_renew]
        planned[pbx.pk] = [line.comparable() for line in charges.renewal_lines(pbx, subs, period)]  # type: ignore[arg-type]
    # when a real worker runs the bill run and is killed with SIGKILL part-way
    worker = _worker()
    try:
        run = billrun_start(day=RENEWAL_DAY)
        assert run.total == COUNT
        _wait(lambda: BillRun.objects.get(pk=run.pk).done >= 5)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        interrupted = BillRun.objects.get(pk=run.pk)
        assert 5 <= interrupted.done < COUNT, "the worker finished before it could be killed"
        # and the run is started again with a new worker
        worker = _worker()
        rerun = billrun_start(day=RENEWAL_DAY)
        assert rerun.total == COUNT - Invoice.objects.filter(issued_on=RENEWAL_DAY).count()
        _wait(lambda: BillRun.objects.get(pk=run.pk).status != BillRunStatus.RUNNING)
    finally:
        worker.kill()
        worker.wait(10)
    # then every PBX has exactly its planned renewal invoice, numbered without gap
    invoices = list(Invoice.objects.filter(issued_on=RENEWAL_DAY).prefetch_related("lines"))
    assert sorted(i.pbx_id for i in invoices) == sorted(planned)  # type: ignore[type-var]
    for invoice in invoices:
        lines = [
            (
                line.kind,
                line.product_code,
                line.description,
                line.unit_price,
                line.quantity,
                line.amount,
                invoice.currency,
                line.days_charged,
                line.days_in_term,
                line.period_start,
                line.period_end,
            )
            for line in invoice.lines.order_by("position")
        ]
        assert lines == planned[invoice.pbx_id]  # type: ignore[index]
    assert sorted(i.sequence for i in invoices) == list(range(1, COUNT + 1))  # type: ignore[type-var]
    assert BillRun.objects.get().status == BillRunStatus.DONE
