"""Call records through import, rating and the monthly usage invoice (R-VT-2..8, R-INV-1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pbxportal.catalog.models import DestinationRate
from pbxportal.cli import main
from pbxportal.clock.services import clock_run
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceLine
from pbxportal.voice.models import CallRecord, UsageMonth
from pbxportal.voice.services import usage_invoices_due
from tests.voice.builders import AE_MOBILE, AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld, portal_csv

MARCH = date(2025, 3, 1)
FIXTURES = Path(__file__).parent.parent / "core" / "rating" / "fixtures"


@pytest.fixture
def world(db: Any) -> VoiceWorld:
    return VoiceWorld()


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def import_csv(path: Path) -> int:
    return main(["import-cdrs", str(path), "--format", "csv"])


def record(identity: str) -> CallRecord:
    return CallRecord.objects.get(identity=identity)


def test_four_counted_users_give_a_12000_minute_pool(world: VoiceWorld, tmp_path: Path) -> None:
    # given a PBX with 4 counted users and the CTA1 flat fee
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=4)
    # when a CTA1 call of March is imported
    assert (
        import_csv(portal_csv(tmp_path / "m.csv", [("c1", pbx.serial, at(2), IT_FIXED, 600, "voice")])) == 0
    )
    # then the month's pool holds 12000 minutes, 10 of them used, and the call is free
    usage = UsageMonth.objects.get(pbx=pbx, month=MARCH)
    assert (usage.allowance_seconds, usage.allowance_used) == (12000 * 60, 600)
    assert (record("c1").free_seconds, record("c1").amount) == (600, Decimal("0"))


def test_the_pool_end_splits_a_call_and_a_61_second_call_beyond_costs_2_minutes(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given a PBX with 1 counted user (3000 minutes = 180000 s): 12 calls of 14400 s and one of 7170 s
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    rows = [(f"fill-{n}", pbx.serial, at(1, 1, n), IT_FIXED, 14400, "voice") for n in range(12)]
    rows.append(("fill-last", pbx.serial, at(2), IT_FIXED, 7170, "voice"))
    # and a 100 s call that crosses the end of the pool, then a 61 s call beyond it
    rows += [
        ("crossing", pbx.serial, at(3), IT_FIXED, 100, "voice"),
        ("beyond", pbx.serial, at(4), IT_FIXED, 61, "voice"),
    ]
    # when the file is imported (in reverse order: the pool is consumed in call start order)
    import_csv(portal_csv(tmp_path / "m.csv", list(reversed(rows))))
    # then the crossing call has 30 s free and 70 s charged as 2 started minutes at 0.012
    crossing = record("crossing")
    assert (crossing.free_seconds, crossing.charged_units, crossing.amount) == (30, 2, Decimal("0.024"))
    # and the 61 s call beyond the pool costs 2 minutes
    beyond = record("beyond")
    assert (beyond.free_seconds, beyond.charged_units, beyond.amount) == (0, 2, Decimal("0.024"))
    assert UsageMonth.objects.get(pbx=pbx, month=MARCH).allowance_left == 0


def test_a_61_second_cta3_call_costs_61_seconds_and_a_5_hour_call_is_capped(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given a PBX with the CTA1 flat fee (its pool never covers CTA3)
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    # when a 61 s and a 5-hour call to Australia (CTA3, 0.060 a minute) are imported
    import_csv(
        portal_csv(
            tmp_path / "m.csv",
            [
                ("au-61", pbx.serial, at(2), AU_FIXED, 61, "voice"),
                ("au-5h", pbx.serial, at(3), AU_FIXED, 5 * 3600, "voice"),
            ],
        )
    )
    # then the first costs 61 s at rate/60 and the second is rated as 14400 s and flagged
    assert (record("au-61").charged_units, record("au-61").amount) == (61, Decimal("0.061"))
    capped = record("au-5h")
    assert (capped.billed_seconds, capped.capped, capped.amount) == (14400, True, Decimal("14.4"))


def test_the_cta2_bundle_covers_1000_minutes_and_50_sms_then_charges(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given a PBX with a UAE DID and the CTA2 bundle
    pbx = world.cta2_pbx(start=date(2025, 2, 3))
    # and 60000 s of CTA2 calls (the whole bundle), then one more minute; 50 SMS, then one more
    rows = [(f"ae-{n}", pbx.serial, at(2, 1, n), AE_MOBILE, 14400, "voice") for n in range(4)]
    rows += [
        ("ae-rest", pbx.serial, at(2, 5), AE_MOBILE, 2400, "voice"),
        ("ae-extra", pbx.serial, at(3), AE_MOBILE, 60, "voice"),
    ]
    rows += [(f"sms-{n}", pbx.serial, at(4, 1, n), AE_MOBILE, 0, "sms") for n in range(51)]
    # when they are imported
    import_csv(portal_csv(tmp_path / "m.csv", rows))
    # then the bundle covered 1000 minutes and 50 SMS, and the rest is charged
    usage = UsageMonth.objects.get(pbx=pbx, month=MARCH)
    assert (usage.bundle, usage.allowance_used, usage.sms_used) == ("CTA2", 60000, 50)
    assert record("ae-extra").amount == Decimal("0.09")
    charged_sms = CallRecord.objects.filter(pbx=pbx, kind="sms", amount__gt=0)
    assert [(r.identity, r.amount) for r in charged_sms] == [("sms-50", Decimal("0.06"))]


def test_the_usage_invoice_and_importing_the_same_file_three_times_charges_once(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given a PBX (1 user) with calls of March beyond its pool and to CTA3
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    rows = [(f"fill-{n}", pbx.serial, at(1, 1, n), IT_FIXED, 14400, "voice") for n in range(13)]
    rows += [("au", pbx.serial, at(5), AU_FIXED, 61, "voice")]
    path = portal_csv(tmp_path / "m.csv", rows)
    # when the same file is imported three times and the clock runs through 1 April twice
    for _ in range(3):
        import_csv(path)
    clock_run(until=date(2025, 4, 1), since=date(2025, 3, 31))
    assert usage_invoices_due(day=date(2025, 4, 1)) == 0
    # then 14 records exist and one usage invoice charges the month once
    assert CallRecord.objects.filter(pbx=pbx).count() == 14
    invoice = Invoice.objects.get(source_key=f"usage:{pbx.pk}:2025-03")
    lines = {line.charge_key: line.amount for line in invoice.lines.all()}
    # 13 x 14400 = 187200 s against a 180000 s pool: 7200 s beyond = 120 minutes x 0.012 = 1.44
    assert lines == {
        f"usage:{pbx.pk}:2025-03:CTA1:voice": Decimal("1.44"),
        f"usage:{pbx.pk}:2025-03:CTA3:voice": Decimal("0.06"),
    }
    assert (
        "allowance used 3000 min, left 0 min"
        in invoice.lines.get(charge_key__endswith="CTA1:voice").description
    )


def test_an_unknown_destination_is_an_error_record_with_its_reason(world: VoiceWorld, tmp_path: Path) -> None:
    # given a PBX with the voice trunk
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    # when a call to a destination the rate table does not know is imported
    import_csv(portal_csv(tmp_path / "m.csv", [("jp", pbx.serial, at(2), UNKNOWN, 61, "voice")]))
    # then it is stored as an error with its reason, not as a zero charge
    jp = record("jp")
    assert jp.error == f"unknown destination {UNKNOWN}"
    assert (jp.area, jp.billed_seconds) == ("", 0)
    assert UsageMonth.objects.get(pbx=pbx, month=MARCH).errors == 1


def test_a_malformed_line_is_reported_by_number_and_the_rest_imported(
    world: VoiceWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file whose third line is broken
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    path = portal_csv(
        tmp_path / "m.csv",
        [
            ("ok-1", pbx.serial, at(2), IT_FIXED, 60, "voice"),
            ("ok-2", pbx.serial, at(3), IT_FIXED, 60, "voice"),
        ],
    )
    text = path.read_text().splitlines()
    text.insert(2, f"bad,{pbx.serial},not-a-time,+39061,+39062,5,voice")
    path.write_text("\n".join(text) + "\n")
    # when it is imported
    code = import_csv(path)
    # then line 3 is reported with its reason and both good records are kept
    assert code == 1
    assert f"{path}:3: start is not an ISO 8601 time" in capsys.readouterr().err
    assert set(CallRecord.objects.values_list("identity", flat=True)) == {"ok-1", "ok-2"}


@pytest.mark.parametrize(
    ("fixture", "fmt", "serial", "expected"),
    [
        ("asterisk_16.csv", "asterisk", "PBX-AST16", 2),
        ("asterisk_21.csv", "asterisk", "PBX-IT-1", 2),
        ("freeswitch.csv", "freeswitch", "PBX-FS-1", 2),
    ],
)
def test_asterisk_16_and_21_column_files_and_a_freeswitch_file_import(
    world: VoiceWorld, fixture: str, fmt: str, serial: str, expected: int
) -> None:
    # given a PBX with the voice trunk whose serial the file's records name (or --pbx gives)
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    type(pbx).objects.filter(pk=pbx.pk).update(serial=serial)
    # when the file is imported with its format
    main(
        [
            "import-cdrs",
            str(FIXTURES / fixture),
            "--format",
            fmt,
            "--pbx",
            serial,
            "--timezone",
            "Europe/Rome",
        ]
    )
    # then its answered calls are stored and rated for the PBX
    records = CallRecord.objects.filter(pbx=pbx)
    assert records.filter(error="").count() >= expected
    assert all(record.rated_at is not None for record in records)


def test_rerate_after_a_price_correction_bills_the_difference_without_editing_the_invoice(
    world: VoiceWorld, tmp_path: Path
) -> None:
    # given March usage to Australia (100 calls of 60 s = 6000 s at 0.060/min = 6.00) invoiced on 1 April
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    rows = [(f"au-{n}", pbx.serial, at(2) + timedelta(minutes=n), AU_FIXED, 60, "voice") for n in range(100)]
    import_csv(portal_csv(tmp_path / "m.csv", rows))
    usage_invoices_due(day=date(2025, 4, 1))
    invoice = Invoice.objects.get(source_key=f"usage:{pbx.pk}:2025-03")
    assert invoice.total == Decimal("6.00")
    # when the price is corrected up to 0.072, rerated, rerated again, then corrected down to 0.030
    DestinationRate.objects.filter(book=world.book, prefix="61").update(rate_per_minute=Decimal("0.072"))
    assert main(["rerate", "--month", "2025-03", "--date", "2025-04-10"]) == 0
    main(["rerate", "--month", "2025-03", "--date", "2025-04-10"])
    DestinationRate.objects.filter(book=world.book, prefix="61").update(rate_per_minute=Decimal("0.030"))
    main(["rerate", "--month", "2025-03", "--date", "2025-04-11"])
    # then +1.20 came on a new invoice, -4.20 on a credit note of the usage invoice, once each
    more = Invoice.objects.get(kind=InvoiceKind.INVOICE, source_key__startswith=f"rerate:{pbx.pk}:2025-03:")
    less = Invoice.objects.get(
        kind=InvoiceKind.CREDIT_NOTE, source_key__startswith=f"rerate:{pbx.pk}:2025-03:"
    )
    assert (more.total, less.total, less.credited_invoice_id) == (
        Decimal("1.20"),
        Decimal("-4.20"),
        invoice.pk,
    )
    # and the usage invoice is unchanged
    invoice.refresh_from_db()
    assert invoice.total == Decimal("6.00")
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1


def test_rating_counts_rated_duplicate_and_error_calls_as_metrics(world: VoiceWorld, tmp_path: Path) -> None:
    # given the rating counters (8: metrics) and a file of one good and one unknown destination
    from pbxportal.ops import metrics

    def count(outcome: str) -> float:
        return float(metrics.RATING_CALLS.labels(outcome=outcome)._value.get())

    before = {outcome: count(outcome) for outcome in ("rated", "error", "duplicate")}
    seconds = float(metrics.RATING_SECONDS._value.get())
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    path = portal_csv(
        tmp_path / "m.csv",
        [("ok", pbx.serial, at(2), IT_FIXED, 61, "voice"), ("jp", pbx.serial, at(3), UNKNOWN, 61, "voice")],
    )
    # when it is imported twice
    import_csv(path)
    import_csv(path)
    # then the first import rated one call and errored one; the second found two duplicates
    # and, having stored nothing new, rated nothing again
    assert count("duplicate") - before["duplicate"] == 2
    assert count("rated") - before["rated"] == 1
    assert count("error") - before["error"] == 1
    assert float(metrics.RATING_SECONDS._value.get()) > seconds
