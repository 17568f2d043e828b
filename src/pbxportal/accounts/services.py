"""Writes of the accounts domain: API tokens, customers and billing contacts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pycountry
from django.db import IntegrityError, transaction
from django.utils import timezone

from pbxportal.accounts import audit
from pbxportal.accounts.models import ApiToken, BillingContact, Customer, TokenScope, User
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, Forbidden
from pbxportal.common.tenancy import get_scoped

TOKEN_PREFIX = "pbxp_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_EXPIRY_DAYS = (30, 90, 365)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def api_token_create(
    *, actor: Actor, name: str, scope: str = TokenScope.WRITE, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create an API token; the clear token is returned once and never stored (R-API-1).

    A partner admin's token acts within the partner; a staff user's is a service token acting with
    their staff role. ``scope`` read (refused on writes) or write; ``expires_in_days`` or never."""
    if actor.is_partner:
        actor.require_partner_role()
    elif not actor.is_staff:
        raise Forbidden("API tokens belong to partner admins and staff.")
    name = name.strip()
    if not name:
        raise ApplicationError("name: a token needs a name.", fields={"name": "required"})
    if scope not in TokenScope.values:
        raise ApplicationError(f"scope: {scope!r} is not read or write.", fields={"scope": "invalid"})
    if expires_in_days is not None and not 1 <= expires_in_days <= 3660:
        raise ApplicationError(
            "expires_in_days: between 1 and 3660 days, or none for no expiry.",
            fields={"expires_in_days": "invalid"},
        )
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        partner_id=actor.user.partner_id,
        user=actor.user,
        name=name[:100],
        prefix=clear[:12],
        digest=_digest(clear),
        scope=scope,
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    audit.record(
        actor=actor.user,
        action="api_token.created",
        partner_id=token.partner_id,
        obj=token,
        name=token.name,
        scope=scope,
        expires_at=token.expires_at.isoformat() if token.expires_at else None,
    )
    return token, clear


def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    if actor.is_partner:
        actor.require_partner_role()
    token = get_scoped(ApiToken, actor, pk=token_id)
    if actor.is_staff and token.user_id != actor.user.pk:
        actor.require_staff("vendor_admin")  # a service token: its owner or a vendor admin
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor.user,
            action="api_token.revoked",
            partner_id=token.partner_id,
            obj=token,
            name=token.name,
        )
    return token


def api_token_authenticate(*, token: str, method: str = "GET") -> User | None:
    """The user of a valid bearer token (not revoked, not expired, user active), else None.
    A read-only token on a write is refused with 403 in the error shape."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    found = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(token), revoked_at__isnull=True, user__is_active=True)
        .exclude(expires_at__lte=now)
        .first()
    )
    if found is None:
        return None
    if found.scope == TokenScope.READ and method.upper() not in SAFE_METHODS:
        raise Forbidden(
            f"This API token is read-only: {method.upper()} needs a read-write token.", code="read_only_token"
        )
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


def _country(code: str, field: str = "country") -> str:
    code = (code or "").strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ApplicationError(
            f"{field}: {code!r} is not an ISO 3166 country code (e.g. IT, GB).", fields={field: "invalid"}
        )
    return code


CUSTOMER_FIELDS = ("name", "country", "vat_number", "address", "city", "postal_code", "email")


def customer_create(*, actor: Actor, name: str, country: str, **details: str) -> Customer:
    if not actor.is_partner:
        raise Forbidden("Customers are created by a partner's users.")
    actor.require_partner_role("sales")
    name = name.strip()
    if not name:
        raise ApplicationError("name: a customer needs a name.", fields={"name": "required"})
    try:
        with transaction.atomic():
            return Customer.objects.create(
                partner_id=actor.own_partner_id,
                name=name,
                country=_country(country),
                **{k: (v or "").strip() for k, v in details.items() if k in CUSTOMER_FIELDS},
            )
    except IntegrityError:
        raise Conflict(
            f"name: a customer named {name!r} exists already.", fields={"name": "duplicate"}
        ) from None


def customer_update(*, actor: Actor, customer_id: int, **changes: str) -> Customer:
    actor.require_partner_role("sales")
    customer = get_scoped(Customer, actor, pk=customer_id)
    for key, value in changes.items():
        if key not in CUSTOMER_FIELDS or value is None:
            continue
        if key == "country":
            value = _country(value)
        if key == "name" and not value.strip():
            raise ApplicationError("name: a customer needs a name.", fields={"name": "required"})
        setattr(customer, key, value.strip())
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise Conflict("name: another customer has this name.", fields={"name": "duplicate"}) from None
    return customer


def billing_contact_create(
    *, actor: Actor, name: str, email: str, company: str = "", address: str = "", is_default: bool = False
) -> BillingContact:
    """Add a billing receiver (R-EX-2); the first one becomes the default."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if not actor.is_partner:
        raise Forbidden("Billing contacts belong to a partner.")
    actor.require_partner_role("billing", "sales")
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            f"email: {email!r} is not an email address.", fields={"email": "invalid"}
        ) from None
    if not name.strip():
        raise ApplicationError("name: required.", fields={"name": "required"})
    with transaction.atomic():
        has_default = BillingContact.objects.filter(partner_id=actor.own_partner_id, is_default=True).exists()
        if is_default and has_default:
            BillingContact.objects.filter(partner_id=actor.own_partner_id, is_default=True).update(
                is_default=False
            )
        return BillingContact.objects.create(
            partner_id=actor.own_partner_id,
            name=name.strip(),
            email=email.strip(),
            company=company.strip(),
            address=address.strip(),
            is_default=is_default or not has_default,
        )
