"""Vendor staff, partners with their users, customers and billing contacts; API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    VENDOR_ADMIN = "vendor_admin", _("Vendor admin")
    AREA_MANAGER = "area_manager", _("Area manager")
    CUSTOMER_CARE = "customer_care", _("Customer care")


class PartnerRole(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SALES = "sales", _("Sales")
    TECHNICIAN = "technician", _("Technician")
    BILLING = "billing", _("Billing")


class Partner(models.Model):
    """A reseller of the vendor. Sees and pays the prices of its price book (R-CAT-4)."""

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=60, unique=True)
    country = models.CharField(max_length=2, help_text="ISO 3166 alpha-2")
    price_book = models.ForeignKey("catalog.PriceBook", on_delete=models.PROTECT, related_name="partners")
    area_manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_partners",
        limit_choices_to={"staff_role": StaffRole.AREA_MANAGER},
    )
    # Back office (issue 15): days to pay its invoices (empty: settings.INVOICE_PAYMENT_DAYS) and
    # the credit the vendor grants it, in the book's currency (empty: none set).
    payment_terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    credit_limit = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # Set by the partner's admin: every user of the partner must set up TOTP (docs/accounts.md).
    mfa_required = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "self"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def currency(self) -> str:
        return self.price_book.currency


class User(AbstractUser):
    """A person: vendor staff (``staff_role``) or a user of one partner (``partner`` + ``partner_role``)."""

    staff_role = models.CharField(max_length=20, choices=StaffRole.choices, blank=True)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    partner_role = models.CharField(max_length=20, choices=PartnerRole.choices, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_is_staff_xor_partner",
                condition=(Q(staff_role="") & Q(partner__isnull=False) & ~Q(partner_role=""))
                | (~Q(staff_role="") & Q(partner__isnull=True) & Q(partner_role=""))
                | (Q(staff_role="") & Q(partner__isnull=True) & Q(partner_role="")),
            )
        ]


class Customer(models.Model):
    """A customer of a partner (the end company that owns PBXs)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166 alpha-2")
    vat_number = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "name"], name="customer_unique_name_per_partner")
        ]

    def __str__(self) -> str:
        return self.name


class BillingContact(models.Model):
    """Who receives a partner's invoices (the partner's billing receivers, R-EX-2, R-INV-3)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="billing_contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    company = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300, blank=True)
    is_default = models.BooleanField(default=False)

    tenant_path = "partner"

    class Meta:
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(is_default=True),
                name="billing_contact_one_default_per_partner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class TokenScope(models.TextChoices):
    READ = "read", _("Read-only")
    WRITE = "write", _("Read-write")


class ApiToken(models.Model):
    """An API token: shown once at creation, stored as a SHA-256 digest (R-API-1).

    A partner user's token acts as that user within the partner; a staff user's token (no
    partner, a *service token* for the vendor's integrations) acts with their staff role. A
    read-only token is refused on every write (403); past ``expires_at`` it no longer authenticates.
    """

    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token")
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.WRITE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def is_service(self) -> bool:
        return self.partner_id is None


class Invitation(models.Model):
    """A partner admin's invitation of a new user: a one-time link mailed to ``email`` (stored as a
    SHA-256 digest) that sets the password; the new user gets ``role`` (docs/accounts.md)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=PartnerRole.choices)
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    tenant_path = "partner"

    class Meta:
        ordering = ["-created_at", "-id"]


# A model of this app kept in its own module (legal entities on invoices, R-INV-1).
from pbxportal.accounts.legal import PartnerLegalEntity  # noqa: E402, F401
