"""Bundle switches CTA1 <-> CTA2 (R-VT-5): customer-care tickets applied from the next month."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from pbxportal.catalog.models import Family, Product
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.models import AuditEvent
from pbxportal.common.tenancy import get_scoped
from pbxportal.core.periods import first_of_month, next_month_start
from pbxportal.pbx.models import Pbx, QuantityChange, SubscriptionStatus
from pbxportal.pbx.services import service_order
from pbxportal.voice.checks import require_bundle_dids
from pbxportal.voice.models import (
    BundleSwitchStatus,
    BundleSwitchTicket,
)
from pbxportal.voice.rating import (
    bundle_subscription,
)

# --- Bundle switch CTA1 ↔ CTA2 (R-VT-5) ----------------------------------------------------------


def bundle_switch_request(
    *, actor: Actor, pbx_id: int, to_product_code: str, note: str = "", today: date
) -> BundleSwitchTicket:
    """Open a customer-care ticket switching the PBX's voice bundle (R-VT-5)."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx.objects.select_related("partner"), actor, pk=pbx_id)
    product = Product.objects.filter(code=to_product_code, family=Family.VOICE, active=True).first()
    if product is None or product.attributes.get("bundle") not in ("CTA1", "CTA2"):
        raise ApplicationError(
            f"{to_product_code!r} is not a voice bundle.", fields={"to_product": "not a bundle"}
        )
    current = bundle_subscription(pbx.pk, first_of_month(today))
    if current is None or current.status != SubscriptionStatus.ACTIVE:
        raise RuleViolation(
            "The PBX has no voice bundle to switch from.", rule="R-VT-5", fields={"pbx": "no bundle"}
        )
    if current.product_id == product.pk:
        raise RuleViolation(
            f"The PBX has {product.name} already.", rule="R-VT-5", fields={"to_product": "same"}
        )
    require_bundle_dids(pbx, product)
    if BundleSwitchTicket.objects.filter(pbx=pbx, status__in=["requested", "approved"]).exists():
        raise Conflict("A bundle switch of this PBX is open already.", rule="R-VT-5")
    ticket = BundleSwitchTicket.objects.create(
        pbx=pbx, to_product=product, note=note[:300], requested_by=actor.user, requested_on=today
    )
    AuditEvent.objects.create(
        actor=actor.user,
        partner_id=pbx.partner_id,
        action="bundle_switch.requested",
        object_type="pbx",
        object_id=str(pbx.pk),
        data={"to": product.code},
    )
    return ticket


def bundle_switch_decide(
    *, actor: Actor, ticket_id: int, approve: bool, note: str = "", today: date
) -> BundleSwitchTicket:
    """Customer care approves a switch from the next month's 1st, or rejects it (R-VT-5)."""
    with transaction.atomic():
        ticket = get_scoped(BundleSwitchTicket.objects.select_for_update(), actor, pk=ticket_id)
        actor.require_staff("customer_care")
        if ticket.status != BundleSwitchStatus.REQUESTED:
            raise Conflict("The ticket was decided already.", rule="R-VT-5")
        ticket.status = BundleSwitchStatus.APPROVED if approve else BundleSwitchStatus.REJECTED
        ticket.effective_on = next_month_start(first_of_month(today)) if approve else None
        ticket.decided_by = actor.user
        ticket.decision_note = note[:300]
        ticket.save(update_fields=["status", "effective_on", "decided_by", "decision_note"])
    return ticket


def bundle_switches_apply(*, day: date) -> int:
    """On the 1st, apply the approved switches due (R-VT-5, R-CLK-1): the old bundle ends the day
    before, the other one is ordered from the 1st through ``service_order`` (co-termed, prorated).
    A switch the rules now refuse (the DID is gone) is rejected with the reason."""
    done = 0
    for ticket in BundleSwitchTicket.objects.filter(
        status=BundleSwitchStatus.APPROVED, effective_on__lte=day
    ):
        try:
            with transaction.atomic():
                _switch(ticket, day)
            done += 1
        except ApplicationError as exc:
            BundleSwitchTicket.objects.filter(pk=ticket.pk).update(
                status=BundleSwitchStatus.REJECTED, decision_note=f"Not applied: {exc.message}"[:300]
            )
    return done


def _switch(ticket: BundleSwitchTicket, day: date) -> None:
    pbx = Pbx.objects.select_related("partner__price_book", "model").get(pk=ticket.pbx_id)
    for sub in pbx.subscriptions.filter(
        status=SubscriptionStatus.ACTIVE, product__family=Family.VOICE, product__attributes__has_key="bundle"
    ).select_for_update():
        # The trunk goes on with the other bundle: no minimum-commitment charge for the switch.
        sub.status = SubscriptionStatus.CANCELLED
        sub.ended_on = ticket.effective_on or day
        sub.save(update_fields=["status", "ended_on"])
        QuantityChange.objects.create(
            subscription=sub,
            pbx=pbx,
            delta=0,
            quantity_after=sub.quantity,
            effective_on=sub.ended_on,
            kind="bundle_switch",
            note=f"switched to {ticket.to_product.code} (ticket {ticket.pk})",
        )
    service_order(actor=None, pbx=pbx, product_code=ticket.to_product.code, today=ticket.effective_on or day)
    ticket.status = BundleSwitchStatus.APPLIED
    ticket.save(update_fields=["status"])
