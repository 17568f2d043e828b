"""The vendor's back office (issue 15): vendor admins create and edit partners — legal entity,
price book (R-CAT-4), area manager, payment terms, credit limit — and invite their first admin.
Every change is audited with before/after."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from pbxportal.accounts import audit, partner_users
from pbxportal.accounts.legal import PartnerLegalEntity, partner_legal_entity_set
from pbxportal.accounts.models import Partner, StaffRole, User
from pbxportal.accounts.services import _country
from pbxportal.catalog.models import PriceBook
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, NotFound

PARTNER_FIELDS = (
    "name",
    "code",
    "country",
    "price_book",
    "area_manager",
    "payment_terms_days",
    "credit_limit",
)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validated partner fields, each refusal naming its field."""
    out: dict[str, Any] = {}
    for key in ("name",):
        if key in values:
            out[key] = str(values[key] or "").strip()
    if "name" in out and not out["name"]:
        raise ApplicationError("name: a partner needs a name.", fields={"name": "required"})
    if "code" in values:
        code = slugify(str(values["code"] or ""))
        if not code:
            raise ApplicationError("code: letters, digits and dashes.", fields={"code": "required"})
        out["code"] = code
    if "country" in values:
        out["country"] = _country(str(values["country"] or ""))
    if "price_book" in values:
        book = PriceBook.objects.filter(code=str(values["price_book"] or "")).first()
        if book is None:
            raise ApplicationError(
                f"price_book: no price book {values['price_book']!r}.",
                fields={"price_book": "invalid"},
                rule="R-CAT-4",
            )
        out["price_book"] = book
    if "area_manager" in values:
        raw = values["area_manager"]
        if raw in (None, ""):
            out["area_manager"] = None
        else:
            manager = User.objects.filter(pk=raw, staff_role=StaffRole.AREA_MANAGER, is_active=True).first()
            if manager is None:
                raise ApplicationError(
                    "area_manager: not an active area manager.", fields={"area_manager": "invalid"}
                )
            out["area_manager"] = manager
    if "payment_terms_days" in values:
        raw = values["payment_terms_days"]
        if raw in (None, ""):
            out["payment_terms_days"] = None
        else:
            try:
                days = int(raw)
            except (TypeError, ValueError):
                days = -1
            if not 0 <= days <= 365:
                raise ApplicationError(
                    "payment_terms_days: 0 to 365 days.", fields={"payment_terms_days": "invalid"}
                )
            out["payment_terms_days"] = days
    if "credit_limit" in values:
        raw = values["credit_limit"]
        if raw in (None, ""):
            out["credit_limit"] = None
        else:
            try:
                limit = Decimal(str(raw).strip())
            except InvalidOperation:
                limit = Decimal(-1)
            if (
                not limit.is_finite()
                or limit < 0
                or limit >= Decimal("1e12")
                or limit != limit.quantize(Decimal("0.01"))
            ):
                raise ApplicationError(
                    "credit_limit: an amount >= 0 with at most 2 decimals.",
                    fields={"credit_limit": "invalid"},
                    rule="R-CAT-6",
                )
            out["credit_limit"] = limit
    return out


# The legal entity is issue 14's PartnerLegalEntity (accounts/legal.py, R-INV-1): the back office
# sets it through the same service as the partner's own API, so its numbers are validated once.
LEGAL_FIELDS = ("legal_name", "address", "postal_code", "city", "vat_number")


def _legal_set(partner: Partner, values: dict[str, Any]) -> None:
    """Create or replace the partner's legal entity when the form names its legal name."""
    legal = {key: str(values.get(key) or "").strip() for key in LEGAL_FIELDS}
    if not legal["legal_name"]:
        if any(legal.values()):
            raise ApplicationError(
                "legal_name: required with an address or VAT number.", fields={"legal_name": "required"}
            )
        return
    partner_legal_entity_set(partner_id=partner.pk, country=partner.country, **legal)


def legal_initial(partner: Partner) -> dict[str, str]:
    """The legal entity's fields for the partner form (empty when none is set)."""
    entity = PartnerLegalEntity.objects.filter(partner_id=partner.pk).first()
    return {key: (getattr(entity, key) if entity else "") for key in LEGAL_FIELDS}


def _snapshot(partner: Partner) -> dict[str, Any]:
    return {
        "name": partner.name,
        "code": partner.code,
        "country": partner.country,
        **legal_initial(partner),
        "price_book": partner.price_book.code if partner.price_book_id else None,
        "area_manager": partner.area_manager.username if partner.area_manager else None,
        "payment_terms_days": partner.payment_terms_days,
        "credit_limit": str(partner.credit_limit) if partner.credit_limit is not None else None,
    }


def partner_create(*, actor: Actor, first_admin_email: str = "", **values: Any) -> tuple[Partner, str | None]:
    """Onboard a partner; with ``first_admin_email`` its first admin is invited (the link returned)."""
    actor.require_staff("vendor_admin")
    missing = [f for f in ("name", "code", "country", "price_book") if not values.get(f)]
    if missing:
        raise ApplicationError(f"{missing[0]}: required.", fields={f: "required" for f in missing})
    data = _clean(values)
    try:
        with transaction.atomic():
            partner = Partner.objects.create(**data)
            _legal_set(partner, values)
            audit.record(
                actor=actor.user,
                action="partner.created",
                partner_id=partner.pk,
                obj=partner,
                after=_snapshot(partner),
            )
            link = None
            if first_admin_email.strip():
                _, link = partner_users.invite(
                    actor=actor, email=first_admin_email, role="admin", partner_id=partner.pk
                )
    except IntegrityError:
        raise Conflict(
            f"code: a partner with code {data['code']!r} exists.", fields={"code": "duplicate"}
        ) from None
    return partner, link


def partner_update(*, actor: Actor, partner_id: int, **values: Any) -> Partner:
    actor.require_staff("vendor_admin")
    data = _clean({k: v for k, v in values.items() if k in PARTNER_FIELDS})
    try:
        with transaction.atomic():
            partner = Partner.objects.select_for_update().filter(pk=partner_id).first()
            if partner is None:
                raise NotFound()
            before = _snapshot(partner)
            for key, value in data.items():
                setattr(partner, key, value)
            partner.save()
            if any(key in values for key in LEGAL_FIELDS):
                _legal_set(partner, values)
            after = _snapshot(partner)
            changed = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
            if changed:
                audit.record(
                    actor=actor.user,
                    action="partner.changed",
                    partner_id=partner.pk,
                    obj=partner,
                    changes=changed,
                )
    except IntegrityError:
        raise Conflict("code: another partner has this code.", fields={"code": "duplicate"}) from None
    return partner
