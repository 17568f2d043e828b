"""R-INV-2: a bill run fans out in chunks; interrupted at the k-th PBX and run again, it issues
exactly the invoices of an uninterrupted run, never one twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from pbxportal.clock.services import run_day
from pbxportal.invoicing.models import BillRun, BillRunStatus, Invoice
from pbxportal.pbx.billrun import BillRunIncomplete, billrun_day, billrun_start, due_chunks
from pbxportal.pbx.models import Pbx
from tests.pbx.billrun_helpers import RENEWAL_DAY, break_pbx, renewing_world, repair, snapshot

COUNT = 7


@pytest.fixture
def world(db: Any, settings: Any) -> Any:
    settings.BILLRUN_CHUNK_SIZE = 3
    return renewing_world(COUNT)


def _uninterrupted() -> dict[str, Any]:
    """What an uninterrupted run issues, computed inside a savepoint that is then rolled back."""
    sid = transaction.savepoint()
    billrun_day(day=RENEWAL_DAY)
    expected = snapshot()
    transaction.savepoint_rollback(sid)
    assert not Invoice.objects.filter(issued_on=RENEWAL_DAY).exists()
    return expected


def test_chunks_hold_whole_partners_and_every_due_pbx(world: Any) -> None:
    # given 7 PBXs of one partner and chunks of 3 / then the partner is split only by size
    chunks = due_chunks(day=RENEWAL_DAY, chunk_size=3)
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert sorted(i for c in chunks for i in c) == sorted(Pbx.objects.values_list("id", flat=True))


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 6])
def test_interrupted_at_the_kth_pbx_then_rerun_equals_an_uninterrupted_run(world: Any, k: int) -> None:
    # given what an uninterrupted run would issue
    expected = _uninterrupted()
    assert len(expected["invoices"]) == COUNT
    # when the k-th PBX (in bill-run order) cannot be renewed, the clock's day fails
    kth = Pbx.objects.get(pk=[i for c in due_chunks(day=RENEWAL_DAY, chunk_size=3) for i in c][k])
    sub, plan_id = break_pbx(kth)
    with pytest.raises(BillRunIncomplete):
        run_day(RENEWAL_DAY)
    run = BillRun.objects.get()
    assert (run.status, run.done, run.failed) == (BillRunStatus.FAILED, COUNT - 1, 1)
    assert Invoice.objects.filter(issued_on=RENEWAL_DAY).count() == COUNT - 1
    assert not Invoice.objects.filter(pbx=kth, issued_on=RENEWAL_DAY).exists()
    # and, once the data is repaired, the day runs again
    repair(sub, plan_id)
    run_day(RENEWAL_DAY)
    # then the invoices equal the uninterrupted run's: same documents, numbers without gap
    assert snapshot() == expected
    assert snapshot()["sequences"] == list(range(1, COUNT + 1))
    run.refresh_from_db()
    assert (run.status, run.total, run.done, run.failed, run.attempts) == (BillRunStatus.DONE, 1, 1, 0, 2)


def test_running_the_same_day_again_charges_nothing_more(world: Any) -> None:
    # given a finished bill run
    billrun_day(day=RENEWAL_DAY)
    first = snapshot()
    # when the day runs twice more (a resumed run that finds everything done)
    billrun_day(day=RENEWAL_DAY)
    billrun_start(day=RENEWAL_DAY)
    # then nothing was added
    assert snapshot() == first
    assert BillRun.objects.get().total == 0


def test_the_staff_page_shows_the_progress(world: Any, client_for: Any) -> None:
    # given a bill run / when staff open the page / then its figures show
    billrun_day(day=RENEWAL_DAY)
    response = client_for(world.staff).get("/staff/bill-runs/")
    assert response.status_code == 200
    assert b'aria-valuenow="7" aria-valuemin="0" aria-valuemax="7"' in response.content
    assert b"7 of 7" in response.content


def test_a_bill_run_reports_its_progress_as_metrics(world: Any) -> None:
    # given the Prometheus gauges of this day's run (8: metrics)
    from pbxportal.ops import metrics

    def gauge(metric: Any) -> float:
        return float(metric.labels(run=RENEWAL_DAY.isoformat())._value.get())

    done_before = gauge(metrics.BILLRUN_PBXS_DONE)
    # when the bill run renews its PBXs in chunks
    billrun_day(day=RENEWAL_DAY)
    # then planned is the PBXs due and done grew by each one renewed
    assert gauge(metrics.BILLRUN_PBXS_PLANNED) == COUNT
    assert gauge(metrics.BILLRUN_PBXS_DONE) - done_before == COUNT
