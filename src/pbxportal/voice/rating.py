"""What the rating core needs, read from the database (R-VT-1..7): the rate table of a price
book, the voice terms of the PBX's bundle and its rating context for a month.

The rate table of a book is cached in the process for ``VOICE_RATE_CACHE_SECONDS`` (it changes
with a catalog load); ``rerate`` reads it afresh after a price correction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings

from pbxportal.catalog.models import DestinationRate, Family, PriceBook, PricingModel
from pbxportal.common.timeutil import day_start, vendor_tz
from pbxportal.core.periods import month_of, next_month_start
from pbxportal.core.rating import Cta2Bundle, PbxRatingContext, RateTable, RatingTerms, TariffRow
from pbxportal.pbx.models import Pbx, QuantityChange, Subscription

DEFAULT_MINUTES_PER_USER = 3000
DEFAULT_CTA2 = (1000, 50)
MAX_CALL_SECONDS = 14400  # R-VT-6

_tables: dict[int, tuple[float, RateTable]] = {}


def rate_table(book_id: int, *, fresh: bool = False) -> RateTable:
    """The destinations of a price book as the core's rate table (R-VT-7), cached per book."""
    now = time.monotonic()
    cached = _tables.get(book_id)
    if cached is not None and not fresh and now - cached[0] < settings.VOICE_RATE_CACHE_SECONDS:
        return cached[1]
    currency = PriceBook.objects.values_list("currency", flat=True).get(pk=book_id)
    table = RateTable(
        TariffRow(
            prefix=row.prefix,
            area=row.area,
            kind=row.kind,
            country=row.country,
            rate_per_minute=row.rate_per_minute,
            currency=currency,
            rate_per_sms=row.sms_rate,
        )
        for row in DestinationRate.objects.filter(book_id=book_id)
    )
    _tables[book_id] = (now, table)
    return table


def month_start(at: datetime) -> date:
    """First day of the month holding ``at`` in the vendor's time zone (the allowance month)."""
    return month_of(at, vendor_tz())


def next_month(month: date) -> date:
    return next_month_start(month)


def bundle_subscription(pbx_id: int, month: date) -> Subscription | None:
    """The voice bundle (CTA1 flat fee or CTA2 bundle) the PBX holds in ``month`` (R-VT-5).

    Bundles switch on the 1st (the ticket's month), so one bundle covers a month; the latest
    started one wins when a trunk was ordered again within the month.
    """
    return (
        Subscription.objects.filter(
            pbx_id=pbx_id,
            product__family=Family.VOICE,
            product__pricing_model__in=[PricingModel.BANDED, PricingModel.FLAT],
            started_on__lt=next_month(month),
        )
        .exclude(ended_on__lte=month)
        .select_related("product")
        .order_by("-started_on", "-id")
        .first()
    )


def bundle_of(sub: Subscription) -> str:
    return "CTA2" if sub.product.attributes.get("bundle") == "CTA2" else "CTA1"


def terms_for(sub: Subscription | None) -> RatingTerms:
    """The voice terms of a bundle's product: catalog data, never hard-coded (R-VT-2, R-VT-5)."""
    attributes = sub.product.attributes if sub else {}
    minutes, sms = DEFAULT_CTA2
    return RatingTerms(
        minutes_per_user=int(attributes.get("allowance_minutes_per_user", DEFAULT_MINUTES_PER_USER)),
        cta2_bundle=Cta2Bundle(
            minutes=int(attributes.get("allowance_minutes", minutes)),
            sms=int(attributes.get("allowance_sms", sms)),
        ),
        max_call_seconds=MAX_CALL_SECONDS,
    )


def pool_events(sub: Subscription) -> tuple[tuple[datetime, int], ...]:
    """Counted users over time (R-VT-2): the flat-fee subscription's ledger, which follows the
    counted users from its order on (pbx.services._follow_counted_users)."""
    changes = QuantityChange.objects.filter(subscription=sub).order_by("effective_on", "id")
    return tuple((day_start(change.effective_on), int(change.quantity_after)) for change in changes)


@dataclass(frozen=True)
class MonthRating:
    """Everything to rate one PBX-month: ``context`` is None when it has no voice bundle."""

    context: PbxRatingContext | None
    terms: RatingTerms
    table: RateTable
    currency: str


def month_rating(pbx: Pbx, month: date, *, fresh_rates: bool = False) -> MonthRating:
    sub = bundle_subscription(pbx.pk, month)
    context = None
    if sub is not None:
        context = PbxRatingContext(
            bundle="CTA2" if bundle_of(sub) == "CTA2" else "CTA1",
            pool_events=pool_events(sub),
            region=pbx.customer.country or "IT",
            zone=settings.VENDOR_TIMEZONE,
        )
    book = pbx.partner.price_book
    return MonthRating(
        context=context,
        terms=terms_for(sub),
        table=rate_table(book.pk, fresh=fresh_rates),
        currency=book.currency,
    )
