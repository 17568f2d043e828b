"""Rating benchmark: a Master.csv of N calls rated end to end, against pyarrow's raw read.

``generate_master_csv`` writes an Asterisk cdr_csv Master.csv of 21 columns (loguniqueid,
loguserfield, newcdrcolumns) as a cloud server hosting many PBXs would: the PBX is the
``accountcode``, times are local (Europe/Rome by default, with its DST change in March),
numbers are dialled nationally, with ``00`` or with ``+`` from the PBX's country, and a few
are unknown or invalid destinations. Prices, countries and PBXs are invented demo data.

``bench_rate`` times, per run, reading the file with ``cdr.read_asterisk_master_arrow``,
rating it with ``vectorised.rate_batch`` and aggregating usage lines, against the floor: the
same file read by ``pyarrow.csv.read_csv`` with default options. The number cache is cleared
before each run, so every run pays phonenumbers for every distinct number (cold); a warm
figure (cache kept, as in a long-lived worker) is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv

from pbxportal.core.rating import numbers
from pbxportal.core.rating.allowance import Cta2Bundle, zone
from pbxportal.core.rating.cdr import read_asterisk_master_arrow
from pbxportal.core.rating.rate import Bundle, PbxRatingContext, RatingTerms
from pbxportal.core.rating.tariff import RateTable, TariffRow
from pbxportal.core.rating.vectorised import rate_batch

__all__ = ["bench_rate", "demo_context", "demo_rate_table", "demo_terms", "generate_master_csv", "main"]

# (prefix, area, kind, country, EUR per minute, EUR per SMS): invented demo prices.
_DEMO_TARIFF: tuple[tuple[str, str, str, str, str, str | None], ...] = (
    ("39", "CTA1", "fixed", "IT", "0.0120", "0.06"),
    ("393", "CTA1", "mobile", "IT", "0.0250", "0.06"),
    ("44", "CTA1", "fixed", "GB", "0.0110", "0.05"),
    ("447", "CTA1", "mobile", "GB", "0.0300", "0.05"),
    ("4479", "CTA1", "mobile", "GB", "0.0320", "0.05"),
    ("49", "CTA1", "fixed", "DE", "0.0130", "0.07"),
    ("4915", "CTA1", "mobile", "DE", "0.0350", "0.07"),
    ("4916", "CTA1", "mobile", "DE", "0.0350", "0.07"),
    ("4917", "CTA1", "mobile", "DE", "0.0350", "0.07"),
    ("33", "CTA1", "fixed", "FR", "0.0115", "0.06"),
    ("336", "CTA1", "mobile", "FR", "0.0280", "0.06"),
    ("337", "CTA1", "mobile", "FR", "0.0280", "0.06"),
    ("34", "CTA1", "fixed", "ES", "0.0118", "0.06"),
    ("346", "CTA1", "mobile", "ES", "0.0290", "0.06"),
    ("1", "CTA1", "any", "US", "0.0090", "0.04"),
    ("971", "CTA2", "fixed", "AE", "0.0900", "0.08"),
    ("9715", "CTA2", "mobile", "AE", "0.1100", "0.08"),
    ("966", "CTA2", "fixed", "SA", "0.0950", "0.08"),
    ("9665", "CTA2", "mobile", "SA", "0.1150", "0.08"),
    ("974", "CTA2", "any", "QA", "0.1200", "0.09"),
    ("61", "CTA3", "fixed", "AU", "0.0400", None),
    ("614", "CTA3", "mobile", "AU", "0.0600", None),
    ("81", "CTA3", "any", "JP", "0.0700", None),
    ("91", "CTA4", "any", "IN", "0.0450", None),
    ("86", "CTA4", "any", "CN", "0.0420", None),
    ("234", "CTA5", "any", "NG", "0.2100", None),
    ("53", "CTA6", "any", "CU", "0.8000", None),
    ("535", "CTA6", "mobile", "CU", "0.950000", None),
)

# National numbering of the demo PBXs' countries: (prefix dialled, digits after it).
_NATIONAL: dict[str, tuple[tuple[str, int], ...]] = {
    "IT": (("06", 8), ("02", 8), ("33", 8), ("34", 8)),
    "GB": (("020", 8), ("0161", 7), ("077", 8), ("079", 8)),
    "DE": (("030", 8), ("089", 8), ("0151", 8), ("0170", 7)),
    "FR": (("01", 8), ("04", 8), ("06", 8), ("07", 8)),
    "ES": (("91", 7), ("93", 7), ("6", 8)),
    "AE": (("04", 7), ("02", 7), ("050", 7), ("055", 7)),
    "SA": (("011", 7), ("012", 7), ("05", 8)),
}
_COUNTRY_CODES = {"IT": "39", "GB": "44", "DE": "49", "FR": "33", "ES": "34", "AE": "971", "SA": "966"}
# Destinations abroad: (country code, national significant number prefix, digits after it).
_ABROAD: tuple[tuple[str, str, int], ...] = (
    ("1", "212", 7),
    ("61", "4", 8),
    ("61", "2", 8),
    ("81", "3", 8),
    ("91", "98", 8),
    ("86", "10", 8),
    ("234", "80", 8),
    ("53", "5", 7),
    ("974", "3", 7),
)
_REGIONS = ("IT", "GB", "DE", "FR", "ES", "AE", "SA")


def demo_rate_table() -> RateTable:
    """The invented demo rate table of the benchmark (overlapping prefixes, CTA1..CTA6)."""
    return RateTable(
        TariffRow(
            prefix=prefix,
            area=area,
            kind=kind,
            country=country,
            rate_per_minute=Decimal(minute),
            currency="EUR",
            rate_per_sms=None if sms is None else Decimal(sms),
        )
        for prefix, area, kind, country, minute, sms in _DEMO_TARIFF
    )


def demo_terms() -> RatingTerms:
    """The seed's CLASSOUND figures: 3000 minutes per user; CTA2 bundle of 1000 min + 50 SMS."""
    return RatingTerms(minutes_per_user=3000, cta2_bundle=Cta2Bundle(minutes=1000, sms=50))


def _pbx_index(name: str) -> int:
    return int(name.removeprefix("PBX"))


def demo_context(pbx: str, *, month_start: datetime, tz_name: str) -> PbxRatingContext:
    """Deterministic demo context of a generated PBX (``PBX00042``): country, bundle, users."""
    index = _pbx_index(pbx)
    region = _REGIONS[index % len(_REGIONS)]
    bundle: Bundle = "CTA2" if region in ("AE", "SA") else "CTA1"
    users = 1 + index % 4
    events = [(month_start - timedelta(days=40), users)]
    if index % 5 == 0:
        events.append((month_start + timedelta(days=14, hours=9), users + 2))
    return PbxRatingContext(bundle=bundle, pool_events=tuple(events), region=region, zone=tz_name)


def _dialled(rng: random.Random, region: str) -> str:
    draw = rng.random()
    if draw < 0.55:
        prefix, digits = rng.choice(_NATIONAL[region])
        return prefix + _digits(rng, digits)
    if draw < 0.75:
        other = rng.choice(_REGIONS)
        prefix, digits = rng.choice(_NATIONAL[other])
        national = prefix.removeprefix("0") if other != "IT" else prefix
        international = _COUNTRY_CODES[other] + national + _digits(rng, digits)
        return ("00" if rng.random() < 0.7 else "+") + international
    if draw < 0.999:
        code, prefix, digits = rng.choice(_ABROAD)
        return "00" + code + prefix + _digits(rng, digits)
    # Iceland is not in the demo table (unknown destination); the others are not numbers.
    return rng.choice(("00354" + _digits(rng, 7), "s", "1001", "00999123"))


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randrange(10**count)).zfill(count)


def generate_master_csv(
    path: str | Path,
    n: int,
    seed: int,
    *,
    pbx_count: int = 1000,
    distinct_numbers: int = 50_000,
    month: str = "2025-03",
    tz_name: str = "Europe/Rome",
) -> dict[str, Any]:
    """Write ``n`` Asterisk cdr_csv records (21 columns) to ``path``; returns what was made.

    Each PBX dials from its own pool of ``distinct_numbers / pbx_count`` numbers (at least
    20), so ``distinct_numbers`` bounds the number of distinct (number, country) pairs;
    about 85% of records are answered with billsec > 0, 0.1% last over 4 hours.
    """
    rng = random.Random(seed)
    year, month_number = (int(part) for part in month.split("-"))
    tz = zone(tz_name)
    start = datetime(year, month_number, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + month_number // 12, month_number % 12 + 1, 1, tzinfo=tz).astimezone(
        UTC
    ) - timedelta(hours=6)
    span = int((end - start).total_seconds())
    per_pbx = max(20, distinct_numbers // pbx_count)
    pools = [
        [_dialled(rng, _REGIONS[index % len(_REGIONS)]) for _ in range(per_pbx)] for index in range(pbx_count)
    ]
    answered = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for row in range(n):
            index = rng.randrange(pbx_count)
            extension = 100 + rng.randrange(40)
            callee = rng.choice(pools[index])
            at = start + timedelta(seconds=rng.randrange(span))
            ring = rng.randrange(1, 20)
            draw = rng.random()
            if draw < 0.85:
                disposition = "ANSWERED"
                billsec = (
                    14400 + rng.randrange(1, 7200) if draw < 0.001 else int(rng.expovariate(1 / 150)) + 1
                )
                answered += 1
            else:
                disposition = rng.choice(("NO ANSWER", "BUSY", "FAILED"))
                billsec = 0
            local_start = at.astimezone(tz)
            answer = (at + timedelta(seconds=ring)).astimezone(tz) if billsec else None
            finish = (at + timedelta(seconds=ring + billsec)).astimezone(tz)
            unique = f"{int(at.timestamp())}.{row}"
            fields = [
                _quote(f"PBX{index:05d}"),
                _quote(str(extension)),
                _quote(callee),
                _quote("from-internal"),
                _quote(f'"Ext {extension}" <{extension}>'),
                _quote(f"PJSIP/{extension}-{row:08x}"),
                _quote(f"PJSIP/classound-{row + 1:08x}"),
                _quote("Dial"),
                _quote(f"PJSIP/{callee}@classound,60,tT"),
                _quote(f"{local_start:%Y-%m-%d %H:%M:%S}"),
                _quote(f"{answer:%Y-%m-%d %H:%M:%S}") if answer else "",
                _quote(f"{finish:%Y-%m-%d %H:%M:%S}"),
                str(ring + billsec),
                str(billsec),
                _quote(disposition),
                _quote("DOCUMENTATION"),
                _quote(unique),
                _quote(""),
                _quote(""),
                _quote(unique),
                str(row % 1000),
            ]
            handle.write(",".join(fields) + "\n")
    return {
        "path": str(path),
        "rows": n,
        "answered": answered,
        "pbx_count": pbx_count,
        "per_pbx_numbers": per_pbx,
    }


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def bench_rate(
    path: str | Path,
    *,
    runs: int = 3,
    tz_name: str = "Europe/Rome",
    month: str = "2025-03",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Median seconds to rate ``path`` end to end, and to read it raw with pyarrow (the floor).

    Floor and rating runs alternate so that both meet the same machine load. Returns
    calls/s, the ratio rate/floor, a breakdown (read, rate, lines), CPU seconds (all threads)
    of both, the warm figure with the number cache kept, and the load average before and
    after: other work on the machine slows every figure.
    """
    say = progress or (lambda _message: None)
    year, month_number = (int(part) for part in month.split("-"))
    month_start = datetime(year, month_number, 1, tzinfo=zone(tz_name))
    table = demo_rate_table()
    terms = demo_terms()
    load_before = os.getloadavg()[0]
    timings: dict[str, list[float]] = {
        name: [] for name in ("floor", "floor_cpu", "rate", "rate_cpu", "read", "rating", "lines")
    }
    outcome: dict[str, Any] = {}

    def floor_run() -> None:
        began, cpu = time.perf_counter(), time.process_time()
        pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True))
        timings["floor"].append(time.perf_counter() - began)
        timings["floor_cpu"].append(time.process_time() - cpu)

    def rating_run() -> float:
        began, cpu = time.perf_counter(), time.process_time()
        cdrs = read_asterisk_master_arrow(path, tz_name=tz_name)
        read_done = time.perf_counter()
        contexts = {
            name: demo_context(name, month_start=month_start, tz_name=tz_name)
            for name in cdrs.batch.column("pbx").unique().to_pylist()
        }
        rated = rate_batch(cdrs.batch, contexts=contexts, table=table, terms=terms)
        rate_done = time.perf_counter()
        lines = rated.usage_lines()
        finished = time.perf_counter()
        timings["read"].append(read_done - began)
        timings["rating"].append(rate_done - read_done)
        timings["lines"].append(finished - rate_done)
        timings["rate_cpu"].append(time.process_time() - cpu)
        outcome.update(
            calls=len(rated),
            errors=int((rated.error != 0).sum()) + len(cdrs.errors),
            capped=int(rated.capped.sum()),
            lines=len(lines),
            distinct_numbers=numbers.cached_count(),
        )
        return finished - began

    for run in range(runs):
        say(f"run {run + 1}/{runs}: raw read, then rating with a cold number cache")
        floor_run()
        numbers.clear_cache()
        timings["rate"].append(rating_run())
    say("rating with a warm number cache")
    warm = rating_run()

    def median(name: str) -> float:
        return statistics.median(timings[name][:runs])

    return {
        "file": str(path),
        "file_mb": round(Path(path).stat().st_size / 1e6, 1),
        "runs": runs,
        "calls_rated": outcome["calls"],
        "error_records": outcome["errors"],
        "capped_calls": outcome["capped"],
        "usage_lines": outcome["lines"],
        "distinct_numbers": outcome["distinct_numbers"],
        "floor_read_s": round(median("floor"), 3),
        "rate_end_to_end_s": round(median("rate"), 3),
        "ratio_to_floor": round(median("rate") / median("floor"), 2),
        # The raw read is the noisier of the two (two threads, 300 MB of buffers): best vs best too.
        "floor_read_best_s": round(min(timings["floor"]), 3),
        "rate_best_s": round(min(timings["rate"]), 3),
        "ratio_best_to_best": round(min(timings["rate"]) / min(timings["floor"]), 2),
        "calls_per_s": round(outcome["calls"] / median("rate")),
        "rate_warm_cache_s": round(warm, 3),
        "stages_median_s": {name: round(median(name), 3) for name in ("read", "rating", "lines")},
        "cpu_s": {"floor": round(median("floor_cpu"), 3), "rate": round(median("rate_cpu"), 3)},
        "cpus": os.cpu_count(),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "all_runs_s": {
            "floor": [round(v, 3) for v in timings["floor"]],
            "rate": [round(v, 3) for v in timings["rate"]],
        },
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m pbxportal.bench.rating --cdrs N``: generate (unless present) and bench."""
    parser = argparse.ArgumentParser(
        description="Rate N calls from an Asterisk Master.csv, against the raw read."
    )
    parser.add_argument("--cdrs", type=int, default=1_000_000, help="records to generate")
    parser.add_argument("--file", type=Path, help="Master.csv to use (generated there if missing)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pbxs", type=int, default=1000)
    parser.add_argument("--distinct-numbers", type=int, default=50_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        path = args.file or Path(scratch) / "Master.csv"
        if not path.exists():
            print(f"generating {args.cdrs} records in {path}", file=sys.stderr)
            generate_master_csv(
                path, args.cdrs, args.seed, pbx_count=args.pbxs, distinct_numbers=args.distinct_numbers
            )
        report = bench_rate(path, runs=args.runs, progress=lambda message: print(message, file=sys.stderr))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
