"""A partner's users (R-UI-1): invitations by email (a one-time link that sets the password),
roles, deactivation, the partner's MFA requirement. The last active admin of a partner stays an
active admin. Every change is an audit event (accounts.audit)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from pbxportal.accounts import audit
from pbxportal.accounts.models import Invitation, Partner, PartnerRole, User
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, Forbidden, NotFound

INVITATION_DAYS = 7


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _partner_of(actor: Actor, partner_id: int | None) -> Partner:
    """A partner admin manages its own partner's users; a vendor admin any partner's."""
    if actor.is_staff:
        actor.require_staff("vendor_admin")
        if partner_id is None:
            raise ApplicationError("partner: required for staff.", fields={"partner": "required"})
        partner = Partner.objects.filter(pk=partner_id).first()
        if partner is None:
            raise NotFound()
        return partner
    if actor.partner_role != PartnerRole.ADMIN:
        raise Forbidden("Managing users needs the partner role admin.")
    return Partner.objects.get(pk=actor.own_partner_id)


def _role(role: str) -> str:
    if role not in PartnerRole.values:
        raise ApplicationError(
            f"role: {role!r} is not one of {', '.join(PartnerRole.values)}.", fields={"role": "invalid"}
        )
    return role


def invite(*, actor: Actor, email: str, role: str, partner_id: int | None = None) -> tuple[Invitation, str]:
    """Invite ``email`` as a user with ``role``; mails the link and returns it (shown once)."""
    partner = _partner_of(actor, partner_id)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            f"email: {email!r} is not an email address.", fields={"email": "invalid"}
        ) from None
    role = _role(role)
    if User.objects.filter(email__iexact=email, is_active=True).exists():
        raise Conflict(f"email: {email} already has a user.", fields={"email": "duplicate"})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            partner=partner,
            email=email,
            role=role,
            digest=_digest(token),
            invited_by=actor.user,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit.record(
            actor=actor.user,
            action="user.invited",
            partner_id=partner.pk,
            obj=invitation,
            email=email,
            role=role,
        )
    link = f"{settings.PORTAL_BASE_URL.rstrip('/')}/invitation/{token}/"
    send_mail(
        gettext("Your access to the %(vendor)s partner portal") % {"vendor": settings.VENDOR_NAME},
        f"You are invited to the partner portal of {settings.VENDOR_NAME} as a user of {partner.name} "
        f"({invitation.get_role_display()}).\n\nChoose your username and password here (valid "
        f"{INVITATION_DAYS} days, once):\n{link}\n",
        settings.DEFAULT_FROM_EMAIL,
        [email],
    )
    return invitation, link


def invitation_for(token: str) -> Invitation:
    """The open invitation of a link; a used, expired or unknown link is refused alike."""
    invitation = Invitation.objects.select_related("partner").filter(digest=_digest(token or "")).first()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= timezone.now():
        raise NotFound("This invitation link is unknown, used or expired. Ask your admin for a new one.")
    return invitation


def accept(*, token: str, username: str, password: str) -> User:
    """Create the invited user with the password chosen; the mailed link proves the address."""
    username = (username or "").strip()
    if not username:
        raise ApplicationError("username: required.", fields={"username": "required"})
    with transaction.atomic():
        invitation = invitation_for(token)
        Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(f"username: {username!r} is taken.", fields={"username": "duplicate"})
        user = User(
            username=username,
            email=invitation.email,
            partner=invitation.partner,
            partner_role=invitation.role,
        )
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ApplicationError(
                "password: " + " ".join(exc.messages), fields={"password": "invalid"}
            ) from None
        user.set_password(password)
        user.save()
        EmailAddress.objects.create(user=user, email=invitation.email, verified=True, primary=True)
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), user=user
        )
        if not updated:
            raise NotFound("This invitation link is unknown, used or expired.")
        audit.record(
            actor=user,
            action="user.joined",
            partner_id=invitation.partner_id,
            obj=user,
            role=user.partner_role,
        )
    return user


def _managed_user(actor: Actor, user_id: int) -> User:
    target = User.objects.select_for_update().filter(pk=user_id, partner__isnull=False).first()
    if target is None:
        raise NotFound()
    _partner_of(actor, target.partner_id)
    if actor.is_partner and target.partner_id != actor.own_partner_id:
        raise NotFound()
    return target


def _guard_last_admin(target: User) -> None:
    """The partner keeps at least one active admin (so someone can manage its users)."""
    assert target.partner_id is not None
    others = (
        User.objects.select_for_update()
        .filter(partner_id=target.partner_id, partner_role=PartnerRole.ADMIN, is_active=True)
        .exclude(pk=target.pk)
    )
    if target.partner_role == PartnerRole.ADMIN and target.is_active and not list(others):
        raise Conflict(
            "The last admin of a partner cannot be removed or lose the admin role: make another user admin first.",
            code="last_admin",
        )


def change_role(*, actor: Actor, user_id: int, role: str) -> User:
    with transaction.atomic():
        target = _managed_user(actor, user_id)  # first: another partner's id is a 404 (R-TEN-1)
        role = _role(role)
        before = target.partner_role
        if before == role:
            return target
        if role != PartnerRole.ADMIN:
            _guard_last_admin(target)
        target.partner_role = role
        target.save(update_fields=["partner_role"])
        audit.record(
            actor=actor.user,
            action="user.role_changed",
            partner_id=target.partner_id,
            obj=target,
            username=target.username,
            before=before,
            after=role,
        )
    return target


def deactivate(*, actor: Actor, user_id: int) -> User:
    with transaction.atomic():
        target = _managed_user(actor, user_id)
        if not target.is_active:
            return target
        _guard_last_admin(target)
        target.is_active = False
        target.save(update_fields=["is_active"])
        # Their API tokens stop with them (api_token_authenticate checks user.is_active too).
        audit.record(
            actor=actor.user,
            action="user.deactivated",
            partner_id=target.partner_id,
            obj=target,
            username=target.username,
        )
    return target


def reactivate(*, actor: Actor, user_id: int) -> User:
    with transaction.atomic():
        target = _managed_user(actor, user_id)
        if target.is_active:
            return target
        target.is_active = True
        target.save(update_fields=["is_active"])
        audit.record(
            actor=actor.user,
            action="user.reactivated",
            partner_id=target.partner_id,
            obj=target,
            username=target.username,
        )
    return target


def set_mfa_required(*, actor: Actor, required: bool, partner_id: int | None = None) -> Partner:
    """A partner admin requires (or no longer requires) TOTP of all the partner's users."""
    partner = _partner_of(actor, partner_id)
    if partner.mfa_required != required:
        before = partner.mfa_required
        partner.mfa_required = required
        partner.save(update_fields=["mfa_required"])
        audit.record(
            actor=actor.user,
            action="partner.mfa_required",
            partner_id=partner.pk,
            obj=partner,
            before=before,
            after=required,
        )
    return partner
