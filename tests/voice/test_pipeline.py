"""The usage pipeline (issue 12): durable import jobs, every row accounted for, every error kept,
incremental rating, classification on real public files (R-VT-2..8, R-INV-2)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client

from pbxportal.cli import main
from pbxportal.voice import pipeline
from pbxportal.voice.models import CallRecord, ImportJob, ImportProblem, UsageMonth
from tests.voice.builders import AE_MOBILE, AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld, portal_csv

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def world(db: Any) -> VoiceWorld:
    return VoiceWorld()


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def snapshot(pbx_id: int) -> tuple[Any, ...]:
    """Every record's rating and the month's state: what a re-rate must reproduce exactly."""
    records = tuple(
        CallRecord.objects.filter(pbx_id=pbx_id)
        .order_by("identity")
        .values_list("identity", "area", "billed_seconds", "free_seconds", "charged_units", "amount", "error")
    )
    usage = UsageMonth.objects.filter(pbx_id=pbx_id).values_list(
        "month", "allowance_used", "sms_used", "calls", "errors", "amount"
    )
    return records, tuple(usage)


def accounted(job: ImportJob) -> None:
    assert job.rows == job.accounted, (
        job.rows,
        job.stored,
        job.duplicates,
        job.not_answered,
        job.skipped,
        job.bad_lines,
    )


# --- Accounting and errors ------------------------------------------------------------------------


def test_every_row_is_accounted_for_and_every_bad_line_is_kept(world: VoiceWorld, tmp_path: Path) -> None:
    # given a portal CSV with good, unanswered, inbound, internal, feature-code and 500 bad lines
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    lines = ["call_id,pbx,start,caller,callee,billsec,kind,direction"]
    lines.append(f"ok-1,{pbx.serial},{at(2).isoformat()},+390611111111,{IT_FIXED},60,voice,outbound")
    lines.append(f"ok-2,{pbx.serial},{at(2, 11).isoformat()},+390611111111,{UNKNOWN},60,voice,")
    lines.append(f"na-1,{pbx.serial},{at(2, 12).isoformat()},+390611111111,{IT_FIXED},0,voice,outbound")
    lines.append(f"in-1,{pbx.serial},{at(2, 13).isoformat()},{IT_FIXED},201,60,voice,inbound")
    lines.append(f"int-1,{pbx.serial},{at(2, 14).isoformat()},201,202,60,voice,internal")
    lines.append(f"fc-1,{pbx.serial},{at(2, 15).isoformat()},201,1234*256,5,voice,outbound")
    lines += [f"bad-{n},{pbx.serial},yesterday,201,{IT_FIXED},5,voice,outbound" for n in range(500)]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    # when it is imported through the command
    code = main(["import-cdrs", str(path), "--format", "csv"])
    # then every row is accounted for, by kind
    job = ImportJob.objects.get()
    accounted(job)
    assert (job.rows, job.stored, job.not_answered, job.skipped_inbound, job.skipped_internal) == (
        506,
        2,
        1,
        1,
        1,
    )
    assert (job.skipped_feature, job.bad_lines, job.rated, job.free) == (1, 500, 1, 1)
    assert job.rating_errors == {"unknown destination": 1}
    # and some lines failed, the good ones kept: exit code 1
    assert code == 1
    # and all 500 bad lines and the rating error are stored with their line numbers
    problems = list(ImportProblem.objects.filter(job=job).order_by("line").values_list("line", "kind"))
    assert len(problems) == 501
    assert problems[0] == (3, "rating")
    assert [line for line, kind in problems if kind == "line"] == list(range(8, 508))


def test_import_errors_gives_every_problem_and_the_cli_shows_fifty_then_the_command(
    world: VoiceWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file of 120 bad lines imported through the command
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    lines = ["call_id,pbx,start,caller,callee,billsec,kind"]
    lines += [f"b{n},{pbx.serial},{at(2).isoformat()},1,{IT_FIXED},x{n},voice" for n in range(120)]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    code = main(["import-cdrs", str(path), "--format", "csv"])
    err = capsys.readouterr().err
    job = ImportJob.objects.get()
    # then nothing could be imported: exit 2; 50 lines shown, then the command for all of them
    assert code == 2
    assert err.count("bad.csv:") == 50
    assert f"pbxportal import-errors {job.pk}" in err
    # and import-errors prints all 120
    assert main(["import-errors", str(job.pk)]) == 0
    assert capsys.readouterr().err.count("billsec is not a non-negative integer") == 120


def test_a_good_file_exits_0(world: VoiceWorld, tmp_path: Path) -> None:
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    path = portal_csv(tmp_path / "m.csv", [("c1", pbx.serial, at(2), IT_FIXED, 60, "voice")])
    assert main(["import-cdrs", str(path), "--format", "csv"]) == 0


# --- Incremental rating ---------------------------------------------------------------------------


def test_the_kth_file_of_a_month_rates_only_its_own_records(world: VoiceWorld, tmp_path: Path) -> None:
    # given a PBX with one user (3000 allowance minutes) and five files of 40 calls of 2000 s each, in time order
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    rated = []
    for k in range(5):
        rows = [
            (f"f{k}-{n}", pbx.serial, at(2 + k, 8, n), IT_FIXED if n % 3 else AU_FIXED, 2000, "voice")
            for n in range(40)
        ]
        # when each file is imported
        result = pipeline.import_file(portal_csv(tmp_path / f"f{k}.csv", rows), cdr_format="csv")
        rated.append(sum(month.rated for month in result.months))
    # then each import rated exactly its own 40 records
    assert rated == [40, 40, 40, 40, 40]
    # and the state equals a full re-rate of the month (the allowance ran out in the 5th file)
    incremental = snapshot(pbx.pk)
    usage = UsageMonth.objects.get(pbx=pbx)
    assert usage.allowance_used == 180000 and usage.calls == 200
    pipeline.month_rate(pbx.pk, date(2025, 3, 1), full=True)
    assert snapshot(pbx.pk) == incremental


def test_a_late_record_rerates_from_its_start_and_equals_a_full_rerate(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given a month rated through the 20th, the allowance (3000 min) used up on the way
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    rows = [(f"c{n}", pbx.serial, at(2 + n), IT_FIXED, 10000, "voice") for n in range(19)]
    pipeline.import_file(portal_csv(tmp_path / "a.csv", rows), cdr_format="csv")
    # when a record of the 10th arrives late, and another of the 1st
    late = pipeline.import_file(
        portal_csv(tmp_path / "b.csv", [("late", pbx.serial, at(10, 9), IT_FIXED, 5000, "voice")]),
        cdr_format="csv",
    )
    # then only the records from its start on were rated again (itself and the 11 after it)
    assert [(m.rated, m.late_from) for m in late.months] == [(12, at(10, 9))]
    pipeline.import_file(
        portal_csv(tmp_path / "c.csv", [("first", pbx.serial, at(1, 9), IT_FIXED, 7000, "voice")]),
        cdr_format="csv",
    )
    # and the totals equal a full re-rate, to the micro-cent
    incremental = snapshot(pbx.pk)
    pipeline.month_rate(pbx.pk, date(2025, 3, 1), full=True)
    assert snapshot(pbx.pk) == incremental
    total = CallRecord.objects.filter(pbx=pbx).aggregate(total=Sum("amount"))["total"]
    assert UsageMonth.objects.get(pbx=pbx).amount == total > 0


def test_cta2_sms_allowance_continues_across_files(world: VoiceWorld, tmp_path: Path) -> None:
    # given a CTA2 PBX (50 free SMS) and two files of 30 SMS to the UAE
    pbx = world.cta2_pbx(start=date(2025, 2, 3))
    for k in range(2):
        rows = [(f"s{k}-{n}", pbx.serial, at(3 + k, 9, n), "+971501234567", 0, "sms") for n in range(30)]
        pipeline.import_file(portal_csv(tmp_path / f"s{k}.csv", rows), cdr_format="csv")
    # then 50 were free and 10 charged, as rating all 60 at once
    usage = UsageMonth.objects.get(pbx=pbx)
    assert usage.sms_used == 50
    assert CallRecord.objects.filter(pbx=pbx, charged_units=1).count() == 10
    incremental = snapshot(pbx.pk)
    pipeline.month_rate(pbx.pk, date(2025, 3, 1), full=True)
    assert snapshot(pbx.pk) == incremental


@pytest.mark.parametrize("slice_size", ["7", "1"])
def test_rating_in_slices_while_the_copy_streams_equals_rating_at_once(
    world: VoiceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_size: str
) -> None:
    # given a CTA2 PBX (allowance minutes and 50 free SMS) and one file of calls, SMS and unknown
    # destinations out of start order, several records starting at the same second
    pbx = world.cta2_pbx(start=date(2025, 2, 3))
    rows = []
    for n in range(90):
        start = at(2 + (n * 7) % 20, 9, (n * 11) % 3)
        if n % 3 != 2:
            rows.append((f"s{n:02d}", pbx.serial, start, AE_MOBILE, 0, "sms"))
        else:
            callee = UNKNOWN if n % 10 == 5 else AE_MOBILE if n % 2 else IT_FIXED
            rows.append((f"c{n:02d}", pbx.serial, start, callee, 900 + n, "voice"))
    # when it is imported rated in slices of a few records, each slice's COPY streaming while
    # the next is rated (PBXPORTAL_IMPORT_RATE_SLICE)
    monkeypatch.setenv("PBXPORTAL_IMPORT_RATE_SLICE", slice_size)
    result = pipeline.import_file(portal_csv(tmp_path / "s.csv", rows), cdr_format="csv")
    # then it was rated as it was stored, and the ratings and the month's state equal one rating
    # of the whole month at once, to the micro-cent (the allowances drawn in start order)
    assert [month.rated for month in result.months] == [90]
    assert result.job.rated + sum(result.job.rating_errors.values()) == 90
    sliced = snapshot(pbx.pk)
    usage = UsageMonth.objects.get(pbx=pbx)
    assert usage.sms_used == 50 and usage.errors == 3 and usage.allowance_used > 0
    pipeline.month_rate(pbx.pk, date(2025, 3, 1), full=True)
    assert snapshot(pbx.pk) == sliced


def test_no_usage_invoice_while_records_are_unrated(world: VoiceWorld, tmp_path: Path) -> None:
    # given March records stored but not rated (an import killed after storing)
    from pbxportal.voice.services import usage_invoices_due

    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    rows = [(f"au-{n}", pbx.serial, at(2, 9, n), AU_FIXED, 60, "voice") for n in range(10)]
    job = ImportJob.objects.create(pbx=pbx, file_name="m.csv", sha256="x", format="csv")
    reader = pipeline.Reader("csv", pbx=None, tz_name="UTC")
    chunk = reader.feed(pipeline.numbered_lines(portal_csv(tmp_path / "m.csv", rows)))
    pipeline.store_chunk(job, chunk, pipeline._Pbxs(None), resuming=False)
    assert pipeline.month_pending(pbx.pk, date(2025, 3, 1))
    # when the clock invoices March on 1 April
    usage_invoices_due(day=date(2025, 4, 1))
    # then the month was rated first (R-INV-2) and invoiced in full: 10 min at 0.060
    usage = UsageMonth.objects.get(pbx=pbx)
    assert usage.invoice is not None and usage.invoice.total == Decimal("0.60")
    assert not pipeline.month_pending(pbx.pk, date(2025, 3, 1))
    assert ImportJob.objects.get(pk=job.pk).rated == 10


# --- Classification on real public files (tests/voice/samples/README.md) -------------------------


def _import_sample(name: str, fmt: str, pbx: Any, tz: str = "Europe/Rome") -> ImportJob:
    result = pipeline.import_file(SAMPLES / name, cdr_format=fmt, pbx=pbx, tz_name=tz)
    accounted(result.job)
    return result.job


def _reasons(job: ImportJob) -> list[tuple[int, str]]:
    return list(ImportProblem.objects.filter(job=job).order_by("line").values_list("line", "reason"))


def test_asterisk_internal_calls_between_extensions_are_skipped(world: VoiceWorld) -> None:
    # given the KelySaina Master.csv: PJSIP extensions calling 6789 and 1234 in context default
    pbx = world.trunk_pbx(start=date(2023, 6, 1))
    job = _import_sample("asterisk_kelysaina_master.csv", "asterisk", pbx)
    # then its 14 rows: 3 not answered, 11 internal; nothing stored, nothing charged
    assert (job.rows, job.not_answered, job.skipped_internal, job.stored, job.bad_lines) == (14, 3, 11, 0, 0)
    assert CallRecord.objects.filter(pbx=pbx).count() == 0


def test_asterisk_inbound_calls_from_the_pstn_are_skipped_not_charged(world: VoiceWorld) -> None:
    # given the stadion Master.csv: callers from the PSTN dialling the DIDs 211474/211553
    pbx = world.trunk_pbx(start=date(2023, 12, 1))
    job = _import_sample("asterisk_stadion_master.csv", "asterisk", pbx)
    # then the 11 rows: answered legs of 0 s and unanswered legs counted as not answered, the rest inbound
    assert (job.rows, job.not_answered, job.skipped_inbound, job.stored, job.bad_lines) == (11, 5, 6, 0, 0)
    assert job.charged == 0 and not job.rating_errors


def test_freeswitch_files_every_row_with_its_reason(world: VoiceWorld) -> None:
    # given the freeswitch_tools Master.csv (its times re-saved as "2020/2/10 22:41")
    pbx = world.trunk_pbx(start=date(2020, 1, 1))
    job = _import_sample("freeswitch_tools_master.csv", "freeswitch", pbx)
    # then 10 rows: 1 not answered, 1 internal call to extension 1004, 8 bad lines with the reason
    assert (job.rows, job.not_answered, job.skipped_internal, job.bad_lines, job.stored) == (10, 1, 1, 8, 0)
    assert _reasons(job)[0] == (1, "start_stamp is not a 'YYYY-MM-DD HH:MM:SS' time: '2020/2/10 22:41'")
    # and the cdr-pusher samples: two outbound calls stored and rated (an error, with its reason)
    world2 = _import_sample(
        "freeswitch_cdr_pusher.csv", "freeswitch", world.trunk_pbx(start=date(2014, 12, 1))
    )
    assert (world2.rows, world2.stored) == (2, 2)
    assert world2.rated + sum(world2.rating_errors.values()) == 2


def test_a_real_freeswitch_file_with_inbound_trunk_calls_every_row_with_its_reason(world: VoiceWorld) -> None:
    # given the "blueivr" FreeSWITCH's Master.csv (default "example" template, legs a and b): calls
    # from the PSTN numbers 91342657/19083426 through its gateway into its inbound context
    # "blueivr" (to the IVR codes *1001/*1003 and the queue 3000), their legs to extension 1001,
    # and extension 1001 calling 1002 in "default"
    pbx = world.trunk_pbx(start=date(2023, 9, 1))
    # when it is imported with the format's defaults (inbound contexts "public", "from-trunk"...)
    job = _import_sample("freeswitch_blueivr_master.csv", "freeswitch", pbx)
    # then nothing is rated or charged, and every row is accounted for with its reason:
    # the IVR codes as feature codes, the rest as calls to extensions
    assert (job.rows, job.skipped_feature, job.skipped_internal, job.skipped_inbound) == (8, 2, 6, 0)
    assert (job.stored, job.bad_lines, job.charged, job.rating_errors) == (0, 0, 0, {})
    # when the PBX's own rules name its inbound context (data per PBX, docs/usage-pipeline.md)
    from pbxportal.voice.models import PbxCdrRules

    other = world.trunk_pbx(start=date(2023, 9, 1))
    PbxCdrRules.objects.create(pbx=other, rules={"inbound_contexts": ["public", "blueivr"]})
    job = _import_sample("freeswitch_blueivr_master.csv", "freeswitch", other)
    # then the four legs in "blueivr" are inbound calls and the four in "default" internal ones
    assert (job.rows, job.skipped_inbound, job.skipped_internal, job.skipped_feature) == (8, 4, 4, 0)
    assert job.rows == job.accounted and (job.stored, job.charged) == (0, 0)


@pytest.mark.parametrize(
    ("record", "fmt", "expected"),
    [
        ({"dst": "1234*256", "dcontext": "from-internal", "channel": "SIP/201-0001"}, "asterisk", "feature"),
        ({"dst": "*72", "dcontext": "from-internal", "channel": "SIP/201-0001"}, "asterisk", "feature"),
        ({"dst": "0612345678", "dcontext": "from-trunk", "channel": "SIP/trunk-0001"}, "asterisk", "inbound"),
        (
            {
                "dst": "0612345678",
                "dcontext": "from-internal",
                "channel": "SIP/201-1",
                "dstchannel": "SIP/trunk-2",
            },
            "asterisk",
            None,
        ),
        (
            {"dst": "202", "dcontext": "from-internal", "channel": "SIP/201-1", "dstchannel": "SIP/202-2"},
            "asterisk",
            "internal",
        ),
        ({"destination_number": "0612345678", "context": "public"}, "freeswitch", "inbound"),
        ({"destination_number": "1001", "context": "default"}, "freeswitch", "internal"),
        ({"destination_number": "*97", "context": "default"}, "freeswitch", "feature"),
        ({"destination_number": "0612345678", "context": "default"}, "freeswitch", None),
        ({"callee": "+390612345678", "direction": "inbound"}, "csv", "inbound"),
        ({"callee": "#31#0612345678", "direction": "outbound"}, "csv", "feature"),
    ],
)
def test_default_classification_rules(record: dict[str, str], fmt: str, expected: str | None) -> None:
    from pbxportal.core.rating.classify import classify, rules_for

    found = classify(record, fmt, rules_for(fmt))
    assert (found[0] if found else None) == expected


def test_a_pbx_can_name_its_trunk_channel(world: VoiceWorld, tmp_path: Path) -> None:
    # given a PBX whose trunk channel is "PJSIP/eolo" (not a default name)
    from pbxportal.voice.models import PbxCdrRules

    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    PbxCdrRules.objects.create(pbx=pbx, rules={"trunk_channels": ["PJSIP/eolo"]})
    line = (
        '"","0612345678","201","from-internal","","PJSIP/eolo-0001","PJSIP/201-0002","Dial","",'
        '"2025-03-02 10:00:00","2025-03-02 10:00:00","2025-03-02 10:01:00","60","60","ANSWERED","DOCUMENTATION"\n'
    )
    path = tmp_path / "Master.csv"
    path.write_text(line)
    job = pipeline.import_file(path, cdr_format="asterisk", pbx=pbx).job
    # then the call from the trunk is inbound
    assert (job.rows, job.skipped_inbound) == (1, 1)


# --- API ingest -----------------------------------------------------------------------------------


def _post(client: Client, pbx: Any, body: bytes, **headers: str) -> Any:
    return client.post(
        f"/api/v1/voice/pbxs/{pbx.pk}/cdrs", data=body, content_type="application/json", headers=headers
    )


def test_a_batch_with_a_wrongly_typed_record_keeps_the_good_ones(world: VoiceWorld) -> None:
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    good = {"call_id": "g1", "start": "2025-03-02T10:00:00+01:00", "callee": AU_FIXED, "billsec": 61}
    wrong_type = {"call_id": "g2", "start": "2025-03-02T10:00:00+01:00", "callee": AU_FIXED, "billsec": [1]}
    missing = {"call_id": "g3", "start": "2025-03-02T10:00:00+01:00", "billsec": 3}
    not_object = "g4"
    response = _post(client, pbx, json.dumps([good, wrong_type, missing, not_object]).encode())
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rows"], body["accepted"], body["bad_lines"], body["rated"]) == (4, 1, 3, 1)
    assert [(e["line"], e["reason"]) for e in body["errors"]] == [
        (2, "billsec is not a non-negative integer: [1]"),
        (3, "callee: required"),
        (4, "a record must be an object"),
    ]


def test_a_gzip_batch_is_accepted_and_more_than_10000_records_is_413(world: VoiceWorld) -> None:
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    records = [
        {
            "call_id": f"z{n}",
            "start": (at(2) + timedelta(seconds=n)).isoformat(),
            "callee": AU_FIXED,
            "billsec": 60,
        }
        for n in range(300)
    ]
    response = _post(client, pbx, gzip.compress(json.dumps(records).encode()), content_encoding="gzip")
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 300
    too_many = gzip.compress(json.dumps([records[0]] * 10_001).encode())
    refused = _post(client, pbx, too_many, content_encoding="gzip")
    assert refused.status_code == 413
    assert refused.json()["error"]["fields"] == {"records": "at most 10000"}


# --- Portal: upload, job page, downloads ------------------------------------------------------------


def test_a_partner_uploads_a_file_follows_the_job_and_downloads_the_calls(
    world: VoiceWorld, tmp_path: Path
) -> None:
    import io

    from openpyxl import load_workbook

    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    path = portal_csv(
        tmp_path / "m.csv",
        [("u1", pbx.serial, at(2), AU_FIXED, 60, "voice"), ("u2", pbx.serial, at(3), UNKNOWN, 60, "voice")],
    )
    # when the partner uploads it on the PBX's page
    with open(path, "rb") as handle:
        response = client.post(f"/voice/pbxs/{pbx.pk}/cdrs/", {"file": handle, "format": "csv"})
    job = ImportJob.objects.get(pbx=pbx)
    assert response.status_code == 302 and response["Location"] == f"/voice/imports/{job.pk}/"
    # and a worker imports it in the background (the task, eager here)
    from pbxportal.voice.tasks import import_cdr_file

    assert job.status == "queued"
    assert import_cdr_file.delay(job.pk).get() == 1
    # then the job page shows its counts and the rating error with its line
    page = client.get(f"/voice/imports/{job.pk}/").content.decode()
    assert "Rows read</th><td>2</td>" in page and "unknown destination" in page
    # and the API gives the job and all its problems as CSV
    assert client.get(f"/api/v1/voice/imports/{job.pk}").json()["errors"][0]["line"] == 3
    problems = b"".join(client.get(f"/api/v1/voice/imports/{job.pk}/problems.csv").streaming_content)
    assert problems.decode().splitlines()[1].startswith("3,rating,")
    # and the month's calls download as CSV and XLSX (streamed) from the page and the API
    calls = client.get(f"/voice/pbxs/{pbx.pk}/usage/calls/?month=2025-03&format=csv")
    rows = b"".join(calls.streaming_content).decode().splitlines()
    assert rows[0].startswith("start,caller,callee") and len(rows) == 3 and "0.060000" in rows[1]
    xlsx = client.get(f"/api/v1/voice/pbxs/{pbx.pk}/usage/calls?month=2025-03&format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet is not None and sheet.max_row == 3


def test_another_partner_cannot_see_a_job(world: VoiceWorld, tmp_path: Path) -> None:
    from pbxportal.accounts.models import Partner, PartnerRole, User

    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    job = pipeline.import_file(
        portal_csv(tmp_path / "m.csv", [("u1", pbx.serial, at(2), AU_FIXED, 60, "voice")]),
        cdr_format="csv",
        pbx=pbx,
    ).job
    other = Partner.objects.create(name="Other", code="other", country="IT", price_book=world.book)
    intruder = User.objects.create_user(
        "intruder", password="x-intruder-x", partner=other, partner_role=PartnerRole.ADMIN
    )
    client = Client()
    client.force_login(intruder)
    assert client.get(f"/api/v1/voice/imports/{job.pk}").status_code == 404
    assert client.get(f"/voice/imports/{job.pk}/").status_code == 404
