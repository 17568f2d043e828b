"""Writes of software-PBX expansions: the services' requirements, the checkout and its payment
(R-EX-1..4, R-EX-6).

The six services of R-EX-1 are catalog products of the ``expansion`` family, ordered through the
engine's co-termination mechanism (``pbx.services.service_order``): extension, concurrent-call
and outbound call-centre expansions per unit; hot standby and disaster recovery flat; hotel PMS
flexible (yearly, or one-off). A checkout orders them all in one transaction on one invoice to
the chosen billing contact; their capacity enters the licence once the invoice is paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from pbxportal.accounts.models import BillingContact
from pbxportal.accounts.services import billing_contact_create
from pbxportal.catalog.models import Family, PlanTerm, Product
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.models import AuditEvent
from pbxportal.common.templatetags.money import money
from pbxportal.common.tenancy import get_scoped
from pbxportal.expansions.models import ExpansionOrder, ExpansionOrderLine, OrderStatus, PaymentMethod
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, LineKind
from pbxportal.invoicing.services import credit_note_issue, invoice_issue
from pbxportal.licensing.services import AWAITING_PAYMENT, licence_content, licence_sync
from pbxportal.notifications.kinds import Kind
from pbxportal.notifications.services import notify
from pbxportal.pbx.models import Pbx, PbxStatus, Subscription, SubscriptionStatus
from pbxportal.pbx.services import service_order, service_requirement, subscription_cancel

HOT_STANDBY = "hot_standby"


@dataclass(frozen=True)
class ServiceRequest:
    """One service of a checkout: a product code, its quantity, one-off (hotel PMS) or not, and for
    hot standby the serial of the second licence (R-EX-6)."""

    product_code: str
    quantity: int = 1
    one_off: bool = False
    standby_serial: str = ""


@dataclass
class CheckoutResult:
    order: ExpansionOrder | None
    lines: list[LineDraft] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


# --- Requirements (R-EX-1, R-EX-6), checked by the engine for every expansion order -----------


def _plan_and_capacity(pbx: Pbx, today: date) -> tuple[str, int, int]:
    content = licence_content(pbx, today)
    plan = content["services"].get("plan", {}).get("product", "")
    return str(plan), content["capacity"].get("extensions", 0), content["capacity"].get("concurrent_calls", 0)


@service_requirement(Family.EXPANSION)
def software_pbx_only(
    pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
) -> None:
    """R-EX-1: expansions and services are sold per software PBX."""
    if pbx.model.family != Family.SOFTWARE_PLAN:
        raise RuleViolation(
            f"{product.name} is a service of software PBXs; {pbx.name} is a per-user PBX.",
            rule="R-EX-1",
            fields={"product": "software PBXs only"},
        )


@service_requirement(Family.EXPANSION)
def hot_standby_pairing(
    pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
) -> None:
    """R-EX-6: hot standby needs a second licence with the same plan and the same extension and
    concurrent-call capacity, bought against the primary's serial and linked to it."""
    if product.attributes.get("service") != HOT_STANDBY:
        return
    standby = Pbx.objects.filter(
        pk=attributes.get("standby_pbx_id") or 0,
        partner_id=pbx.partner_id,
        serial=attributes.get("standby_serial", ""),
    ).first()
    if standby is None or standby.pk == pbx.pk or standby.model.family != Family.SOFTWARE_PLAN:
        raise RuleViolation(
            "Hot standby needs a second software-PBX licence of yours: give its serial number.",
            rule="R-EX-6",
            fields={"standby_serial": "not a second software PBX of this partner"},
        )
    if standby.status not in (PbxStatus.ACTIVE, PbxStatus.PENDING_ACTIVATION):
        raise RuleViolation(
            f"The standby licence {standby.serial} is {standby.get_status_display().lower()}.",
            rule="R-EX-6",
            fields={"standby_serial": "not active"},
        )
    linked = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE, product__attributes__service=HOT_STANDBY
    ).filter(pbx__in=[pbx, standby])
    taken = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE, attributes__standby_pbx_id__in=[pbx.pk, standby.pk]
    )
    if linked.exists() or taken.exists():
        raise RuleViolation(
            "One of the two PBXs is already part of a hot-standby pair.",
            rule="R-EX-6",
            fields={"standby_serial": "already paired"},
        )
    primary, second = _plan_and_capacity(pbx, today), _plan_and_capacity(standby, today)
    if primary != second:
        raise RuleViolation(
            f"Hot standby needs the same plan and capacity on both licences: {pbx.serial} has "
            f"{primary[0]} with {primary[1]} extensions and {primary[2]} concurrent calls, {standby.serial} "
            f"has {second[0]} with {second[1]} extensions and {second[2]} concurrent calls.",
            rule="R-EX-6",
            fields={"standby_serial": "different plan or capacity"},
        )


# --- Checkout (R-EX-2, R-EX-3, R-EX-4) --------------------------------------------------------


def _software_pbx(actor: Actor, pbx_id: int) -> Pbx:
    pbx = get_scoped(Pbx.objects.select_related("partner__price_book", "model"), actor, pk=pbx_id)
    if pbx.model.family != Family.SOFTWARE_PLAN:
        raise RuleViolation(
            "Expansions are for software PBXs.", rule="R-EX-1", fields={"pbx": "per-user PBX"}
        )
    return pbx


def _attributes(pbx: Pbx, request: ServiceRequest, order_id: int | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if order_id is not None:
        attributes.update({"expansion_order": order_id, AWAITING_PAYMENT: True})
    if request.standby_serial:
        standby = Pbx.objects.filter(partner_id=pbx.partner_id, serial=request.standby_serial.strip()).first()
        attributes.update(
            standby_serial=request.standby_serial.strip(), standby_pbx_id=standby.pk if standby else None
        )
    return attributes


def _billing_contact(
    actor: Actor, contact_id: int | None, new_contact: dict[str, str] | None
) -> BillingContact:
    if new_contact:
        return billing_contact_create(
            actor=actor,
            name=new_contact.get("name", ""),
            email=new_contact.get("email", ""),
            company=new_contact.get("company", ""),
            address=new_contact.get("address", ""),
        )
    if contact_id is None:
        raise ApplicationError(
            "billing_contact: pick one of your billing contacts or add a new one.",
            rule="R-EX-2",
            fields={"billing_contact_id": "required"},
        )
    return get_scoped(BillingContact, actor, pk=contact_id)


def expansion_checkout(
    *,
    actor: Actor,
    pbx_id: int,
    services: list[ServiceRequest],
    payment_method: str,
    billing_contact_id: int | None = None,
    new_contact: dict[str, str] | None = None,
    pi_number: str = "",
    auto_renew: bool = True,
    today: date,
    preview: bool = False,
) -> CheckoutResult:
    """Review (``preview``) or place an expansion order (R-EX-2): the services are ordered on the
    PBX in one transaction and invoiced on one invoice to the chosen billing contact (an existing
    one, or a new one kept with the partner's billing contacts); the order then awaits payment by
    PayPal, card or offline transfer (optional PI number). Auto-renew on or off (R-EX-4)."""
    actor.require_partner_role("sales", "billing")
    pbx = _software_pbx(actor, pbx_id)
    if not services:
        raise ApplicationError("services: choose at least one service.", fields={"services": "empty"})
    if payment_method not in PaymentMethod.values:
        raise ApplicationError(
            "payment_method: paypal, card or offline.", rule="R-EX-2", fields={"payment_method": "invalid"}
        )
    if pi_number and payment_method != PaymentMethod.OFFLINE:
        raise ApplicationError(
            "pi_number: only with offline payment.", rule="R-EX-2", fields={"pi_number": "offline only"}
        )
    for request in services:
        product = Product.objects.filter(
            code=request.product_code, family=Family.EXPANSION, active=True
        ).first()
        if product is None:
            raise ApplicationError(
                f"services: {request.product_code!r} is not a software-PBX service.",
                fields={"services": request.product_code},
            )
        if not auto_renew and not product.auto_renew_optional:
            raise RuleViolation(
                f"{product.name} renews with its PBX.", rule="R-EX-4", fields={"auto_renew": "not optional"}
            )
    if preview:
        result = CheckoutResult(order=None)
        for request in services:
            planned = service_order(
                actor=actor,
                pbx=pbx,
                product_code=request.product_code,
                quantity=request.quantity,
                today=today,
                term=PlanTerm.ONE_OFF if request.one_off else None,
                attributes=_attributes(pbx, request, None),
                preview=True,
            ).plan
            result.lines += planned.lines
            result.warnings += [w for w in planned.warnings if w not in result.warnings]
        return result
    with transaction.atomic():
        contact = _billing_contact(actor, billing_contact_id, new_contact)
        order = ExpansionOrder.objects.create(
            partner_id=pbx.partner_id,
            pbx=pbx,
            billing_contact=contact,
            payment_method=payment_method,
            pi_number=pi_number.strip()[:60],
            auto_renew=auto_renew,
            ordered_on=today,
            currency=pbx.partner.price_book.currency,
            created_by=actor.user,
        )
        result = CheckoutResult(order=order)
        for request in services:
            ordered = service_order(
                actor=actor,
                pbx=pbx,
                product_code=request.product_code,
                quantity=request.quantity,
                today=today,
                term=PlanTerm.ONE_OFF if request.one_off else None,
                attributes=_attributes(pbx, request, order.pk),
                auto_renew=auto_renew,
                issue=False,
            )
            assert ordered.subscription is not None
            ExpansionOrderLine.objects.create(
                order=order,
                product=ordered.subscription.product,
                quantity=ordered.subscription.quantity,
                one_off=request.one_off,
                amount=ordered.plan.total,
                subscription=ordered.subscription,
            )
            result.lines += ordered.plan.lines
            result.warnings += ordered.plan.warnings
        if result.lines:
            order.invoice = invoice_issue(
                partner=pbx.partner,
                lines=result.lines,
                issued_on=today,
                pbx_id=pbx.pk,
                billing_contact=contact,
                source_key=f"expansion-order:{order.pk}",
                reason=f"Expansion order #{order.pk}",
            )
        order.total = result.total
        order.save(update_fields=["invoice", "total"])
        AuditEvent.objects.create(
            actor=actor.user,
            partner_id=pbx.partner_id,
            action="expansion.ordered",
            object_type="expansion_order",
            object_id=str(order.pk),
            data={"pbx": pbx.name, "total": str(order.total), "payment": payment_method},
        )
    if order.invoice is None:  # nothing to pay (a zero price): delivered at once
        checkout_mark_paid(order_id=order.pk, now=timezone.now())
        order.refresh_from_db()
    else:
        notify(
            partner_id=order.partner_id,
            kind=Kind.PAYMENT_AWAITED,
            title=_("Expansion order #%(id)s awaits payment") % {"id": order.pk},
            body=_("Invoice %(invoice)s of %(total)s: the services start once it is paid.")
            % {"invoice": order.invoice.number or "", "total": money(order.total, order.currency)},
            link=reverse("expansions:order_detail", args=[order.pk]),
        )
    return result


def checkout_mark_paid(*, order_id: int, now: datetime) -> ExpansionOrder:
    """The order is paid (R-EX-3): its services' capacity enters the licence (a new signed
    version), and the chosen billing contact gets the subscription summary and the activation
    code. Called when the order's invoice is paid (payments' hook: provider webhook or staff
    recording an offline payment). Idempotent: a paid order is returned as is."""
    with transaction.atomic():
        order = (
            ExpansionOrder.objects.select_for_update()
            .select_related("pbx", "billing_contact")
            .get(pk=order_id)
        )
        if order.status == OrderStatus.PAID:
            return order
        if order.status != OrderStatus.AWAITING_PAYMENT:
            raise Conflict(f"Expansion order #{order.pk} is {order.get_status_display().lower()}.")
        for line in order.lines.select_related("subscription"):
            sub = line.subscription
            if sub is not None and sub.attributes.pop(AWAITING_PAYMENT, None) is not None:
                sub.save(update_fields=["attributes"])
        order.status, order.paid_at = OrderStatus.PAID, now
        order.save(update_fields=["status", "paid_at"])
        issued = licence_sync(pbx_id=order.pbx_id, cause=f"expansion order #{order.pk} paid", now=now)
        standby_ids = [
            line.subscription.attributes.get("standby_pbx_id")
            for line in order.lines.select_related("subscription")
            if line.subscription is not None and line.subscription.attributes.get("standby_pbx_id")
        ]
        for standby_id in standby_ids:
            licence_sync(pbx_id=int(standby_id), cause=f"hot standby of {order.pbx.serial}", now=now)
        AuditEvent.objects.create(
            partner_id=order.partner_id,
            action="expansion.paid",
            object_type="expansion_order",
            object_id=str(order.pk),
            data={"licence_version": str(issued.version.version) if issued else ""},
        )
    code = issued.activation_code if issued else None
    transaction.on_commit(lambda: _mail_summary(order, code))
    return order


def expansion_order_cancel(*, actor: Actor, order_id: int, today: date) -> ExpansionOrder:
    """Cancel an order still awaiting payment (the partner changed its mind, or staff after no
    transfer came): its services end unused and its invoice is credited in full (R-INV-1: a credit
    note, never an edit). A paid or partly paid order cannot be cancelled here."""
    actor.require_partner_role("sales", "billing")
    order = get_scoped(ExpansionOrder, actor, pk=order_id)
    with transaction.atomic():
        order = (
            ExpansionOrder.objects.select_for_update(of=("self",)).select_related("invoice").get(pk=order.pk)
        )
        if order.status != OrderStatus.AWAITING_PAYMENT or (order.invoice and order.invoice.amount_paid):
            raise Conflict(
                f"Expansion order #{order.pk} is {order.get_status_display().lower()}"
                + (" and partly paid" if order.invoice and order.invoice.amount_paid else "")
                + ": it cannot be cancelled.",
                rule="R-EX-3",
            )
        for line in order.lines.select_related("subscription"):
            if line.subscription is not None and line.subscription.status == SubscriptionStatus.ACTIVE:
                subscription_cancel(actor=actor, sub=line.subscription, today=today)
        if order.invoice is not None:
            credit_note_issue(
                invoice=order.invoice,
                lines=[
                    LineDraft(
                        kind=LineKind.CREDIT,
                        product_code=line.product_code,
                        description=f"Cancelled: {line.description}",
                        unit_price=line.unit_price,
                        quantity=-line.quantity,
                        amount=-line.amount,
                        currency=order.invoice.currency,
                        subscription_id=line.subscription_id,
                        pbx_id=line.pbx_id,
                    )
                    for line in order.invoice.lines.all()
                ],
                issued_on=today,
                reason=f"Expansion order #{order.pk} cancelled before payment",
                source_key=f"expansion-order-cancel:{order.pk}",
            )
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
        AuditEvent.objects.create(
            actor=actor.user,
            partner_id=order.partner_id,
            action="expansion.cancelled",
            object_type="expansion_order",
            object_id=str(order.pk),
            data={},
        )
    return order


def checkout_paid_invoice(invoice: Invoice) -> None:
    """payments' on_invoice_paid hook: the expansion order of a paid invoice is paid (R-EX-3)."""
    order = ExpansionOrder.objects.filter(invoice=invoice, status=OrderStatus.AWAITING_PAYMENT).first()
    if order is not None:
        checkout_mark_paid(order_id=order.pk, now=timezone.now())


def _mail_summary(order: ExpansionOrder, code: str | None) -> None:
    """R-EX-3: the subscription summary and the activation code, to the chosen billing contact."""
    pbx = Pbx.objects.get(pk=order.pbx_id)
    current = pbx.licence_versions.order_by("-version").first()
    lines = []
    for line in order.lines.select_related("product", "subscription"):
        payment = (
            "one-off"
            if line.one_off
            else f"until {pbx.expires_on}, auto-renew "
            + ("on" if line.subscription and line.subscription.auto_renew else "off")
        )
        lines.append(
            f"  - {line.product.name} x{line.quantity}: {line.amount:.2f} {order.currency} ({payment})"
        )
    capacity = ", ".join(
        f"{k} {v}" for k, v in (current.summary.get("capacity", {}) if current else {}).items()
    )
    activation = (
        f"Activation code (licence version {current.version}): {code}\n\n"
        if code and current
        else "The licence did not change, so no new activation code was issued.\n\n"
    )
    body = (
        f"Expansion order #{order.pk} for software PBX {pbx.name} (serial {pbx.serial}) is paid.\n\n"
        "Subscription summary:\n" + "\n".join(lines) + f"\n  Total: {order.total:.2f} {order.currency}\n"
        f"  Licence now: {capacity}\n\n"
        + activation
        + "A PBX that can reach the Internet picks the new licence up by "
        "itself within 1 hour; to apply it at once, click Refresh in the PBX's Activation Information. "
        "A PBX without Internet access needs the activation code typed in (Update) (R-EX-3).\n"
    )
    send_mail(
        gettext("Expansion order #%(order)s paid: PBX %(pbx)s") % {"order": order.pk, "pbx": pbx.name},
        body,
        None,
        [order.billing_contact.email],
        fail_silently=True,
    )
