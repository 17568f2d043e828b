"""Writes of the licensing domain: signed licence versions, activation codes and the PBX agent's
credential, firmware reports and code redemption (R-LIC-1..3, R-PBX-3, R-EX-3).

A new licence version is signed whenever what it says changes -- capacity, services, expiry or
status (suspended by overdue, R-INV-5; stopped, R-PBX-9) -- and only then: ``licence_sync``
compares the content digest with the current version's, so calling it again changes nothing.
It runs after every PBX change (a hook of pbx.services), after a checkout is paid, and every
day from the clock (renewals, term ends and overdue stages are date-driven).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pbxportal.catalog.models import Family, PlanTerm
from pbxportal.common.actor import Actor
from pbxportal.common.errors import Conflict
from pbxportal.common.models import AuditEvent
from pbxportal.common.tenancy import get_scoped
from pbxportal.common.timeutil import vendor_today
from pbxportal.core import activation_code, licence
from pbxportal.invoicing.models import Invoice
from pbxportal.licensing.keys import signing_key
from pbxportal.licensing.models import LicenceVersion, PbxCredential
from pbxportal.overdue.policy import licence_status
from pbxportal.pbx.models import Pbx, PbxStatus, Subscription, SubscriptionStatus

# A subscription ordered at an expansion checkout, not paid yet (set by pbxportal.expansions).
AWAITING_PAYMENT = "awaiting_payment"
ENDED_STATUSES = {PbxStatus.STOPPED, PbxStatus.DELETED, PbxStatus.ENDED}


@dataclass(frozen=True)
class IssuedVersion:
    """A licence version and, when it was just created, its activation code in clear (shown once)."""

    version: LicenceVersion
    activation_code: str | None


# --- The document (R-LIC-1) -------------------------------------------------------------------


def _delivered(sub: Subscription) -> bool:
    """Not an ordered service still awaiting its payment (R-EX-3: capacity after payment)."""
    return not sub.attributes.get(AWAITING_PAYMENT)


def _entitled_subscriptions(pbx: Pbx) -> list[Subscription]:
    """What the licence grants: active subscriptions, and one-off services bought for good (R-EX-1)."""
    subscriptions = (
        Subscription.objects.filter(pbx=pbx)
        .filter(
            Q(status=SubscriptionStatus.ACTIVE)
            | Q(status=SubscriptionStatus.ENDED, plan__term=PlanTerm.ONE_OFF)
        )
        .select_related("product", "plan")
        .order_by("id")
    )
    return [sub for sub in subscriptions if _delivered(sub)]


def licence_content(pbx: Pbx, today: date) -> dict[str, Any]:
    """What the licence of ``pbx`` says today: capacity, services, expiry, status and reasons."""
    capacity: Counter[str] = Counter()
    services: dict[str, dict[str, Any]] = {}
    for sub in _entitled_subscriptions(pbx):
        product, attrs = sub.product, sub.product.attributes
        if product.family == Family.LICENCE:
            capacity[product.code] += sub.quantity
        elif product.family == Family.SOFTWARE_PLAN:
            capacity["extensions"] += int(attrs.get("base_extensions", 0))
            capacity["concurrent_calls"] += int(attrs.get("base_concurrent_calls", 0))
            services["plan"] = {"product": product.code, "name": str(attrs.get("plan", product.name))}
        elif attrs.get("capacity"):
            capacity[str(attrs["capacity"])] += sub.quantity
        elif product.family != Family.PBX:
            key = str(attrs.get("service") or product.code)
            entry = services.setdefault(key, {"product": product.code, "quantity": 0})
            entry["quantity"] += sub.quantity
            entry["payment"] = "one_off" if sub.plan.term == PlanTerm.ONE_OFF else "subscription"
            if sub.attributes.get("standby_serial"):
                entry.update(role="primary", standby_serial=sub.attributes["standby_serial"])
    for primary in Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE, attributes__standby_pbx_id=pbx.pk
    ).select_related("pbx", "product"):
        if not _delivered(primary):
            continue
        key = str(primary.product.attributes.get("service") or primary.product.code)
        services[key] = {
            "product": primary.product.code,
            "role": "standby",
            "primary_serial": primary.pbx.serial,
        }
    status, reasons = licence.STATUS_ACTIVE, []
    if pbx.status in ENDED_STATUSES:
        status, reasons = str(pbx.status), [f"pbx:{pbx.status}"]
    elif licence_status(partner_id=pbx.partner_id, today=today) == licence.STATUS_SUSPENDED:
        status, reasons = licence.STATUS_SUSPENDED, ["overdue:suspended"]
    elif pbx.status == PbxStatus.PENDING_DELETION:
        reasons = ["pbx:pending_deletion"]
    return {
        "capacity": dict(sorted(capacity.items())),
        "services": services,
        "expires_on": pbx.expires_on.isoformat() if pbx.expires_on else None,
        "status": status,
        "reasons": reasons,
    }


def _content_digest(pbx: Pbx, content: dict[str, Any], key_id: str) -> str:
    """What a version says, and the key it is signed with: after a key rotation the next sync
    (the daily clock at the latest) re-signs every licence with the new key."""
    data = json.dumps({"serial": pbx.serial, "kid": key_id, **content}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _new_code() -> tuple[str, str]:
    code = activation_code.new_code()
    return code, activation_code.code_digest(code)


def licence_sync(
    *, pbx_id: int, cause: str, today: date | None = None, now: datetime | None = None
) -> IssuedVersion | None:
    """Sign a new licence version of the PBX if what it says changed (R-LIC-1); else None.

    Each version gets a fresh activation code (R-LIC-2), returned in clear once and stored as
    its digest. The PBX row is locked, so two changes committing together number versions
    without a gap or a duplicate.
    """
    now = now or timezone.now()
    today = today or vendor_today(now)
    with transaction.atomic():
        pbx = Pbx.objects.select_for_update().get(pk=pbx_id)
        if pbx.status == PbxStatus.PENDING_ACTIVATION:
            return None  # signed once the PBX activates (R-PBX-3): nothing to fetch before
        content = licence_content(pbx, today)
        key = signing_key()
        digest = _content_digest(pbx, content, key.key_id)
        current = pbx.licence_versions.order_by("-version").first()
        if current is not None and current.content_digest == digest:
            return None
        number = current.version + 1 if current else 1
        document = licence.LicenceDocument(
            pbx_serial=pbx.serial,
            version=number,
            issued_at=now,
            expires_on=pbx.expires_on,
            status=content["status"],
            capacity=content["capacity"],
            services=content["services"],
            reasons=content["reasons"],
        )
        wire = licence.to_wire(licence.sign(document, key.private_key, key.key_id))
        code, code_digest = _new_code()
        version = LicenceVersion.objects.create(
            pbx=pbx,
            version=number,
            wire=wire,
            etag=licence.document_etag(wire),
            content_digest=digest,
            key_id=key.key_id,
            status=content["status"],
            summary=content,
            cause=cause[:100],
            activation_code_digest=code_digest,
        )
        PbxCredential.objects.filter(pbx=pbx).update(licence_etag=version.etag)
        AuditEvent.objects.create(
            partner_id=pbx.partner_id,
            action="licence.signed",
            object_type="pbx",
            object_id=str(pbx.pk),
            data={"version": str(number), "cause": cause[:100], "status": content["status"]},
        )
    return IssuedVersion(version=version, activation_code=code)


def licence_sync_partner(*, partner_id: int, cause: str, today: date | None = None) -> int:
    """Re-sign the licences of every PBX of a partner whose content changed (an overdue stage
    reached or cleared, R-INV-5); returns how many versions were signed."""
    pbx_ids = Pbx.objects.filter(partner_id=partner_id).values_list("pk", flat=True)
    return sum(licence_sync(pbx_id=pk, cause=cause, today=today) is not None for pk in pbx_ids)


def licence_sync_all(*, day: date) -> int:
    """The clock's daily pass (R-CLK-1): expiries moved by renewals, services ended at term end
    (R-EX-4), overdue suspensions (R-INV-5). Idempotent: unchanged licences get no new version."""
    signed = 0
    active = Pbx.objects.exclude(status=PbxStatus.PENDING_ACTIVATION).order_by("pk")
    for pbx_id in active.values_list("pk", flat=True).iterator():
        signed += licence_sync(pbx_id=pbx_id, cause="clock", today=day) is not None
    return signed


def on_pbx_changed(pbx_id: int) -> None:
    """The pbx.services hook: a PBX changed (licences, services, status); re-sign if needed."""
    licence_sync(pbx_id=pbx_id, cause="pbx change")


def on_invoice_paid(invoice: Invoice) -> None:
    """The payments hook: paying what was overdue clears the stages at once (R-INV-5), so the
    partner's suspended licences are re-signed active now, not at the next clock run."""
    licence_sync_partner(partner_id=invoice.partner_id, cause=f"invoice {invoice.number} paid")


def activation_code_reissue(*, actor: Actor, pbx_id: int) -> IssuedVersion:
    """A new activation code for the PBX's current licence version, shown once (R-LIC-2, R-EX-3).

    Codes are stored as digests, so a code cannot be shown again: asking for it replaces the
    previous code of that version, which stops working.
    """
    actor.require_partner_role("technician", "sales")
    pbx = get_scoped(Pbx, actor, pk=pbx_id)
    with transaction.atomic():
        current = LicenceVersion.objects.select_for_update().filter(pbx=pbx).order_by("-version").first()
        if current is None:
            raise Conflict("The PBX has no licence yet: it is signed when the PBX activates.", rule="R-LIC-2")
        code, digest = _new_code()
        current.activation_code_digest = digest
        current.code_redeemed_at = None
        current.save(update_fields=["activation_code_digest", "code_redeemed_at"])
        AuditEvent.objects.create(
            actor=actor.user,
            partner_id=pbx.partner_id,
            action="licence.code_reissued",
            object_type="pbx",
            object_id=str(pbx.pk),
            data={"version": str(current.version)},
        )
    return IssuedVersion(version=current, activation_code=code)
