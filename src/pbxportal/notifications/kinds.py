"""The decisions a partner waits for, and which of its users each one concerns (by partner role).

The roles mirror ``common.navigation`` (who may order hardware and numbers, who pays): a user is
told about what its role may act on. "admin" is in every set.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    AGREEMENT_ACCEPTED = "agreement_accepted", _("HWaaS agreement accepted")
    AGREEMENT_REJECTED = "agreement_rejected", _("HWaaS agreement rejected")
    NUMBER_ORDER_APPROVED = "number_order_approved", _("Number order approved")
    NUMBER_ORDER_REJECTED = "number_order_rejected", _("Number order rejected")
    CORRECTION_APPLIED = "correction_applied", _("Correction applied")
    CORRECTION_REJECTED = "correction_rejected", _("Correction rejected")
    HARDWARE_SHIPPED = "hardware_shipped", _("Hardware shipped")
    PAYMENT_AWAITED = "payment_awaited", _("Order awaiting payment")
    RENEWAL_REMINDER = "renewal_reminder", _("Renewal reminder")


ORDERING = frozenset({"admin", "sales", "technician"})
SELLING_OR_BILLING = frozenset({"admin", "sales", "billing"})
CORRECTING = frozenset({"admin", "sales", "technician", "billing"})

ROLES: dict[str, frozenset[str]] = {
    Kind.AGREEMENT_ACCEPTED: ORDERING,
    Kind.AGREEMENT_REJECTED: ORDERING,
    Kind.NUMBER_ORDER_APPROVED: ORDERING,
    Kind.NUMBER_ORDER_REJECTED: ORDERING,
    Kind.CORRECTION_APPLIED: CORRECTING,
    Kind.CORRECTION_REJECTED: CORRECTING,
    Kind.HARDWARE_SHIPPED: ORDERING,
    Kind.PAYMENT_AWAITED: SELLING_OR_BILLING,
    Kind.RENEWAL_REMINDER: SELLING_OR_BILLING,
}


def kinds_for_role(role: str) -> list[Kind]:
    """The kinds a partner role is told about (the preferences page lists only these)."""
    return [kind for kind in Kind if role in ROLES[kind]]
