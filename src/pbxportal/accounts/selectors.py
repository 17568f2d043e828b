"""Reads of the accounts domain, all through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from pbxportal.accounts.models import ApiToken, BillingContact, Customer, Invitation, Partner, User
from pbxportal.common.actor import Actor
from pbxportal.common.errors import Forbidden
from pbxportal.common.models import AuditEvent
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.common.timeutil import day_end, day_start


def customer_list(*, actor: Actor, search: str = "") -> QuerySet[Customer]:
    qs = scoped(Customer, actor).select_related("partner")
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(vat_number__icontains=search) | Q(city__icontains=search)
        )
    return qs


def customer_get(*, actor: Actor, customer_id: int) -> Customer:
    return get_scoped(Customer.objects.select_related("partner"), actor, pk=customer_id)


def billing_contact_list(*, actor: Actor) -> QuerySet[BillingContact]:
    return scoped(BillingContact, actor)


def billing_contact_get(*, actor: Actor, contact_id: int) -> BillingContact:
    return get_scoped(BillingContact, actor, pk=contact_id)


def api_token_list(*, actor: Actor) -> QuerySet[ApiToken]:
    """A partner's tokens; for staff the service tokens (a vendor admin's: all of them)."""
    if actor.is_staff:
        qs = ApiToken.objects.filter(partner__isnull=True)
        if actor.staff_role != "vendor_admin":
            qs = qs.filter(user=actor.user)
        return qs.select_related("user")
    return scoped(ApiToken, actor).select_related("user")


def partner_list(*, actor: Actor) -> QuerySet[Partner]:
    return scoped(Partner, actor).select_related("price_book", "area_manager")


def partner_get(*, actor: Actor, partner_id: int) -> Partner:
    return get_scoped(Partner.objects.select_related("price_book", "area_manager"), actor, pk=partner_id)


def partner_user_list(*, actor: Actor, partner_id: int | None = None) -> QuerySet[User]:
    """The users of the actor's partner (staff: of the partner given, within their scope)."""
    if actor.is_partner:
        partner_id = actor.own_partner_id
    else:
        partner_id = partner_get(actor=actor, partner_id=int(partner_id or 0)).pk
    return User.objects.filter(partner_id=partner_id).order_by("-is_active", "username")


def invitation_list(*, actor: Actor, partner_id: int | None = None) -> QuerySet[Invitation]:
    qs = scoped(Invitation, actor).filter(accepted_at__isnull=True).select_related("invited_by")
    return qs.filter(partner_id=partner_id) if partner_id else qs


AUDIT_FILTERS = ("action", "actor", "object_type", "partner", "since", "until")


def audit_event_list(
    *,
    actor: Actor,
    action: str = "",
    actor_name: str = "",
    object_type: str = "",
    partner_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events the actor may read (R-TEN-1): a partner's admins see their partner's, area
    managers their partners', vendor admins all (with the vendor's own, partner-less events).
    ``since``/``until`` are the vendor's days, the period half-open [since, until + 1 day)."""
    if actor.is_partner and actor.partner_role != "admin":
        raise Forbidden("The audit trail is for a partner's admins.")
    qs = scoped(AuditEvent, actor)
    if actor.is_staff and actor.staff_role == "vendor_admin":
        qs = AuditEvent.objects.all()
    qs = qs.select_related("actor", "partner")
    if action:
        qs = qs.filter(action__icontains=action)
    if actor_name:
        qs = qs.filter(actor__username__icontains=actor_name)
    if object_type:
        qs = qs.filter(object_type__icontains=object_type)
    if partner_id:
        qs = qs.filter(partner_id=partner_id)
    if since:
        qs = qs.filter(at__gte=day_start(since))
    if until:
        qs = qs.filter(at__lt=day_end(until))
    return qs
