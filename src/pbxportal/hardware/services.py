"""Writes of hardware as a service (R-HW-1..5): agreements, carts and orders, stock.

An order moves only along ``models.TRANSITIONS``; each move is checked before anything is
written and recorded as an ``OrderTransition`` in the same transaction. Locks are always taken
in the same order (order row, stock rows by product id, then the PBX and invoice numbering inside
the subscription engine), so concurrent checkouts queue instead of deadlocking.
"""

from __future__ import annotations

import os
import uuid
from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pbxportal.accounts.models import Customer
from pbxportal.catalog.limits import ensure_quantity_allowed
from pbxportal.catalog.models import Family, Product
from pbxportal.common.actor import Actor
from pbxportal.common.audit import audit
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.models import AuditEvent
from pbxportal.common.tenancy import get_scoped
from pbxportal.core.periods import Term
from pbxportal.hardware.models import (
    TRANSITIONS,
    AgreementStatus,
    HardwareOrder,
    HwaasAgreement,
    OrderLine,
    OrderStatus,
    OrderTransition,
    StockItem,
)
from pbxportal.notifications.kinds import Kind
from pbxportal.notifications.services import notify
from pbxportal.overdue.policy import ensure_allowed
from pbxportal.pbx import charges
from pbxportal.pbx.models import Pbx, PbxStatus, Subscription, SubscriptionStatus
from pbxportal.pbx.services import service_order, subscription_cancel

MAX_AGREEMENT_BYTES = 10 * 1024 * 1024
# The file's first bytes decide its type, not the name or the browser's content type.
AGREEMENT_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
MAX_LINE_QUANTITY = 1000
ORDERABLE_PBX = (PbxStatus.PENDING_ACTIVATION, PbxStatus.ACTIVE)


# --- Agreements (R-HW-2) ----------------------------------------------------------------------


def _sniff(upload: UploadedFile) -> tuple[str, str]:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for signature, content_type, extension in AGREEMENT_SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    raise ApplicationError(
        "file: the signed agreement must be a PDF, PNG or JPEG file.",
        rule="R-HW-2",
        fields={"file": "not a PDF or image"},
    )


def agreement_upload(*, actor: Actor, customer_id: int, upload: UploadedFile) -> HwaasAgreement:
    """The partner uploads the HWaaS agreement signed by its customer; it waits for the area
    manager's review (R-HW-2). Type (by content) and size are checked; the stored name is random."""
    actor.require_partner_role("sales")
    customer = get_scoped(Customer, actor, pk=customer_id)
    size = upload.size or 0
    if size == 0:
        raise ApplicationError("file: the file is empty.", rule="R-HW-2", fields={"file": "empty"})
    if size > MAX_AGREEMENT_BYTES:
        raise ApplicationError(
            f"file: at most {MAX_AGREEMENT_BYTES // (1024 * 1024)} MB.",
            rule="R-HW-2",
            fields={"file": "too large"},
        )
    content_type, extension = _sniff(upload)
    original = os.path.basename(upload.name or "agreement")[:200] or "agreement"
    agreement = HwaasAgreement(
        partner_id=customer.partner_id,
        customer=customer,
        original_name=original,
        content_type=content_type,
        size=size,
        uploaded_by=actor.user,
    )
    agreement.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    agreement.save()
    audit(
        actor,
        "hwaas.agreement_uploaded",
        partner_id=customer.partner_id,
        object_type="hwaas_agreement",
        object_id=agreement.pk,
    )
    return agreement


def _agreement_decide(*, actor: Actor, agreement_id: int, status: str, reason: str) -> HwaasAgreement:
    agreement = get_scoped(HwaasAgreement, actor, pk=agreement_id)
    actor.require_staff("area_manager")
    with transaction.atomic():
        agreement = HwaasAgreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status != AgreementStatus.PENDING:
            raise Conflict(
                f"The agreement is {agreement.get_status_display().lower()} already.",
                rule="R-HW-2",
                fields={"status": agreement.status},
            )
        agreement.status = status
        agreement.reason = reason
        agreement.decided_by = actor.user
        agreement.decided_at = timezone.now()
        agreement.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        audit(
            actor,
            f"hwaas.agreement_{status}",
            partner_id=agreement.partner_id,
            object_type="hwaas_agreement",
            object_id=agreement.pk,
        )
        _notify_agreement(agreement)
    return agreement


def _notify_agreement(agreement: HwaasAgreement) -> None:
    customer = agreement.customer.name
    if agreement.status == AgreementStatus.ACCEPTED:
        kind = Kind.AGREEMENT_ACCEPTED
        title = _("HWaaS agreement of %(customer)s accepted") % {"customer": customer}
        body = _("Hardware can now be ordered for the PBXs of %(customer)s.") % {"customer": customer}
    else:
        kind = Kind.AGREEMENT_REJECTED
        title = _("HWaaS agreement of %(customer)s rejected") % {"customer": customer}
        body = _("Reason: %(reason)s. Upload a new signed agreement.") % {"reason": agreement.reason}
    notify(
        partner_id=agreement.partner_id,
        kind=kind,
        title=title,
        body=body,
        link=reverse("hardware:agreements"),
    )


def agreement_accept(*, actor: Actor, agreement_id: int) -> HwaasAgreement:
    """The partner's area manager (or a vendor admin) accepts the signed agreement (R-HW-2)."""
    return _agreement_decide(
        actor=actor, agreement_id=agreement_id, status=AgreementStatus.ACCEPTED, reason=""
    )


def agreement_reject(*, actor: Actor, agreement_id: int, reason: str) -> HwaasAgreement:
    """Rejected with a reason the partner sees (R-HW-2); the partner may upload a new one."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason: say why the agreement is rejected.", fields={"reason": "required"})
    return _agreement_decide(
        actor=actor, agreement_id=agreement_id, status=AgreementStatus.REJECTED, reason=reason[:500]
    )


def require_agreement(customer_id: int) -> None:
    """R-HW-2: the customer's HWaaS agreement is signed and accepted (carts and PBX services)."""
    if not HwaasAgreement.objects.filter(customer_id=customer_id, status=AgreementStatus.ACCEPTED).exists():
        raise RuleViolation(
            "HWaaS needs the agreement signed by the customer and accepted by the area manager: upload it "
            "on the HWaaS agreements page and wait for its acceptance.",
            rule="R-HW-2",
            fields={"customer": "no accepted HWaaS agreement"},
        )


# --- Carts and orders (R-HW-1, R-HW-3) --------------------------------------------------------


def _check_pbx(pbx: Pbx) -> None:
    if not Term(pbx.term).is_recurring:
        raise RuleViolation(
            "HWaaS is only for PBXs on a recurring term (monthly, yearly, five-year); this PBX is lifetime.",
            rule="R-HW-1",
            fields={"pbx": "lifetime"},
        )
    if pbx.status not in ORDERABLE_PBX:
        raise RuleViolation(
            f"The PBX is {pbx.get_status_display().lower()}: devices cannot be ordered for it.",
            rule="R-HW-1",
            fields={"pbx": pbx.status},
        )


def order_create(*, actor: Actor, pbx_id: int) -> HardwareOrder:
    """Open a cart (a draft order) for a PBX of a customer with an accepted agreement (R-HW-2,
    R-HW-3). The devices are rented for the PBX's term (R-HW-1, R-CO-1)."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    _check_pbx(pbx)
    require_agreement(pbx.customer_id)
    order = HardwareOrder.objects.create(
        partner_id=pbx.partner_id, customer_id=pbx.customer_id, pbx=pbx, created_by=actor.user
    )
    OrderTransition.objects.create(order=order, from_status="", to_status=OrderStatus.DRAFT, actor=actor.user)
    return order


def _device(code: str) -> Product:
    product = Product.objects.filter(code=code, family=Family.HWAAS, active=True).first()
    if product is None:
        raise ApplicationError(f"product: {code!r} is not an HWaaS device.", fields={"product": "unknown"})
    return product


def _draft(actor: Actor, order_id: int) -> HardwareOrder:
    order = get_scoped(HardwareOrder.objects.select_related("pbx"), actor, pk=order_id)
    actor.require_partner_role("sales", "technician")
    if order.status != OrderStatus.DRAFT:
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}: only a draft cart can be changed.",
            rule="R-HW-3",
            fields={"status": order.status},
        )
    return order


def order_line_set(*, actor: Actor, order_id: int, product_code: str, quantity: int) -> HardwareOrder:
    """Set a device's quantity in a cart (0 removes it); the device must have a plan for the
    PBX's term (R-CO-1). The cart is saved as it changes: the partner can leave and come back."""
    order = _draft(actor, order_id)
    product = _device(product_code)
    if not 0 <= quantity <= MAX_LINE_QUANTITY:
        raise ApplicationError(
            f"quantity: between 0 and {MAX_LINE_QUANTITY}.", fields={"quantity": "out of range"}
        )
    ensure_quantity_allowed(product, quantity)
    charges.plan_for(product, order.pbx.term)
    if quantity == 0:
        OrderLine.objects.filter(order=order, product=product).delete()
    else:
        OrderLine.objects.update_or_create(order=order, product=product, defaults={"quantity": quantity})
        StockItem.objects.get_or_create(product=product)
    order.save(update_fields=["updated_at"])
    return order


def _lock(order: HardwareOrder) -> HardwareOrder:
    return HardwareOrder.objects.select_for_update().get(pk=order.pk)


def _check_transition(order: HardwareOrder, to: str) -> None:
    """Refuse a move the transition map does not allow, before anything is written (R-HW-3)."""
    if to not in TRANSITIONS[order.status]:
        allowed = ", ".join(sorted(TRANSITIONS[order.status])) or "nothing (final state)"
        raise Conflict(
            f"Order {order.number} is {order.status}: it cannot become {to} (from {order.status} it can "
            f"become: {allowed}).",
            rule="R-HW-3",
            code="illegal_transition",
            fields={"status": order.status, "to": to},
        )


def _move(order: HardwareOrder, to: str, actor: Actor | None, note: str, **fields: object) -> None:
    OrderTransition.objects.create(
        order=order,
        from_status=order.status,
        to_status=to,
        actor=actor.user if actor else None,
        note=note[:300],
    )
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "updated_at", *fields])


def _stock_change(product_id: int, *, on_hand: int = 0, reserved: int = 0) -> None:
    """One atomic UPDATE with F() expressions: concurrent changes add up, none is lost (R-HW-4)."""
    changed = StockItem.objects.filter(product_id=product_id).update(
        on_hand=F("on_hand") + on_hand, reserved=F("reserved") + reserved, updated_at=timezone.now()
    )
    if not changed:
        StockItem.objects.get_or_create(product_id=product_id)
        _stock_change(product_id, on_hand=on_hand, reserved=reserved)


def order_place(*, actor: Actor, order_id: int, today: date) -> HardwareOrder:
    """Check out a cart (R-HW-3): refused without an accepted agreement (R-HW-2) or after day 5
    of an overdue invoice (R-INV-5), never for stock (R-HW-4). Each device line becomes a
    co-termed subscription of the PBX with its prorated first charge (R-HW-1, R-CO-3) and
    reserves its quantity, even beyond what is on hand (back-order)."""
    order = get_scoped(HardwareOrder, actor, pk=order_id)
    actor.require_partner_role("sales", "technician")
    with transaction.atomic():
        order = _lock(order)
        _check_transition(order, OrderStatus.PLACED)
        lines = list(order.lines.select_related("product").order_by("product_id"))
        if not lines:
            raise RuleViolation(
                "The cart is empty: add at least one device.", rule="R-HW-3", fields={"lines": "empty"}
            )
        require_agreement(order.customer_id)
        ensure_allowed(partner_id=order.partner_id, action="order_hardware", today=today)
        pbx = Pbx.objects.get(pk=order.pbx_id)
        _check_pbx(pbx)
        for line in lines:
            _stock_change(line.product_id, reserved=line.quantity)
        for line in lines:
            result = service_order(
                actor=actor, pbx=pbx, product_code=line.product.code, quantity=line.quantity, today=today
            )
            line.subscription = result.subscription
            line.invoice = result.invoice
            line.save(update_fields=["subscription", "invoice"])
        _move(order, OrderStatus.PLACED, actor, "checked out", placed_on=today)
    return order


def order_cancel(*, actor: Actor, order_id: int, today: date, note: str = "") -> HardwareOrder:
    """Cancel before shipping (R-HW-3): a placed order releases its reserved stock (R-HW-4) and
    cancels its devices' subscriptions, which charges the rest of the minimum commitment (R-HW-5)."""
    order = get_scoped(HardwareOrder, actor, pk=order_id)
    actor.require_partner_role("sales")
    if actor.is_staff:
        actor.require_staff("area_manager")
    with transaction.atomic():
        order = _lock(order)
        _check_transition(order, OrderStatus.CANCELLED)
        if order.status != OrderStatus.DRAFT:
            lines = list(order.lines.order_by("product_id"))
            for line in lines:
                _stock_change(line.product_id, reserved=-line.quantity)
            subs = Subscription.objects.filter(
                pk__in=[line.subscription_id for line in lines if line.subscription_id],
                status=SubscriptionStatus.ACTIVE,
            ).order_by("pk")
            for sub in subs:
                subscription_cancel(actor=actor, sub=sub, today=today)
        _move(order, OrderStatus.CANCELLED, actor, note or "cancelled")
    return order


def _staff_move(*, actor: Actor, order_id: int, to: str, note: str) -> HardwareOrder:
    order = get_scoped(HardwareOrder, actor, pk=order_id)
    actor.require_staff("area_manager")
    with transaction.atomic():
        order = _lock(order)
        _check_transition(order, to)
        if to == OrderStatus.SHIPPED:
            for line in order.lines.select_related("product").order_by("product_id"):
                _ship(line)
        _move(order, to, actor, note or to)
        if to == OrderStatus.SHIPPED:
            notify(
                partner_id=order.partner_id,
                kind=Kind.HARDWARE_SHIPPED,
                title=_("Hardware order %(number)s shipped") % {"number": order.number},
                body=note,
                link=reverse("hardware:order_detail", args=[order.pk]),
            )
    return order


def _ship(line: OrderLine) -> None:
    """Shipping consumes stock: on hand and reserved both drop (R-HW-4). Devices that are not on
    hand cannot leave the warehouse, so the order waits (it stays confirmed) until stock arrives."""
    shipped = StockItem.objects.filter(product_id=line.product_id, on_hand__gte=line.quantity).update(
        on_hand=F("on_hand") - line.quantity,
        reserved=F("reserved") - line.quantity,
        updated_at=timezone.now(),
    )
    if not shipped:
        stock = StockItem.objects.filter(product_id=line.product_id).first()
        raise RuleViolation(
            f"{line.product.name}: {line.quantity} to ship, {stock.on_hand if stock else 0} on hand "
            "(back-ordered). Receive stock first.",
            rule="R-HW-4",
            fields={"stock": line.product.code},
        )


def order_confirm(*, actor: Actor, order_id: int, note: str = "") -> HardwareOrder:
    """Staff confirm a placed order (R-HW-3)."""
    return _staff_move(actor=actor, order_id=order_id, to=OrderStatus.CONFIRMED, note=note)


def order_ship(*, actor: Actor, order_id: int, note: str = "") -> HardwareOrder:
    """Staff ship a confirmed order, consuming stock (R-HW-3, R-HW-4)."""
    return _staff_move(actor=actor, order_id=order_id, to=OrderStatus.SHIPPED, note=note)


def order_deliver(*, actor: Actor, order_id: int, note: str = "") -> HardwareOrder:
    """Staff mark a shipped order delivered (R-HW-3)."""
    return _staff_move(actor=actor, order_id=order_id, to=OrderStatus.DELIVERED, note=note)


# --- Stock (R-HW-4) ---------------------------------------------------------------------------


def stock_adjust(*, actor: Actor, product_code: str, delta: int, note: str = "") -> StockItem:
    """A vendor admin receives devices (+) or writes them off (-); on hand never goes below 0."""
    actor.require_staff("vendor_admin")
    product = _device(product_code)
    if delta == 0:
        raise ApplicationError("delta: a non-zero number of devices.", fields={"delta": "zero"})
    StockItem.objects.get_or_create(product=product)
    with transaction.atomic():
        changed = StockItem.objects.filter(product=product, on_hand__gte=-delta).update(
            on_hand=F("on_hand") + delta, updated_at=timezone.now()
        )
        if not changed:
            raise RuleViolation(
                f"delta: {product.code} has fewer than {-delta} devices on hand.",
                rule="R-HW-4",
                fields={"delta": "more than on hand"},
            )
        AuditEvent.objects.create(
            actor=actor.user,
            action="hwaas.stock_adjusted",
            object_type="product",
            object_id=product.code,
            data={"delta": str(delta), "note": note[:200]},
        )
    return StockItem.objects.get(product=product)
