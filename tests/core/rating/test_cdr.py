"""Call-record readers: Asterisk 16 and 21 columns, FreeSWITCH, the portal's CSV (R-VT-8)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pbxportal.core.rating.cdr import (
    asterisk_columns,
    call_identity,
    parse_asterisk_line,
    read_asterisk_master_arrow,
    read_cdr_file,
)
from pbxportal.core.rating.rate import Call
from pbxportal.core.rating.vectorised import calls_to_batch
from tests.core.rating.builders import FIXTURES


def split(items: list[tuple[int, Call | str]]) -> tuple[dict[int, Call], dict[int, str]]:
    calls = {line: item for line, item in items if isinstance(item, Call)}
    errors = {line: item for line, item in items if isinstance(item, str)}
    return calls, errors


def test_asterisk_16_columns_parse_and_bad_lines_are_reported_by_number() -> None:
    # given a 16-column Master.csv of a London server, with bad lines in the middle
    items = list(
        read_cdr_file(FIXTURES / "asterisk_16.csv", "asterisk", pbx="PBX-GB-1", tz_name="Europe/London")
    )
    calls, errors = split(items)
    # then answered calls are read, the rest of the file after a bad line too
    assert sorted(calls) == [1, 3, 7, 11]
    assert calls[1].callee == "02079460000" and calls[1].billsec == 61 and calls[1].pbx == "PBX-GB-1"
    assert calls[1].start == datetime(2025, 3, 10, 9, 15, tzinfo=UTC)  # GMT in March before the change
    assert calls[3].callee == "00390612345678" and calls[3].billsec == 300
    # and each bad line has its number and reason; unanswered and 0-second lines are skipped
    assert set(errors) == {4, 5, 6, 10}
    assert errors[4].startswith("malformed CSV")
    assert errors[5] == "expected 16 to 21 Asterisk cdr_csv columns, got 2"
    assert errors[6] == "billsec is not a non-negative integer: 'abc'"
    assert errors[10] == "start is not a 'YYYY-MM-DD HH:MM:SS' time: '2025-02-30 12:00:00'"


def test_asterisk_local_time_in_a_dst_gap_reads_with_fold_0() -> None:
    # 01:30 on 30 March 2025 does not exist in London: read with the offset before the gap
    calls, _ = split(
        list(read_cdr_file(FIXTURES / "asterisk_16.csv", "asterisk", pbx="P", tz_name="Europe/London"))
    )
    assert calls[11].start == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)


def test_asterisk_21_columns_parse_with_uniqueid_and_gmt_times() -> None:
    # given a 21-column file written with usegmtime, PBX in accountcode, one old 16-column line
    items = list(
        read_cdr_file(FIXTURES / "asterisk_21.csv", "asterisk", usegmtime=True, tz_name="Europe/Rome")
    )
    calls, errors = split(items)
    # then the unique id is the identity and times are UTC
    assert errors == {}
    assert sorted(calls) == [1, 2, 4, 5, 6]
    assert calls[1].call_id == "1743296398.1" and calls[1].pbx == "PBX-IT-1"
    assert calls[1].start == datetime(2025, 3, 30, 0, 59, 58, tzinfo=UTC)
    assert calls[2].call_id == "1743297000.3"  # the userfield 'vip' is not the id
    assert calls[4].billsec == 18000  # rating caps it, the reader keeps the record as written
    assert calls[6].call_id.startswith("cdr-")  # 16 columns: no uniqueid, hashed identity


def test_freeswitch_default_template_parses() -> None:
    items = list(read_cdr_file(FIXTURES / "freeswitch.csv", "freeswitch", tz_name="Europe/Rome"))
    calls, errors = split(items)
    assert sorted(calls) == [1, 3, 5]
    assert calls[1].call_id == "0f3b6c1e-5d1a-4b8e-9a55-2f7e4c7d0001"
    assert (calls[1].caller, calls[1].callee, calls[1].billsec, calls[1].pbx) == (
        "1001",
        "+442079460000",
        61,
        "PBX-FS-1",
    )
    assert calls[1].start == datetime(2025, 3, 10, 8, 15, tzinfo=UTC)  # CET
    assert calls[3].billsec == 300  # extra template columns are ignored
    assert calls[5].call_id.startswith("cdr-")  # empty uuid
    assert errors == {4: "expected at least 11 FreeSWITCH columns, got 6"}


def test_portal_csv_parses_and_reports_bad_rows() -> None:
    calls, errors = split(list(read_cdr_file(FIXTURES / "portal.csv", "csv")))
    assert sorted(calls) == [2, 3, 7]
    assert calls[3].kind == "sms" and calls[3].billsec == 0
    assert calls[2].start == datetime(2025, 3, 10, 8, 15, tzinfo=UTC)
    assert errors == {
        4: "start has no UTC offset: '2025-03-10 09:25:00'",
        5: "kind must be voice or sms, not 'fax'",
        6: "billsec is not a non-negative integer: '-3'",
    }


def test_portal_csv_without_its_columns_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("call_id,pbx,start\nc-1,P,2025-03-01T00:00:00Z\n")
    assert list(read_cdr_file(path, "csv")) == [(1, "header lacks column(s) caller, callee, billsec, kind")]


@pytest.mark.parametrize("fixture", ["asterisk_16.csv", "asterisk_21.csv"])
def test_identity_is_stable_across_reads(fixture: str) -> None:
    # given the same file read twice / then every record gets the same identity
    def ids() -> list[str]:
        path = FIXTURES / fixture
        return [
            item.call_id for _, item in read_cdr_file(path, "asterisk", pbx="P") if isinstance(item, Call)
        ]

    assert ids() == ids()
    assert len(set(ids())) == len(ids())


def test_identity_without_unique_id_is_pbx_start_caller_callee_duration() -> None:
    start = datetime(2025, 3, 10, 9, 15, tzinfo=UTC)
    same = call_identity("P", start.astimezone(), "1001", "020", 66)
    assert call_identity("P", start, "1001", "020", 66) == same  # any zone of the same instant
    for other in (
        call_identity("Q", start, "1001", "020", 66),
        call_identity("P", start.replace(second=1), "1001", "020", 66),
        call_identity("P", start, "1002", "020", 66),
        call_identity("P", start, "1001", "021", 66),
        call_identity("P", start, "1001", "020", 67),
    ):
        assert other != same


def test_the_same_record_in_two_files_has_one_identity(tmp_path: Path) -> None:
    # given a record alone in one file, and after another record in a second file
    lines = (FIXTURES / "asterisk_16.csv").read_text().splitlines()
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(lines[0] + "\n")
    second.write_text(lines[2] + "\n" + lines[0] + "\n")

    def ids(path: Path) -> list[str]:
        return [
            item.call_id for _, item in read_cdr_file(path, "asterisk", pbx="P") if isinstance(item, Call)
        ]

    # then it has the same identity in both (re-ingesting it charges nothing twice)
    (alone,) = ids(first)
    other, again = ids(second)
    assert again == alone != other


@pytest.mark.parametrize(
    ("count", "extra", "tail"),
    [
        (16, None, ()),
        (17, "1743296398.1", ("uniqueid",)),
        (17, "pbx1-1743296398.12", ("uniqueid",)),
        (17, "vip customer", ("userfield",)),
        (18, None, ("uniqueid", "userfield")),
        (19, None, ("peeraccount", "linkedid", "sequence")),
        (20, "1743296398.1", ("uniqueid", "peeraccount", "linkedid", "sequence")),
        (20, "", ("userfield", "peeraccount", "linkedid", "sequence")),
        (21, None, ("uniqueid", "userfield", "peeraccount", "linkedid", "sequence")),
    ],
)
def test_asterisk_columns_are_detected_per_line(count: int, extra: str | None, tail: tuple[str, ...]) -> None:
    columns = asterisk_columns(count, extra)
    assert columns is not None and columns[16:] == tail and columns[13] == "billsec"


@pytest.mark.parametrize("count", [15, 22])
def test_other_widths_are_not_asterisk(count: int) -> None:
    assert asterisk_columns(count) is None


def test_an_empty_accountcode_without_a_pbx_is_an_error() -> None:
    line = (FIXTURES / "asterisk_16.csv").read_text().splitlines()[0]
    assert (
        parse_asterisk_line(line, pbx=None, tz_name="UTC")
        == "no PBX: accountcode is empty and no PBX was given"
    )


# -- the bulk (pyarrow) reader agrees with the line reader ---------------------------------


def line_read(path: Path, **options: object) -> tuple[list[Call], list[tuple[int, str]]]:
    items = list(read_cdr_file(path, "asterisk", **options))  # type: ignore[arg-type]
    return [item for _, item in items if isinstance(item, Call)], [
        (n, e) for n, e in items if isinstance(e, str)
    ]


@pytest.mark.parametrize(
    ("fixture", "options"),
    [
        ("asterisk_16.csv", {"pbx": "PBX-GB-1", "tz_name": "Europe/London"}),
        ("asterisk_21.csv", {"usegmtime": True}),
        ("asterisk_21.csv", {"tz_name": "Europe/Rome"}),
        ("asterisk_21.csv", {"pbx": "ONE", "tz_name": "America/New_York"}),
    ],
)
def test_bulk_reader_gives_the_line_readers_calls_and_errors(
    fixture: str, options: dict[str, object]
) -> None:
    calls, errors = line_read(FIXTURES / fixture, **options)
    bulk = read_asterisk_master_arrow(FIXTURES / fixture, **options)  # type: ignore[arg-type]
    assert sorted(bulk.batch.to_pylist(), key=lambda row: row["call_id"]) == sorted(
        calls_to_batch(calls).to_pylist(), key=lambda row: row["call_id"]
    )
    assert sorted(bulk.errors) == sorted(errors)


def test_bulk_reader_reads_clean_files_in_bulk(tmp_path: Path) -> None:
    # given the 21-column lines only (no odd line)
    lines = (FIXTURES / "asterisk_21.csv").read_text().splitlines()[:5]
    path = tmp_path / "Master.csv"
    path.write_text("\n".join(lines) + "\n")
    bulk = read_asterisk_master_arrow(path, tz_name="Europe/Rome")
    calls, errors = line_read(path, tz_name="Europe/Rome")
    assert bulk.batch.equals(calls_to_batch(calls)) and bulk.errors == errors == []


@pytest.mark.parametrize(
    "damage",
    [
        ('61,"ANSWERED"', '+61,"ANSWERED"'),  # a signed integer
        ('61,"ANSWERED"', ',"ANSWERED"'),  # an empty integer
        ("2025-03-30 00:59:58", "2025-03-30T00:59:58"),  # not the Asterisk time format
        ("2025-03-30 00:59:58", "2025-3-30 0:59:58"),
        ('"PBX-IT-1"', '""'),  # no PBX
    ],
)
def test_bulk_reader_falls_back_to_the_line_reader_on_odd_values(
    tmp_path: Path, damage: tuple[str, str]
) -> None:
    lines = (FIXTURES / "asterisk_21.csv").read_text().splitlines()[:5]
    lines[0] = lines[0].replace(*damage, 1)
    path = tmp_path / "Master.csv"
    path.write_text("\n".join(lines) + "\n")
    calls, errors = line_read(path, tz_name="Europe/Rome")
    bulk = read_asterisk_master_arrow(path, tz_name="Europe/Rome")
    assert bulk.batch.equals(calls_to_batch(calls))
    assert bulk.errors == errors and len(errors) == 1 and errors[0][0] == 1
