"""allauth signal receivers: a password reset through the mailed link proves the address."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import password_reset
from django.dispatch import receiver


@receiver(password_reset)
def reset_link_verifies_the_address(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """The reset link reached the user's address: mark it verified (allauth lets only users without
    unverified addresses set up MFA)."""
    if not user.email:
        return
    updated = EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    if not updated:
        EmailAddress.objects.create(
            user=user,
            email=user.email,
            verified=True,
            primary=not EmailAddress.objects.filter(user=user).exists(),
        )
