"""What every write of the subscription engine shares: the constants, the result of a change, the
PBX-changed hooks, the audit record, issuing, row locks, the quantity ledger and product look-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pbxportal.catalog.models import Family, Product
from pbxportal.common.actor import Actor
from pbxportal.common.audit import audit
from pbxportal.common.errors import ApplicationError, RuleViolation
from pbxportal.common.hooks import Hook
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice
from pbxportal.invoicing.services import invoice_issue
from pbxportal.pbx.charges import ChangePlan
from pbxportal.pbx.models import (
    Pbx,
    PbxStatus,
    QuantityChange,
    Subscription,
)

DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CLOUD_ACTIVATION_DELAY = timedelta(minutes=3)  # R-PBX-3
SSH_DEFAULT_MINUTES, SSH_MAX_MINUTES = 60, 24 * 60  # R-PBX-11
STOP_AFTER_DAYS, DELETE_AFTER_DAYS = 5, 14  # R-PBX-9
SERVICE_FAMILIES = {Family.STORAGE, Family.VOICE, Family.HWAAS, Family.NUMBER, Family.EXPANSION, Family.FEE}
CLOSED = {PbxStatus.DELETED, PbxStatus.ENDED}


@dataclass(frozen=True)
class ChangeResult:
    plan: ChangePlan
    invoice: Invoice | None
    subscription: Subscription | None = None
    pbx: Pbx | None = None


# Work after a PBX changed, connected by apps (licensing re-signs the PBX's licence, R-LIC-1).
# Every change of a PBX is audited, so ``_audit`` sends the event; handlers run after the commit.
PbxChangedHook = Callable[[int], None]
PBX_CHANGED: Hook[int] = Hook("pbx changed")
on_pbx_changed = PBX_CHANGED.connect


def _audit(actor: Actor | None, pbx: Pbx, action: str, **data: Any) -> None:
    audit(actor, action, partner_id=pbx.partner_id, object_type="pbx", object_id=pbx.pk, **data)
    PBX_CHANGED.send(pbx.pk)


def _issue(pbx: Pbx, lines: list[LineDraft], today: date) -> Invoice | None:
    return invoice_issue(partner=pbx.partner, lines=lines, issued_on=today, pbx_id=pbx.pk) if lines else None


def _lock(pbx: Pbx) -> Pbx:
    return (
        Pbx.objects.select_for_update()
        .select_related("partner__price_book", "model", "customer")
        .get(pk=pbx.pk)
    )


def _record(
    sub: Subscription, delta: int, today: date, kind: str, actor: Actor | None, note: str = ""
) -> None:
    QuantityChange.objects.create(
        subscription=sub,
        pbx_id=sub.pbx_id,
        delta=delta,
        quantity_after=sub.quantity,
        effective_on=today,
        kind=kind,
        actor=actor.user if actor else None,
        note=note[:200],
    )


def _product(code: str, *families: str) -> Product:
    product = Product.objects.filter(code=code, active=True).first()
    if product is None or (families and product.family not in families):
        raise ApplicationError(
            f"product: {code!r} is not a product of this kind.", fields={"product": "unknown"}
        )
    return product


def _open(pbx: Pbx) -> None:
    if pbx.status in CLOSED:
        raise RuleViolation(
            f"The PBX is {pbx.get_status_display().lower()}: it cannot be changed.", rule="R-PBX-9"
        )
