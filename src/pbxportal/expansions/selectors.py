"""Reads of expansion orders and of a software PBX's services, through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from django.db.models import QuerySet

from pbxportal.accounts.models import BillingContact
from pbxportal.catalog.models import Family, Product
from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.expansions.models import ExpansionOrder
from pbxportal.pbx.models import Subscription, SubscriptionStatus


def order_list(*, actor: Actor) -> QuerySet[ExpansionOrder]:
    return scoped(ExpansionOrder, actor).select_related("pbx", "invoice", "billing_contact")


def order_get(*, actor: Actor, order_id: int) -> ExpansionOrder:
    return get_scoped(
        ExpansionOrder.objects.select_related("pbx", "invoice", "billing_contact"), actor, pk=order_id
    )


def expansion_products() -> QuerySet[Product]:
    """The R-EX-1 services on sale: the catalog's expansion products."""
    return (
        Product.objects.filter(family=Family.EXPANSION, active=True)
        .prefetch_related("plans")
        .order_by("code")
    )


def pbx_services(*, actor: Actor, pbx_id: int) -> QuerySet[Subscription]:
    """The services and plan of a software PBX, with what is still awaiting payment."""
    return (
        scoped(Subscription, actor)
        .filter(pbx_id=pbx_id, status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.ENDED])
        .filter(product__family__in=[Family.EXPANSION, Family.SOFTWARE_PLAN])
        .select_related("product", "plan", "scheduled_plan")
        .order_by("product__family", "product__code", "id")
    )


def billing_contacts(*, actor: Actor) -> QuerySet[BillingContact]:
    return scoped(BillingContact, actor)
