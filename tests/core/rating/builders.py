"""Fixture builders of the rating tests: a rate table with overlapping prefixes, calls, contexts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pbxportal.core.rating.allowance import Cta2Bundle, UserCountEvent
from pbxportal.core.rating.rate import Bundle, Call, CallKind, PbxRatingContext, RatingTerms
from pbxportal.core.rating.tariff import RateTable, TariffRow

FIXTURES = Path(__file__).parent / "fixtures"

MARCH = datetime(2025, 3, 1, tzinfo=UTC)
BEFORE_MARCH = MARCH - timedelta(days=10)

# Invented prices. 44 / 447 / 4479 overlap (fixed, mobile, a mobile range in another area).
TABLE_ROWS: tuple[TariffRow, ...] = (
    TariffRow("44", "CTA1", "fixed", "GB", Decimal("0.010000"), "EUR", Decimal("0.05")),
    TariffRow("447", "CTA1", "mobile", "GB", Decimal("0.030000"), "EUR", Decimal("0.05")),
    TariffRow("4479", "CTA3", "mobile", "GB", Decimal("0.120000"), "EUR"),
    TariffRow("39", "CTA1", "fixed", "IT", Decimal("0.012"), "EUR", Decimal("0.06")),
    TariffRow("393", "CTA1", "mobile", "IT", Decimal("0.025"), "EUR", Decimal("0.06")),
    TariffRow("971", "CTA2", "fixed", "AE", Decimal("0.090000"), "EUR", Decimal("0.08")),
    TariffRow("9715", "CTA2", "mobile", "AE", Decimal("0.110000"), "EUR", Decimal("0.08")),
    TariffRow("61", "CTA3", "fixed", "AU", Decimal("0.040000"), "EUR"),
    TariffRow("1", "CTA1", "any", "US", Decimal("0.009"), "USD", Decimal("0.04")),
    TariffRow("91", "CTA4", "any", "IN", Decimal("0.045"), "EUR"),
    TariffRow("234", "CTA5", "any", "NG", Decimal("0.21"), "EUR"),
    TariffRow("53", "CTA6", "any", "CU", Decimal("0.8"), "EUR"),
    TariffRow("81", "CTA3", "any", "JP", Decimal("0.24"), "JPY"),
)
TABLE = RateTable(TABLE_ROWS)

# E.164 numbers of each row above, and one unknown destination (Iceland).
GB_FIXED = "+442079460000"
GB_MOBILE = "+447700900123"
GB_MOBILE_CTA3 = "+447911123456"
IT_FIXED = "+390612345678"
AE_MOBILE = "+971501234567"
AU_FIXED = "+61293744000"
US_ANY = "+12125550123"
IN_ANY = "+919876543210"
NG_ANY = "+2348021234567"
CU_ANY = "+5351234567"
ICELAND = "+3545512345"

TERMS = RatingTerms(minutes_per_user=3000, cta2_bundle=Cta2Bundle(minutes=1000, sms=50))

_ids = itertools.count(1)


def context(
    *,
    users: int = 4,
    bundle: Bundle = "CTA1",
    region: str = "GB",
    zone: str = "UTC",
    events: tuple[UserCountEvent, ...] | None = None,
) -> PbxRatingContext:
    """A PBX's rating context; by default 4 counted users since before March."""
    return PbxRatingContext(
        bundle=bundle,
        pool_events=events if events is not None else ((BEFORE_MARCH, users),),
        region=region,
        zone=zone,
    )


def call(
    callee: str,
    billsec: int = 60,
    *,
    at: datetime | None = None,
    minutes: float = 0,
    pbx: str = "PBX-1",
    kind: CallKind = "voice",
    call_id: str | None = None,
) -> Call:
    """A call of PBX-1 in March (``minutes`` after 1 March 00:00 UTC unless ``at`` is given)."""
    return Call(
        call_id=call_id or f"call-{next(_ids):06d}",
        pbx=pbx,
        start=at or MARCH + timedelta(minutes=minutes),
        caller="+441134960000",
        callee=callee,
        billsec=billsec,
        kind=kind,
    )
