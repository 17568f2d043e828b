"""Reads of PBXs, their subscriptions and ledger, through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from django.db.models import Q, QuerySet

from pbxportal.catalog.models import Family, Plan, Product
from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.pbx import charges
from pbxportal.pbx.models import (
    CorrectionRequest,
    Pbx,
    QuantityChange,
    SshWindow,
    Subscription,
    SubscriptionStatus,
)


def pbx_list(
    *, actor: Actor, search: str = "", customer_id: int | None = None, status: str = ""
) -> QuerySet[Pbx]:
    qs = scoped(Pbx, actor).select_related("customer", "model", "partner")
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(serial__icontains=search) | Q(customer__name__icontains=search)
        )
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def pbx_get(*, actor: Actor, pbx_id: int) -> Pbx:
    return get_scoped(
        Pbx.objects.select_related("customer", "model", "partner__price_book"), actor, pk=pbx_id
    )


def subscription_list(*, actor: Actor, pbx_id: int, include_ended: bool = False) -> QuerySet[Subscription]:
    pbx = pbx_get(actor=actor, pbx_id=pbx_id)
    qs = pbx.subscriptions.select_related("product", "plan", "scheduled_plan")
    return qs if include_ended else qs.filter(status=SubscriptionStatus.ACTIVE)


def subscription_get(*, actor: Actor, subscription_id: int) -> Subscription:
    return get_scoped(
        Subscription.objects.select_related("pbx", "product", "plan"), actor, pk=subscription_id
    )


def ledger(*, actor: Actor, pbx_id: int) -> QuerySet[QuantityChange]:
    pbx = pbx_get(actor=actor, pbx_id=pbx_id)
    return pbx.quantity_changes.select_related("subscription__product", "actor").order_by("id")


def ledger_replay(pbx: Pbx) -> dict[int, int]:
    """Replay the ledger: subscription id -> quantity (must equal the subscriptions' quantities)."""
    totals: dict[int, int] = defaultdict(int)
    for change in pbx.quantity_changes.order_by("id"):
        totals[change.subscription_id] += change.delta
    return dict(totals)


def ssh_windows(*, actor: Actor, pbx_id: int) -> QuerySet[SshWindow]:
    return pbx_get(actor=actor, pbx_id=pbx_id).ssh_windows.select_related("opened_by")


def ssh_is_open(*, actor: Actor, pbx_id: int, now: datetime) -> bool:
    """Whether an SSH window of the PBX is open now (the page offers "Close SSH now" only then)."""
    return ssh_windows(actor=actor, pbx_id=pbx_id).filter(closed_at__isnull=True, closes_at__gt=now).exists()


def correction_list(
    *, actor: Actor, status: str = "", pbx_id: int | None = None
) -> QuerySet[CorrectionRequest]:
    qs = scoped(CorrectionRequest, actor).select_related("pbx", "pbx__partner", "filed_by")
    if pbx_id:
        qs = qs.filter(pbx_id=pbx_id)
    return qs.filter(status=status) if status else qs


def correction_get(*, actor: Actor, correction_id: int) -> CorrectionRequest:
    return get_scoped(
        CorrectionRequest.objects.select_related("pbx", "pbx__partner"), actor, pk=correction_id
    )


def expiry(pbx: Pbx, today: date) -> date | None:
    return charges.expires_on(pbx, today)


def orderable_products(*families: str) -> list[Product]:
    """The active catalog products of the given families (the choices of the PBX forms)."""
    return list(Product.objects.filter(family__in=families, active=True).order_by("family", "code"))


# The PBX page sells these services; hardware (HWaaS orders), numbers (number orders), one-off fees
# and software-PBX expansions (the expansions page) are ordered on their own pages (R-UI-1).
PBX_PAGE_SERVICES = (Family.VOICE, Family.STORAGE)


def buyable_products(*families: str, book_id: int, term: str = "") -> list[Product]:
    """The active products of the families that have a price in the book (for ``term`` when
    given): what a partner can actually buy, so nothing offered ends in "No price in price book"."""
    plans = Plan.objects.filter(prices__book_id=book_id)
    if term:
        plans = plans.filter(term=term)
    return list(
        Product.objects.filter(family__in=families, active=True, plans__in=plans)
        .distinct()
        .order_by("family", "code")
    )


def pbx_page_services(pbx: Pbx) -> list[Product]:
    """The services the PBX page offers this PBX: voice, and storage for a cloud PBX, priced in the
    partner's book for the PBX's term."""
    families = [f for f in PBX_PAGE_SERVICES if f != Family.STORAGE or pbx.is_cloud]
    return buyable_products(*families, book_id=pbx.partner.price_book_id, term=pbx.term)


def new_pbx_models(actor: Actor) -> list[Product]:
    """The PBX models and software plans a partner can buy (priced in its book); staff see all."""
    partner = actor.user.partner
    if partner is None:
        return orderable_products(Family.PBX, Family.SOFTWARE_PLAN)
    return buyable_products(Family.PBX, Family.SOFTWARE_PLAN, book_id=partner.price_book_id)
