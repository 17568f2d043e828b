"""The reference per-call rating: the seed's worked examples and the rules around them (R-VT-2..7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pbxportal.core.rating.allowance import Cta2Bundle
from pbxportal.core.rating.rate import (
    Call,
    PbxRatingContext,
    RatedCall,
    RatingRun,
    RatingTerms,
    rate_calls,
    summarise,
)
from pbxportal.core.rating.tariff import RateTable, TariffRow
from tests.core.rating.builders import (
    AE_MOBILE,
    AU_FIXED,
    BEFORE_MARCH,
    GB_FIXED,
    GB_MOBILE_CTA3,
    ICELAND,
    IT_FIXED,
    MARCH,
    TABLE,
    TERMS,
    call,
    context,
)


def rate(
    calls: list[Call],
    ctx: PbxRatingContext | None = None,
    *,
    terms: RatingTerms = TERMS,
    table: RateTable = TABLE,
) -> RatingRun:
    return rate_calls(calls, contexts={"PBX-1": ctx or context()}, table=table, terms=terms)


def only(run: RatingRun) -> RatedCall:
    (rated,) = run.calls
    return rated


# -- worked examples -----------------------------------------------------------------------


def test_four_counted_users_get_a_12000_minute_pool() -> None:
    # given a PBX with 4 counted users / when it makes one CTA1 call in March
    run = rate([call(GB_FIXED, 600)], context(users=4))
    # then its March pool is 12000 minutes, 10 of them used
    usage = run.allowances[("PBX-1", "2025-03")]
    assert (usage.seconds_total, usage.seconds_used, usage.seconds_left) == (720000, 600, 719400)
    assert only(run).free_seconds == 600
    assert only(run).amount == 0


def test_a_call_crossing_the_end_of_the_pool_is_split_exactly() -> None:
    # given 4 users (720000 s): 50 calls of 14000 s and one of 14400 s leave 5600 s
    calls = [call(GB_FIXED, 14000, minutes=index * 300) for index in range(50)]
    calls.append(call(GB_FIXED, 14400, minutes=50 * 300))
    # when a 6000-second CTA1 call follows
    crossing = call(GB_FIXED, 6000, minutes=51 * 300)
    run = rate([*calls, crossing])
    # then 5600 s are free and the other 400 s are charged per started minute: 7 x 0.01
    rated = run.calls[-1]
    assert (rated.billed_seconds, rated.free_seconds, rated.charged_units, rated.unit) == (
        6000,
        5600,
        7,
        "minute",
    )
    assert rated.amount == Decimal("0.07")
    assert run.allowances[("PBX-1", "2025-03")].seconds_left == 0


def test_a_61_second_cta1_call_beyond_the_pool_costs_2_minutes() -> None:
    # given a PBX whose pool is empty (no counted users)
    rated = only(rate([call(GB_FIXED, 61)], context(users=0)))
    # then 61 s are two started minutes at the CTA1 rate of the destination
    assert (rated.area, rated.charged_units, rated.unit, rated.free_seconds) == ("CTA1", 2, "minute", 0)
    assert rated.amount == Decimal("0.020000")


def test_a_61_second_cta3_call_costs_61_seconds_at_rate_over_60() -> None:
    # when a CTA3 call of 61 s is rated (CTA3 never draws the pool)
    rated = only(rate([call(AU_FIXED, 61)], context(users=4)))
    # then it is 61 x 0.04 / 60 = 0.0406666... kept at 6 decimals, half up
    assert (rated.area, rated.charged_units, rated.unit, rated.free_seconds) == ("CTA3", 61, "second", 0)
    assert str(rated.amount) == "0.040667"


def test_the_cta2_bundle_covers_1000_minutes_and_50_sms_then_charges() -> None:
    # given a PBX with the CTA2 bundle (a UAE DID)
    ctx = context(bundle="CTA2", region="AE", users=4)
    hours = [call(AE_MOBILE, 3600, minutes=index * 70) for index in range(16)]  # 57600 s
    crossing = call(AE_MOBILE, 3000, minutes=16 * 70)  # 2400 s left in the bundle
    after = call(AE_MOBILE, 61, minutes=17 * 70)
    texts = [call(AE_MOBILE, 0, minutes=2000 + index, kind="sms") for index in range(51)]
    cta1 = call(GB_FIXED, 61, minutes=3000)  # no CTA1 pool with the CTA2 bundle
    # when rated
    run = rate([*hours, crossing, after, *texts, cta1], ctx)
    by_id = {rated.call_id: rated for rated in run.calls}
    # then the bundle covers 1000 minutes, split exactly, then per second at rate/60
    assert all(by_id[c.call_id].amount == 0 for c in hours)
    assert (by_id[crossing.call_id].free_seconds, by_id[crossing.call_id].charged_units) == (2400, 600)
    assert by_id[crossing.call_id].amount == Decimal("1.100000")  # 600 x 0.11 / 60
    assert by_id[after.call_id].amount == Decimal("0.111833")  # 61 x 0.11 / 60
    # and 50 SMS, the 51st is charged
    assert [by_id[t.call_id].charged_units for t in texts] == [0] * 50 + [1]
    assert by_id[texts[-1].call_id].amount == Decimal("0.08")
    # and CTA1 calls are charged from the first second, per started minute
    assert (by_id[cta1.call_id].free_seconds, by_id[cta1.call_id].charged_units) == (0, 2)
    usage = run.allowances[("PBX-1", "2025-03")]
    assert (usage.bundle, usage.seconds_total, usage.seconds_used, usage.sms_total, usage.sms_used) == (
        "CTA2",
        60000,
        60000,
        50,
        50,
    )


def test_a_five_hour_call_is_rated_as_14400_seconds_and_flagged() -> None:
    # given an empty pool / when a 5-hour CTA1 call is rated
    rated = only(rate([call(GB_FIXED, 5 * 3600)], context(users=0)))
    # then 14400 s are rated (240 started minutes) and the call is flagged
    assert (rated.billed_seconds, rated.charged_units, rated.capped) == (14400, 240, True)
    assert rated.amount == Decimal("2.40")


def test_a_capped_call_draws_only_4_hours_from_the_pool() -> None:
    run = rate([call(GB_FIXED, 20000)], context(users=4))
    assert (only(run).free_seconds, only(run).capped, only(run).amount) == (14400, True, 0)
    assert run.allowances[("PBX-1", "2025-03")].seconds_used == 14400


def test_a_call_of_exactly_4_hours_is_not_flagged() -> None:
    assert only(rate([call(AU_FIXED, 14400)])).capped is False


def test_users_added_mid_month_grow_the_pool_at_once() -> None:
    # given 1 counted user, 3 from 15 March; 1 minute per user (catalog data)
    terms = RatingTerms(minutes_per_user=1, cta2_bundle=Cta2Bundle(minutes=1000, sms=50))
    added = MARCH + timedelta(days=14)
    ctx = context(events=((BEFORE_MARCH, 1), (added, 3)))
    before = call(GB_FIXED, 100, at=MARCH + timedelta(days=1))
    after = call(GB_FIXED, 100, at=added)
    # when rated
    run = rate([before, after], ctx, terms=terms)
    # then the first call has 60 s free; the second gets the 120 s the new users added
    assert [(rated.free_seconds, rated.charged_units) for rated in run.calls] == [(60, 1), (100, 0)]
    assert run.allowances[("PBX-1", "2025-03")].seconds_total == 180


def test_unknown_destination_is_an_error_record_never_a_zero() -> None:
    # when a call to a destination missing from the rate table is rated
    run = rate([call(ICELAND, 120), call(GB_FIXED, 60)], context(users=0))
    unknown = run.calls[0]
    # then it is an error record with the number, and it draws no allowance
    assert unknown.error == "unknown destination +3545512345"
    assert (unknown.area, unknown.charged_units, unknown.unit, unknown.currency) == (None, 0, None, None)
    assert summarise(run.calls, run.allowances)[0].calls == 1


@pytest.mark.parametrize(
    ("rated_call", "error"),
    [
        (call("s", 10), "invalid number 's': letters are not a dialled number"),
        (call("1001", 10), "invalid number '1001': local number without its area code"),
        (call(AU_FIXED, 0, kind="sms"), "no SMS rate for destination +61293744000"),
        (call(GB_FIXED, 10, pbx="PBX-9"), "no rating context for PBX 'PBX-9'"),
    ],
)
def test_other_unratable_calls_are_error_records(rated_call: Call, error: str) -> None:
    assert only(rate([rated_call])).error == error


def test_calls_draw_the_pool_in_start_order_whatever_the_input_order() -> None:
    # given a 60-second pool and two calls listed latest first
    terms = RatingTerms(minutes_per_user=1, cta2_bundle=Cta2Bundle(minutes=0, sms=0))
    late, early = call(GB_FIXED, 60, minutes=10), call(GB_FIXED, 60, minutes=5)
    # when rated
    run = rate([late, early], context(users=1), terms=terms)
    # then the earlier call got the pool; results stay in input order
    assert [(rated.call_id, rated.free_seconds) for rated in run.calls] == [
        (late.call_id, 0),
        (early.call_id, 60),
    ]


def test_calls_starting_together_draw_by_call_id() -> None:
    terms = RatingTerms(minutes_per_user=1, cta2_bundle=Cta2Bundle(minutes=0, sms=0))
    second, first = call(GB_FIXED, 60, call_id="b"), call(GB_FIXED, 60, call_id="a")
    run = rate([second, first], context(users=1), terms=terms)
    assert [rated.free_seconds for rated in run.calls] == [0, 60]


def test_each_month_has_its_own_pool_and_nothing_carries_over() -> None:
    terms = RatingTerms(minutes_per_user=1, cta2_bundle=Cta2Bundle(minutes=0, sms=0))
    march, april = call(GB_FIXED, 10, at=MARCH), call(GB_FIXED, 90, at=datetime(2025, 4, 2, tzinfo=UTC))
    run = rate([march, april], context(users=1), terms=terms)
    assert [rated.period for rated in run.calls] == ["2025-03", "2025-04"]
    assert [rated.free_seconds for rated in run.calls] == [10, 60]
    assert run.allowances[("PBX-1", "2025-03")].seconds_left == 50


def test_the_month_is_taken_in_the_pbx_zone() -> None:
    # 31 March 22:30 UTC is 1 April 00:30 in Rome
    rated = only(
        rate([call(IT_FIXED, 60, at=datetime(2025, 3, 31, 22, 30, tzinfo=UTC))], context(zone="Europe/Rome"))
    )
    assert rated.period == "2025-04"


def test_a_cta1_mobile_range_in_another_area_is_rated_there() -> None:
    # 4479 is CTA3 in the table although 447 is CTA1: longest prefix decides
    rated = only(rate([call(GB_MOBILE_CTA3, 60)], context(users=4)))
    assert (rated.area, rated.free_seconds, rated.amount) == ("CTA3", 0, Decimal("0.12"))


# -- usage lines ----------------------------------------------------------------------------


def test_usage_lines_round_once_per_line_not_per_call() -> None:
    # given three 6-second CTA3 calls of 0.004 each (0.00 if each were rounded to cents)
    run = rate([call(AU_FIXED, 6, minutes=index) for index in range(3)])
    assert [str(rated.amount) for rated in run.calls] == ["0.004000"] * 3
    # when summarised / then the line is 0.012 rounded once: 0.01
    (line,) = summarise(run.calls, run.allowances)
    assert (line.area, line.calls, line.seconds, line.billable_seconds, line.amount) == (
        "CTA3",
        3,
        18,
        18,
        Decimal("0.01"),
    )
    assert (line.allowance_used, line.allowance_left) == (None, None)


@pytest.mark.parametrize(
    ("rate_per_minute", "currency", "seconds", "line_amount"),
    [
        (Decimal("0.3"), "EUR", 1, "0.01"),  # 0.005 rounds half up
        (Decimal("0.3"), "EUR", 3, "0.02"),  # 0.015
        (Decimal("0.24"), "JPY", 100, "0"),  # 0.4 yen, no minor unit
        (Decimal("0.3"), "KWD", 1, "0.005"),  # 3 decimals
    ],
)
def test_usage_lines_round_to_the_currency_minor_unit_half_up(
    rate_per_minute: Decimal, currency: str, seconds: int, line_amount: str
) -> None:
    table = RateTable([TariffRow("61", "CTA3", "fixed", "AU", rate_per_minute, currency)])
    run = rate([call(AU_FIXED, seconds)], table=table)
    assert str(summarise(run.calls)[0].amount) == line_amount


def test_usage_lines_show_the_allowance_used_and_left() -> None:
    # given 4 users: one CTA1 call in the pool, one CTA1 mobile, one CTA3 call
    run = rate([call(GB_FIXED, 600), call("+447700900123", 60, minutes=20), call(AU_FIXED, 60, minutes=30)])
    lines = summarise(run.calls, run.allowances)
    # then the CTA1 line shows the pool; the CTA3 line draws none
    cta1, cta3 = lines
    assert (cta1.area, cta1.calls, cta1.seconds, cta1.billable_seconds, cta1.amount) == (
        "CTA1",
        2,
        660,
        0,
        Decimal("0.00"),
    )
    assert (cta1.allowance_used, cta1.allowance_left) == (660, 720000 - 660)
    assert (cta3.area, cta3.allowance_used, cta3.amount) == ("CTA3", None, Decimal("0.04"))


def test_started_minutes_count_60_billable_seconds() -> None:
    run = rate([call(GB_FIXED, 61)], context(users=0))
    (line,) = summarise(run.calls)
    assert (line.seconds, line.billable_seconds, line.amount) == (61, 120, Decimal("0.02"))


# -- inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": datetime(2025, 3, 1)}, "timezone-aware"),  # noqa: DTZ001
        ({"billsec": -1}, "billsec"),
        ({"billsec": 1.5}, "billsec"),
        ({"kind": "fax"}, "kind"),
        ({"call_id": ""}, "call_id"),
    ],
)
def test_calls_are_validated(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "call_id": "c",
        "pbx": "PBX-1",
        "start": MARCH,
        "caller": "",
        "callee": GB_FIXED,
        "billsec": 1,
        "kind": "voice",
    }
    with pytest.raises(ValueError, match=message):
        Call(**{**fields, **changes})  # type: ignore[arg-type]


def test_contexts_are_validated() -> None:
    with pytest.raises(ValueError, match="bundle"):
        PbxRatingContext(bundle="CTA3", pool_events=(), region="GB")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="counted users"):
        PbxRatingContext(bundle="CTA1", pool_events=((MARCH, -1),), region="GB")
    with pytest.raises(Exception, match="Nowhere"):
        PbxRatingContext(bundle="CTA1", pool_events=(), region="GB", zone="Nowhere/Land")
