"""The vectorised rater gives exactly the reference's results (R-VT-2 to R-VT-7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxportal.core.rating.allowance import Cta2Bundle, zone
from pbxportal.core.rating.rate import Call, CallKind, PbxRatingContext, RatingTerms, rate_calls, summarise
from pbxportal.core.rating.tariff import RateTable
from pbxportal.core.rating.vectorised import calls_to_batch, local_to_utc_us, rate_batch, to_epoch_us
from tests.core.rating.builders import (
    AE_MOBILE,
    AU_FIXED,
    CU_ANY,
    GB_FIXED,
    GB_MOBILE,
    GB_MOBILE_CTA3,
    ICELAND,
    IN_ANY,
    IT_FIXED,
    MARCH,
    NG_ANY,
    TABLE,
    TERMS,
    US_ANY,
    call,
    context,
)

CALLEES = [
    GB_FIXED,
    GB_MOBILE,
    GB_MOBILE_CTA3,
    IT_FIXED,
    AE_MOBILE,
    AU_FIXED,
    US_ANY,
    IN_ANY,
    NG_ANY,
    CU_ANY,
    ICELAND,  # unknown destination
    "020 7946 0000",  # national in GB, invalid or foreign elsewhere
    "0612345678",  # national in IT
    "050 123 4567",  # national in AE
    "0044 7911 123456",
    "00 971 4 234 5678",
    "011 44 20 7946 0000",
    "s",
    "1001",
    "",
]
ZONES = ["UTC", "Europe/Rome", "America/New_York", "Asia/Dubai"]
SPAN = timedelta(days=92)  # March to May: several months per PBX


def assert_identical(
    calls: list[Call], contexts: dict[str, PbxRatingContext], terms: RatingTerms, table: RateTable = TABLE
) -> None:
    reference = rate_calls(calls, contexts=contexts, table=table, terms=terms)
    batch = rate_batch(calls_to_batch(calls), contexts=contexts, table=table, terms=terms)
    vectorised = batch.to_rated_calls()
    assert vectorised == list(reference.calls)
    assert [str(rated.amount) for rated in vectorised] == [str(rated.amount) for rated in reference.calls]
    assert batch.allowances == dict(reference.allowances)
    assert batch.usage_lines() == summarise(reference.calls, reference.allowances)


@st.composite
def contexts_strategy(draw: st.DrawFn) -> dict[str, PbxRatingContext]:
    contexts = {}
    for pbx in ("A", "B", "C"):
        events = draw(
            st.lists(
                st.tuples(st.integers(-20 * 86400, int(SPAN.total_seconds())), st.integers(0, 4)),
                max_size=4,
            )
        )
        contexts[pbx] = PbxRatingContext(
            bundle=draw(st.sampled_from(["CTA1", "CTA2"])),
            pool_events=tuple((MARCH + timedelta(seconds=offset), users) for offset, users in events),
            region=draw(st.sampled_from(["GB", "IT", "AE", "US"])),
            zone=draw(st.sampled_from(ZONES)),
        )
    return contexts


_call_fields = st.tuples(
    st.sampled_from(["voice", "voice", "voice", "sms"]),
    st.one_of(st.integers(0, 400), st.integers(14000, 20000), st.just(61)),
    st.sampled_from([None, None, "dup", "a", "b"]),  # None: a unique id
    st.sampled_from(["A", "B", "C", "X"]),  # X has no context
    st.integers(0, 11),
    st.sampled_from(CALLEES),
)


@st.composite
def calls_strategy(draw: st.DrawFn) -> list[Call]:
    # Few distinct start times so that ties and same-second calls happen.
    starts = draw(st.lists(st.integers(0, int(SPAN.total_seconds()) * 10**6), min_size=1, max_size=12))
    calls = []
    for index, (kind, billsec, call_id, pbx, start, callee) in enumerate(
        draw(st.lists(_call_fields, max_size=60))
    ):
        call_kind: CallKind = "sms" if kind == "sms" else "voice"
        calls.append(
            Call(
                call_id=call_id or f"id-{index}",
                pbx=pbx,
                start=MARCH + timedelta(microseconds=starts[start % len(starts)]),
                caller="+441134960000",
                callee=callee,
                billsec=billsec,
                kind=call_kind,
            )
        )
    return calls


terms_strategy = st.builds(
    RatingTerms,
    minutes_per_user=st.integers(0, 5),
    cta2_bundle=st.builds(Cta2Bundle, minutes=st.integers(0, 5), sms=st.integers(0, 3)),
    max_call_seconds=st.sampled_from([14400, 100]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=calls_strategy(), contexts=contexts_strategy(), terms=terms_strategy)
def test_vectorised_rating_is_identical_to_the_reference(
    calls: list[Call], contexts: dict[str, PbxRatingContext], terms: RatingTerms
) -> None:
    # given random calls of several PBXs over several months, small pools that calls cross,
    # overlapping prefixes, unknown and invalid numbers, capped calls and same-time calls
    # when both raters rate them / then every field, allowance and usage line is the same
    assert_identical(calls, contexts, terms)


def test_worked_examples_agree() -> None:
    # the crossing example of test_rate, through both raters
    calls = [call(GB_FIXED, 14000, minutes=index * 300) for index in range(50)]
    calls += [call(GB_FIXED, 14400, minutes=50 * 300), call(GB_FIXED, 6000, minutes=51 * 300)]
    calls += [call(AU_FIXED, 61, minutes=1), call(GB_FIXED, 5 * 3600, minutes=2), call(ICELAND, 10)]
    assert_identical(calls, {"PBX-1": context(users=4)}, TERMS)


def test_an_empty_batch_rates_to_nothing() -> None:
    batch = rate_batch(calls_to_batch([]), contexts={}, table=TABLE, terms=TERMS)
    assert batch.to_rated_calls() == [] and batch.usage_lines() == [] and batch.allowances == {}


def test_amounts_are_micro_units() -> None:
    batch = rate_batch(
        calls_to_batch([call(AU_FIXED, 61)]), contexts={"PBX-1": context()}, table=TABLE, terms=TERMS
    )
    assert batch.amount_micro.tolist() == [40667]
    assert batch.to_rated_calls()[0].amount == Decimal("0.040667")


@pytest.mark.parametrize(
    "zone_name", ["Europe/Rome", "Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"]
)
def test_local_times_convert_like_zoneinfo_across_dst_changes(zone_name: str) -> None:
    # (DST changes of these zones happen between 01:00 and 03:00 local: gaps and overlaps)
    tz = zone(zone_name)
    # given wall-clock times every 433 s between 00:00 and 05:00 on every day of 2025
    walls = [
        datetime(2025, 1, 1, tzinfo=tz) + timedelta(days=day, seconds=433 * step)
        for day in range(365)
        for step in range(42)
    ]
    local_us = np.array([to_epoch_us(wall.replace(tzinfo=UTC)) for wall in walls], dtype=np.int64)
    # when converted in bulk / then each equals zoneinfo's fold=0 reading
    expected = [to_epoch_us(wall) for wall in walls]
    assert local_to_utc_us(local_us, zone_name).tolist() == expected


def test_batches_are_validated() -> None:
    bad = calls_to_batch([call(GB_FIXED, 1)])
    with pytest.raises(ValueError, match="kind"):
        rate_batch(bad.set_column(6, "kind", pa.array(["fax"])), contexts={}, table=TABLE, terms=TERMS)
    with pytest.raises(ValueError, match="negative"):
        rate_batch(
            bad.set_column(5, "billsec", pa.array([-1], pa.int64())), contexts={}, table=TABLE, terms=TERMS
        )
