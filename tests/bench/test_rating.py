"""The benchmark's generator and runner, on a small file (R-VT-8, issue 5 item 9)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pbxportal.bench.rating import (
    bench_rate,
    demo_context,
    demo_rate_table,
    demo_terms,
    generate_master_csv,
)
from pbxportal.core.rating.allowance import zone
from pbxportal.core.rating.cdr import read_asterisk_master_arrow, read_cdr_file
from pbxportal.core.rating.rate import Call, rate_calls, summarise
from pbxportal.core.rating.vectorised import rate_batch


def test_generated_master_csv_rates_the_same_both_ways(tmp_path: Path) -> None:
    # given a generated 21-column Master.csv of 3000 records from 40 PBXs
    path = tmp_path / "Master.csv"
    made = generate_master_csv(path, 3000, seed=5, pbx_count=40, distinct_numbers=400)
    assert made["rows"] == 3000 and 0 < made["answered"] < 3000
    # when read and rated by the line reader + reference, and by pyarrow + the vectorised rater
    calls = [
        item for _, item in read_cdr_file(path, "asterisk", tz_name="Europe/Rome") if isinstance(item, Call)
    ]
    month_start = datetime(2025, 3, 1, tzinfo=zone("Europe/Rome"))
    contexts = {c.pbx: demo_context(c.pbx, month_start=month_start, tz_name="Europe/Rome") for c in calls}
    reference = rate_calls(calls, contexts=contexts, table=demo_rate_table(), terms=demo_terms())
    bulk = read_asterisk_master_arrow(path, tz_name="Europe/Rome")
    batch = rate_batch(bulk.batch, contexts=contexts, table=demo_rate_table(), terms=demo_terms())
    # then both agree, call by call and line by line
    assert bulk.errors == []
    by_id = {rated.call_id: rated for rated in reference.calls}
    assert len(by_id) == len(calls) == made["answered"]
    assert all(by_id[rated.call_id] == rated for rated in batch.to_rated_calls())
    assert batch.usage_lines() == summarise(reference.calls, reference.allowances)
    assert any(rated.capped for rated in reference.calls)


def test_bench_rate_reports_medians_and_the_ratio(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    generate_master_csv(path, 500, seed=1, pbx_count=10)
    report = bench_rate(path, runs=1)
    assert report["calls_rated"] > 0
    assert report["floor_read_s"] > 0 and report["rate_end_to_end_s"] > 0
    assert report["ratio_to_floor"] > 0
    assert set(report["stages_median_s"]) == {"read", "rating", "lines"}
