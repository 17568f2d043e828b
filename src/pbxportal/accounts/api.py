"""Accounts API: the caller, customers, billing contacts, API tokens, partners (staff)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from pbxportal.accounts import selectors, services
from pbxportal.accounts.models import ApiToken, BillingContact, Customer, Partner
from pbxportal.common.api import actor_of
from pbxportal.common.idempotency import withhold_answer
from pbxportal.common.pagination import Pagination
from pbxportal.common.schemas import Schema

API_PREFIX = ""
router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    partner_id: int | None
    partner_role: str
    staff_role: str


class CustomerIn(Schema):
    length_model = Customer
    name: str
    country: str
    vat_number: str = ""
    address: str = ""
    city: str = ""
    postal_code: str = ""
    email: str = ""


class CustomerPatch(Schema):
    name: str | None = None
    country: str | None = None
    vat_number: str | None = None
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    email: str | None = None


class CustomerOut(Schema):
    id: int
    partner_id: int
    name: str
    country: str
    vat_number: str
    address: str
    city: str
    postal_code: str
    email: str


class BillingContactIn(Schema):
    length_model = BillingContact
    name: str
    email: str
    company: str = ""
    address: str = ""
    is_default: bool = False


class BillingContactOut(Schema):
    id: int
    name: str
    email: str
    company: str
    address: str
    is_default: bool


class TokenIn(Schema):
    length_model = ApiToken
    name: str
    scope: str = "write"
    expires_in_days: int | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str


class PartnerOut(Schema):
    id: int
    name: str
    code: str
    country: str
    price_book: str
    currency: str


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    user = actor_of(request).user
    return {
        "username": user.username,
        "partner_id": user.partner_id,
        "partner_role": user.partner_role,
        "staff_role": user.staff_role,
    }


@router.get("/customers", response=list[CustomerOut])
@paginate(Pagination)
def customer_list(request: HttpRequest, search: str = "") -> object:
    return selectors.customer_list(actor=actor_of(request), search=search)


@router.post("/customers", response={201: CustomerOut})
def customer_create(request: HttpRequest, payload: CustomerIn) -> tuple[int, object]:
    return 201, services.customer_create(actor=actor_of(request), **payload.dict())


@router.get("/customers/{customer_id}", response=CustomerOut)
def customer_get(request: HttpRequest, customer_id: int) -> object:
    return selectors.customer_get(actor=actor_of(request), customer_id=customer_id)


@router.patch("/customers/{customer_id}", response=CustomerOut)
def customer_update(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> object:
    return services.customer_update(
        actor=actor_of(request), customer_id=customer_id, **payload.dict(exclude_unset=True)
    )


@router.get("/billing-contacts", response=list[BillingContactOut])
def billing_contact_list(request: HttpRequest) -> object:
    return selectors.billing_contact_list(actor=actor_of(request))


@router.post("/billing-contacts", response={201: BillingContactOut})
def billing_contact_create(request: HttpRequest, payload: BillingContactIn) -> tuple[int, object]:
    return 201, services.billing_contact_create(actor=actor_of(request), **payload.dict())


@router.get("/billing-contacts/{contact_id}", response=BillingContactOut)
def billing_contact_get(request: HttpRequest, contact_id: int) -> object:
    return selectors.billing_contact_get(actor=actor_of(request), contact_id=contact_id)


@router.get("/api-tokens", response=list[TokenOut])
def api_token_list(request: HttpRequest) -> object:
    return selectors.api_token_list(actor=actor_of(request))


@router.post("/api-tokens", response={201: TokenCreated})
def api_token_create(request: HttpRequest, payload: TokenIn) -> tuple[int, dict[str, object]]:
    token, clear = services.api_token_create(actor=actor_of(request), **payload.dict())
    withhold_answer(request)  # the clear token is shown once, never kept for a replay
    return 201, {**TokenOut.from_orm(token).dict(), "token": clear}


@router.post("/api-tokens/{token_id}/revoke", response=TokenOut)
def api_token_revoke(request: HttpRequest, token_id: int) -> object:
    return services.api_token_revoke(actor=actor_of(request), token_id=token_id)


@router.get("/partners", response=list[PartnerOut])
def partner_list(request: HttpRequest) -> list[dict[str, object]]:
    return [_partner_out(p) for p in selectors.partner_list(actor=actor_of(request))]


@router.get("/partners/{partner_id}", response=PartnerOut)
def partner_get(request: HttpRequest, partner_id: int) -> dict[str, object]:
    return _partner_out(selectors.partner_get(actor=actor_of(request), partner_id=partner_id))


def _partner_out(partner: object) -> dict[str, object]:
    assert isinstance(partner, Partner)
    return {
        "id": partner.pk,
        "name": partner.name,
        "code": partner.code,
        "country": partner.country,
        "price_book": partner.price_book.code,
        "currency": partner.price_book.currency,
    }


class LegalEntityIn(Schema):
    legal_name: str
    address: str
    postal_code: str = ""
    city: str
    country: str
    vat_number: str = ""
    tax_number: str = ""


class LegalEntityOut(LegalEntityIn):
    vat_number_valid: bool


@router.get("/legal-entity", response=LegalEntityOut)
def legal_entity_get(request: HttpRequest) -> object:
    """The partner's legal entity, the buyer on its invoices (R-INV-1)."""
    from pbxportal.accounts.legal import PartnerLegalEntity
    from pbxportal.common.errors import NotFound

    entity = PartnerLegalEntity.objects.filter(partner_id=actor_of(request).own_partner_id).first()
    if entity is None:
        raise NotFound("No legal entity yet: PUT one.")
    return entity


@router.put("/legal-entity", response=LegalEntityOut)
def legal_entity_put(request: HttpRequest, payload: LegalEntityIn) -> object:
    """Set the partner's legal entity; VAT and tax numbers are validated (python-stdnum), a bad one
    is a 400 naming the field. Invoices issued before keep the entity they were issued with."""
    from pbxportal.accounts.legal import partner_legal_entity_set

    actor = actor_of(request)
    actor.require_partner_role("billing")
    return partner_legal_entity_set(partner_id=actor.own_partner_id, **payload.dict())
