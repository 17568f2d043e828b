"""A number order's draft stays editable until it is submitted (R-VT-10, issue 16): the partner
adds or corrects the customer's address or the number to port, or deletes the draft with its
documents. Before this, a draft started without the address could be neither submitted nor
deleted."""

from __future__ import annotations

from django.db import transaction

from pbxportal.common.actor import Actor
from pbxportal.common.errors import Conflict
from pbxportal.common.tenancy import get_scoped
from pbxportal.voice.models import NumberOrder, NumberOrderKind, NumberOrderStatus
from pbxportal.voice.services.numbers import _number, order_audit


def _draft(actor: Actor, order_id: int) -> NumberOrder:
    order = get_scoped(
        NumberOrder.objects.select_for_update(of=("self",)).select_related("requirement", "pbx"),
        actor,
        pk=order_id,
    )
    if order.status != NumberOrderStatus.DRAFT:
        raise Conflict(
            "Only a draft order can be changed or deleted.", rule="R-VT-10", fields={"status": order.status}
        )
    return order


def number_order_draft_update(
    *, actor: Actor, order_id: int, address: str = "", number: str = ""
) -> NumberOrder:
    """Set the customer's address (new number) or the number to port (porting) of a draft."""
    actor.require_partner_role("sales", "technician")
    with transaction.atomic():
        order = _draft(actor, order_id)
        if order.kind == NumberOrderKind.PORTING:
            order.number = _number(number, order.requirement.country)
        else:
            order.address = address.strip()
        order.save(update_fields=["address", "number"])
        order_audit(actor, order, "number_order.draft_updated")
    return order


def number_order_draft_delete(*, actor: Actor, order_id: int) -> None:
    """Delete a draft and its uploaded documents (files included)."""
    actor.require_partner_role("sales", "technician")
    with transaction.atomic():
        order = _draft(actor, order_id)
        files = [document.file for document in order.documents.all()]
        order_audit(actor, order, "number_order.draft_deleted")
        order.delete()

        def remove_files() -> None:
            for file in files:
                file.delete(save=False)

        transaction.on_commit(remove_files)
