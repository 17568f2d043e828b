"""The bulk reader of the portal CSV (issue 12): the same records, skips and bad-line reasons as the
line reader, line for line, whatever the chunk boundaries; duplicates met by the optimistic
store are still counted and never rated twice (R-VT-8)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pbxportal.voice import pipeline
from pbxportal.voice.models import CallRecord, ImportJob, UsageMonth
from pbxportal.voice.pipeline.bulk import read_portal
from tests.voice.builders import IT_FIXED, VoiceWorld, portal_csv

HEADER = "call_id,pbx,start,caller,callee,billsec,kind"

# Plain lines and every kind of line the bulk checks hand to the line reader.
LINES = [
    "a1,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,60,voice",
    "a2,PBX1,2025-03-02 10:00:01+01:00,+390611,+390612345678,61,",
    "a3,PBX1,2025-03-02T10:00:02-05:30,,+390612345678,0,voice",  # not answered
    "a4,PBX1,2025-03-02T10:00:03+00:00,+390611,+390612345678,0,sms",
    "a5,PBX1,2025-03-02T10:00:04+00:00,+390611,*72,10,voice",  # feature code
    "a6,PBX1,2025-03-02T10:00:05+00:00,+390611,#1,10,sms",  # an SMS to '#1' is not a feature code
    "a7,PBX1,2025-03-02T10:00:06Z,+390611,+390612345678,10,voice",  # 'Z': the line reader reads it
    "a8,PBX1,2025-03-02T10:00:07.250000+00:00,+390611,+390612345678,10,voice",
    "a9,PBX1,2025-03-02T10:00:08,+390611,+390612345678,10,voice",  # no offset
    "a10,PBX1,2025-02-30T10:00:00+00:00,+390611,+390612345678,10,voice",  # no such day
    "a11,PBX1,2025-03-02T24:00:00+00:00,+390611,+390612345678,10,voice",
    "a12,PBX1,yesterday,+390611,+390612345678,10,voice",
    "a13,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,-5,voice",
    "a14,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,99999999999,voice",
    "a15,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,2678401,voice",
    "a16,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,00000000012,voice",
    "a17,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,12,fax",
    ",PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,12,voice",
    "a19,PBX1,2025-03-02T10:00:00+00:00,+390611,,12,voice",
    "x" * 81 + ",PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,12,voice",
    "a21,PBX1,2025-03-02T10:00:00+00:00,+390611," + "9" * 90 + ",12,voice",
    '"a22",PBX1,2025-03-02T10:00:00+00:00,"+39, 06",+390612345678,12,voice',
    '"a23,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,12,voice',
    "a24,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,12",
    "a25,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,12,voice,extra",
    "   ",
    "",
    "a26,PBX2,2025-03-02T10:00:00+00:00,+390611,+390612345678,12,voice",  # another PBX
    "a27,,2025-03-02T10:00:00+00:00,+390611,+390612345678,12,voice",
    "a28,PBX1,2025-03-02T10:00:00+00:00,Müller,+390612345678,12,voice",
    "a29,PBX1,2025-03-02T10:00:00+00:00,\x01,+390612345678,12,voice",
    "a30,PBX1,0001-01-01T00:00:00+01:00,+390611,+390612345678,12,voice",
    "a1,PBX1,2025-03-02T11:00:00+00:00,+390611,+390612345678,60,voice",  # repeated id: both read
]


def _line_read(path: Path, *, pbx: str | None) -> tuple[Any, ...]:
    reader = pipeline.Reader("csv", pbx=pbx, tz_name="UTC")
    chunk = reader.feed(pipeline.numbered_lines(path))
    return _outcome(chunk)


def _bulk_read(path: Path, *, pbx: str | None, lines: int) -> tuple[Any, ...]:
    reader = pipeline.Reader("csv", pbx=pbx, tz_name="UTC")
    whole = pipeline.Chunk()
    ends = []
    for end, chunk in read_portal(path, reader, lines):
        whole.merge(chunk)
        ends.append(end)
    return (*_outcome(whole), ends[-1])


def _outcome(chunk: pipeline.Chunk) -> tuple[Any, ...]:
    records = chunk.table().to_pylist()
    return records, sorted(chunk.bad), chunk.rows, chunk.not_answered, Counter(chunk.skipped)


def _write(path: Path, lines: list[str], *, newline: str = "\n") -> Path:
    path.write_bytes((newline.join([HEADER, *lines]) + newline).encode())
    return path


@pytest.mark.parametrize("lines", [1, 2, 7, 1000])
@pytest.mark.parametrize("pbx", [None, "PBX1"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_bulk_reader_gives_what_the_line_reader_gives(
    tmp_path: Path, lines: int, pbx: str | None, newline: str
) -> None:
    # given a portal CSV with plain lines and every kind of odd line
    path = _write(tmp_path / "mixed.csv", LINES, newline=newline)
    # when it is read in bulk, in chunks of any size
    bulk = _bulk_read(path, pbx=pbx, lines=lines)
    # then records, bad lines with their reasons and counts are those of the line reader
    assert bulk[:5] == _line_read(path, pbx=pbx)
    records, bad, rows, not_answered, skipped, last = bulk
    assert rows == len(records) + len(bad) + not_answered + sum(skipped.values())
    assert last == len(LINES) + 1
    assert {record["identity"] for record in records} >= {"a1", "a2", "a4", "a6", "a7", "a8", "a16", "a22"}
    assert skipped == Counter({"feature": 1})
    assert any(reason.startswith("start has no UTC offset") for _, reason in bad)


def test_the_direction_column_and_odd_files_read_the_same(tmp_path: Path) -> None:
    # given a header with a direction column after blank lines, a lone carriage return and bad UTF-8
    rows = [
        "d1,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,60,voice,outbound",
        "d2,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,60,voice, Inbound ",
        "d3,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,60,voice,INTERNAL",
        "d4,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,60,voice,",
        "d5,PBX1,2025-03-02T10:00:00+00:00,+390611,+390612345678,60,voice,ïnbound",
    ]
    header = HEADER + ",direction"
    plain = tmp_path / "direction.csv"
    plain.write_text("\n\n" + "\n".join([header, *rows]) + "\n")
    carriage = tmp_path / "cr.csv"
    carriage.write_bytes(("\n".join([header, rows[0], rows[1] + "\r" + rows[2], rows[3]]) + "\n").encode())
    latin = tmp_path / "latin.csv"
    latin.write_bytes(("\n".join([header, *rows[:2]]) + "\n").encode() + b"d9,PBX1,x\xe9,1,2,3,voice,\n")
    for path in (plain, carriage, latin):
        for lines in (1, 3, 100):
            # then the bulk reader agrees with the line reader
            assert _bulk_read(path, pbx=None, lines=lines)[:5] == _line_read(path, pbx=None), (path, lines)
    assert _line_read(plain, pbx=None)[4] == Counter({"inbound": 1, "internal": 1})


def test_a_header_that_lacks_a_column_makes_every_line_bad_as_before(tmp_path: Path) -> None:
    path = tmp_path / "bad-header.csv"
    path.write_text("call_id,pbx,start\n" + "\n".join(LINES[:3]) + "\n")
    assert _bulk_read(path, pbx=None, lines=2)[:5] == _line_read(path, pbx=None)


# --- Storing: the optimistic path meets stored records ----------------------------------------------


@pytest.fixture
def world(db: Any) -> VoiceWorld:
    return VoiceWorld()


def test_a_file_overlapping_a_stored_one_counts_duplicates_and_rates_only_the_new(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given a file of 30 calls imported, rated as stored
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    start = datetime(2025, 3, 2, 8, tzinfo=UTC)
    rows = [(f"o{n}", pbx.serial, start + timedelta(minutes=n), IT_FIXED, 100, "voice") for n in range(60)]
    first = pipeline.import_file(portal_csv(tmp_path / "a.csv", rows[:30]), cdr_format="csv")
    assert (first.job.stored, first.job.rated, first.months[0].chunks) == (30, 30, 1)
    # when a second file repeats 10 of them and adds 30 later ones
    second = pipeline.import_file(portal_csv(tmp_path / "b.csv", rows[20:]), cdr_format="csv")
    # then the 10 are duplicates, the 30 new ones are stored and rated once, from the month's state
    job = ImportJob.objects.get(pk=second.job.pk)
    assert (job.rows, job.stored, job.duplicates, job.rated) == (40, 30, 10, 30)
    assert CallRecord.objects.filter(pbx=pbx).count() == 60
    assert not CallRecord.objects.filter(pbx=pbx, rated_at__isnull=True).exists()
    usage = UsageMonth.objects.get(pbx=pbx)
    assert usage.calls == 60
    # and the month equals a full re-rate of it
    before = list(CallRecord.objects.filter(pbx=pbx).order_by("identity").values_list("identity", "amount"))
    pipeline.month_rate(pbx.pk, date(2025, 3, 1), full=True)
    after = list(CallRecord.objects.filter(pbx=pbx).order_by("identity").values_list("identity", "amount"))
    assert before == after
    assert UsageMonth.objects.get(pbx=pbx).amount == usage.amount


def test_an_api_batch_is_stored_rated_in_one_pass(world: VoiceWorld) -> None:
    # given a batch with a good record, a wrongly typed one and a repeated identity
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    good = {"call_id": "r1", "start": "2025-03-02T10:00:00+00:00", "callee": IT_FIXED, "billsec": 30}
    records: list[Any] = [
        good,
        {**good, "call_id": "r2", "billsec": "x"},
        dict(good),
        {**good, "call_id": "r3"},
    ]
    # when it is imported
    result = pipeline.import_records(records, pbx=pbx)
    # then the good ones are stored rated, the bad one kept with its position, the repeat a duplicate
    job = result.job
    assert (job.rows, job.stored, job.duplicates, job.bad_lines, job.rated) == (4, 2, 1, 1, 2)
    assert not CallRecord.objects.filter(pbx=pbx, rated_at__isnull=True).exists()
    assert [(p.line, p.kind) for p in job.problems.all()] == [(2, "line")]
