"""Reads of the catalog: price books a caller may see and their priced items (R-CAT-4)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from pbxportal.catalog.models import DestinationRate, Plan, Price, PriceBook
from pbxportal.common.actor import Actor
from pbxportal.common.errors import NotFound


@dataclass(frozen=True)
class PriceItem:
    """One priced item of a book: a plan price (per band where banded) or a destination rate."""

    code: str
    product: str
    family: str
    description: str
    term: str
    band: str
    unit: str
    pricing_model: str
    amount: Decimal
    currency: str
    price_id: int | None = None  # the editable row (staff pages); None for destination rates


EXPORT_COLUMNS = [
    "code",
    "product",
    "family",
    "description",
    "term",
    "band",
    "unit",
    "pricing_model",
    "amount",
    "currency",
]


def price_book_list(*, actor: Actor) -> QuerySet[PriceBook]:
    """A partner sees its own book only; staff see every book."""
    if actor.is_partner:
        return PriceBook.objects.filter(partners__id=actor.own_partner_id)
    if actor.is_staff:
        return PriceBook.objects.all()
    return PriceBook.objects.none()


def price_book_get(*, actor: Actor, code: str) -> PriceBook:
    book = price_book_list(actor=actor).filter(code=code).first()
    if book is None:
        raise NotFound(f"Price book {code!r} not found.")
    return book


def price_items(*, book: PriceBook, search: str = "", family: str = "") -> list[PriceItem]:
    """The book's priced items, filtered by code/description text and product family."""
    prices = (
        Price.objects.filter(book=book).select_related("plan__product").order_by("plan__code", "band_min")
    )
    rates = DestinationRate.objects.filter(book=book).order_by("prefix")
    if family:
        prices = prices.filter(plan__product__family=family)
        if family != "voice":
            rates = rates.none()
    if search:
        prices = prices.filter(
            Q(plan__code__icontains=search)
            | Q(plan__description__icontains=search)
            | Q(plan__product__name__icontains=search)
            | Q(plan__product__code__icontains=search)
        )
    items = [
        PriceItem(
            code=p.plan.code,
            product=p.plan.product.code,
            family=p.plan.product.family,
            description=p.plan.description or p.plan.product.name,
            term=p.plan.term,
            band=p.band_label,
            unit=p.plan.product.unit,
            pricing_model=p.plan.product.pricing_model,
            amount=p.amount,
            currency=book.currency,
            price_id=p.pk,
        )
        for p in prices
    ]
    needle = search.lower()
    for r in rates:
        code = f"CALL-{r.area}-{r.prefix}"
        description = f"Call termination +{r.prefix} {r.country} {r.kind} ({r.area}), per minute"
        if needle and needle not in code.lower() and needle not in description.lower():
            continue
        items.append(
            PriceItem(
                code=code,
                product="CLASSOUND-CALLS",
                family="voice",
                description=description,
                term="usage",
                band="",
                unit="minute",
                pricing_model="usage",
                amount=r.rate_per_minute,
                currency=book.currency,
            )
        )
    return items


def plan_price(*, book: PriceBook, plan: Plan, units: int | None = None) -> Price:
    """The price of a plan in a book; for banded plans, the band the ``units`` fall in (R-CAT-5)."""
    prices = Price.objects.filter(book=book, plan=plan)
    if units is not None and prices.filter(band_min__isnull=False).exists():
        price = (
            prices.filter(band_min__lte=max(units, 1))
            .filter(Q(band_max__isnull=True) | Q(band_max__gte=max(units, 1)))
            .first()
        )
    else:
        price = prices.filter(band_min__isnull=True).first()
    if price is None:
        raise NotFound(f"No price for {plan.code} in price book {book.code}.", rule="R-CAT-4")
    return price
