"""Number orders (R-VT-10): the order's transitions, its documents and the staff review."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pbxportal.catalog.models import NumberRequirement
from pbxportal.common.actor import Actor
from pbxportal.common.audit import audit
from pbxportal.common.errors import ApplicationError, Conflict, RuleViolation
from pbxportal.common.tenancy import get_scoped
from pbxportal.core.rating import (
    InvalidNumber,
    normalise,
)
from pbxportal.notifications.kinds import Kind
from pbxportal.notifications.services import notify
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import service_order
from pbxportal.voice.models import (
    NumberDocument,
    NumberOrder,
    NumberOrderKind,
    NumberOrderStatus,
)

# --- Numbers (R-VT-10) ----------------------------------------------------------------------------

NUMBER_TRANSITIONS: dict[str, set[str]] = {
    NumberOrderStatus.DRAFT: {NumberOrderStatus.SUBMITTED},
    NumberOrderStatus.SUBMITTED: {NumberOrderStatus.IN_REVIEW, NumberOrderStatus.REJECTED},
    NumberOrderStatus.IN_REVIEW: {NumberOrderStatus.APPROVED, NumberOrderStatus.REJECTED},
    NumberOrderStatus.APPROVED: set(),
    NumberOrderStatus.REJECTED: set(),
}
REVIEWERS = ("area_manager", "customer_care")
# Accepted upload types, recognised by their first bytes (the name and the browser's claim are not trusted).
DOCUMENT_TYPES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def _move(order: NumberOrder, to: str) -> None:
    if to not in NUMBER_TRANSITIONS[order.status]:
        raise Conflict(
            f"A {order.get_status_display().lower()} number order cannot become {NumberOrderStatus(to).label.lower()}.",
            rule="R-VT-10",
            fields={"status": order.status},
        )
    order.status = to


def number_order_create(
    *,
    actor: Actor,
    pbx_id: int,
    country: str,
    number_type: str,
    kind: str,
    address: str = "",
    number: str = "",
) -> NumberOrder:
    """A draft order for a new number or a porting (R-VT-10); the country's requirements are catalog data."""
    actor.require_partner_role("sales", "technician")
    pbx = get_scoped(Pbx.objects.select_related("customer"), actor, pk=pbx_id)
    requirement = NumberRequirement.objects.filter(
        country=country.upper(), number_type=number_type, product__isnull=False
    ).first()
    if requirement is None:
        raise ApplicationError(
            f"No {number_type} numbers are offered in {country.upper()}.", fields={"country": "not offered"}
        )
    if kind not in NumberOrderKind.values:
        raise ApplicationError("kind: new or porting.", fields={"kind": "new or porting"})
    ported = ""
    if kind == NumberOrderKind.PORTING:
        ported = _number(number, requirement.country)
    order = NumberOrder.objects.create(
        pbx=pbx,
        requirement=requirement,
        kind=kind,
        address=address.strip(),
        number=ported,
        created_by=actor.user,
    )
    order_audit(actor, order, "number_order.created", kind=kind, country=requirement.country)
    return order


def order_audit(actor: Actor | None, order: NumberOrder, action: str, **data: Any) -> None:
    """A number order's audit event (R-VT-10): its partner, type and id named once."""
    audit(
        actor, action, partner_id=order.pbx.partner_id, object_type="number_order", object_id=order.pk, **data
    )


def _number(number: str, country: str) -> str:
    try:
        return normalise(number, country)
    except InvalidNumber as exc:
        raise ApplicationError(f"number: {exc.reason}.", fields={"number": exc.reason}) from None


def number_document_upload(
    *, actor: Actor, order_id: int, name: str, upload: UploadedFile | None
) -> NumberDocument:
    """Attach one of the required documents to a draft order: PDF, PNG or JPEG (checked by content)
    up to ``VOICE_DOCUMENT_MAX_BYTES``, stored under MEDIA_ROOT, outside the web root (R-VT-10)."""
    actor.require_partner_role("sales", "technician")
    order = get_scoped(NumberOrder.objects.select_related("requirement", "pbx"), actor, pk=order_id)
    if order.status != NumberOrderStatus.DRAFT:
        raise Conflict(
            "Documents are added to a draft order only.", rule="R-VT-10", fields={"status": order.status}
        )
    if name not in order.required_documents:
        raise ApplicationError(
            f"document: {name!r} is not one this order needs.", fields={"name": "not a required document"}
        )
    if upload is None:
        raise ApplicationError("file: choose the document to upload.", fields={"file": "required"})
    size = upload.size or 0
    if size > settings.VOICE_DOCUMENT_MAX_BYTES or size == 0:
        raise ApplicationError(
            f"file: {size} bytes; a document must be 1 to {settings.VOICE_DOCUMENT_MAX_BYTES} bytes.",
            fields={"file": "size"},
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = next(((mime, suffix) for magic, mime, suffix in DOCUMENT_TYPES if head.startswith(magic)), None)
    if kind is None:
        raise ApplicationError("file: only PDF, PNG or JPEG documents are accepted.", fields={"file": "type"})
    document = NumberDocument(
        order=order,
        name=name,
        original_name=(upload.name or "document")[:200],
        content_type=kind[0],
        size=size,
    )
    document.file.save(f"order-{order.pk}{kind[1]}", upload, save=False)
    document.save()
    order_audit(actor, order, "number_order.document_uploaded", name=name, size=size)
    return document


def number_order_submit(*, actor: Actor, order_id: int) -> NumberOrder:
    """The partner submits a complete draft: the address for a new number where the country asks
    for it, the ported number, and every required document (R-VT-10)."""
    actor.require_partner_role("sales", "technician")
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related("requirement", "pbx"),
            actor,
            pk=order_id,
        )
        missing: dict[str, str] = {}
        if order.kind == NumberOrderKind.NEW and order.requirement.address_required and not order.address:
            missing["address"] = "the customer's address is required"
        if order.kind == NumberOrderKind.PORTING and not order.number:
            missing["number"] = "the number to port is required"
        uploaded = set(order.documents.values_list("name", flat=True))
        for name in order.required_documents:
            if name not in uploaded:
                missing[f"document:{name}"] = "missing"
        if missing:
            raise RuleViolation(
                "The order is incomplete: "
                + "; ".join(
                    f"document “{k[9:]}” {v}" if k.startswith("document:") else v for k, v in missing.items()
                )
                + ".",
                rule="R-VT-10",
                fields=missing,
            )
        _move(order, NumberOrderStatus.SUBMITTED)
        order.submitted_at = timezone.now()
        order.save(update_fields=["status", "submitted_at"])
        order_audit(actor, order, "number_order.submitted")
    return order


def number_order_review(*, actor: Actor, order_id: int) -> NumberOrder:
    """Staff take a submitted order into review (R-VT-10)."""
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related("pbx"), actor, pk=order_id
        )
        actor.require_staff(*REVIEWERS)  # after the lookup: another partner's id is a 404 (R-TEN-1)
        _move(order, NumberOrderStatus.IN_REVIEW)
        order.decided_by = actor.user
        order.save(update_fields=["status", "decided_by"])
        order_audit(actor, order, "number_order.in_review")
    return order


def number_order_approve(*, actor: Actor, order_id: int, number: str = "", today: date) -> NumberOrder:
    """Staff approve an order in review: the number is active and its monthly fee starts that day,
    co-termed with the PBX (a number subscription through ``service_order``, R-VT-10, R-CO-1..3)."""
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related(
                "requirement__product", "pbx__partner__price_book"
            ),
            actor,
            pk=order_id,
        )
        actor.require_staff(*REVIEWERS)
        _move(order, NumberOrderStatus.APPROVED)
        assigned = order.number or _number(number, order.requirement.country)
        product = order.requirement.product
        assert product is not None
        result = service_order(
            actor=actor,
            pbx=order.pbx,
            product_code=product.code,
            quantity=1,
            today=today,
            attributes={"number": assigned},
        )
        order.number = assigned
        order.subscription = result.subscription
        order.decided_by = actor.user
        order.decided_on = today
        order.save(update_fields=["status", "number", "subscription", "decided_by", "decided_on"])
        order_audit(actor, order, "number_order.approved", number=assigned)
        notify(
            partner_id=order.pbx.partner_id,
            kind=Kind.NUMBER_ORDER_APPROVED,
            title=_("Number order #%(id)s approved: %(number)s") % {"id": order.pk, "number": assigned},
            body=_("The number %(number)s is active on PBX %(pbx)s.")
            % {"number": assigned, "pbx": order.pbx.name},
            link=reverse("voice:number_order", args=[order.pk]),
        )
    return order


def number_order_reject(*, actor: Actor, order_id: int, reason: str, today: date) -> NumberOrder:
    """Staff reject a submitted or reviewed order, with the reason the partner sees (R-VT-10)."""
    with transaction.atomic():
        order = get_scoped(
            NumberOrder.objects.select_for_update(of=("self",)).select_related("pbx"), actor, pk=order_id
        )
        actor.require_staff(*REVIEWERS)
        if not reason.strip():
            raise ApplicationError("reason: say why the order is rejected.", fields={"reason": "required"})
        _move(order, NumberOrderStatus.REJECTED)
        order.rejection_reason = reason.strip()[:300]
        order.decided_by = actor.user
        order.decided_on = today
        order.save(update_fields=["status", "rejection_reason", "decided_by", "decided_on"])
        order_audit(actor, order, "number_order.rejected", reason=reason)
        notify(
            partner_id=order.pbx.partner_id,
            kind=Kind.NUMBER_ORDER_REJECTED,
            title=_("Number order #%(id)s rejected") % {"id": order.pk},
            body=_("Reason: %(reason)s") % {"reason": order.rejection_reason},
            link=reverse("voice:number_order", args=[order.pk]),
        )
    return order
