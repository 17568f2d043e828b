"""The catalog as data (R-CAT-1..5): products, plans per term, price books and their prices.

Loaded from files by ``pbxportal catalog load DIR`` (see catalog.loader and docs/catalog.md).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Family(models.TextChoices):
    PBX = "pbx", _("PBX model")
    LICENCE = "licence", _("Licence profile")
    STORAGE = "storage", _("Cloud storage")
    VOICE = "voice", _("Voice trunk")
    NUMBER = "number", _("Numbers (DID)")
    HWAAS = "hwaas", _("Hardware as a service")
    SOFTWARE_PLAN = "software_plan", _("Software PBX plan")
    EXPANSION = "expansion", _("Software PBX expansion or service")
    FEE = "fee", _("One-off fee")


class PricingModel(models.TextChoices):
    """R-CAT-5."""

    PER_UNIT = "per_unit", _("Per unit")
    FLAT = "flat", _("Flat")
    BANDED = "banded", _("Tiered by band")
    USAGE = "usage", _("Usage")
    ONE_OFF = "one_off", _("One-off")


class PlanTerm(models.TextChoices):
    """R-CAT-3, plus one_off for a price paid once."""

    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")
    FIVE_YEAR = "five_year", _("Five years")
    LIFETIME = "lifetime", _("Lifetime")
    ONE_OFF = "one_off", _("One-off")


class PriceBookType(models.TextChoices):
    """R-CAT-4."""

    GOLD = "gold", _("Gold")
    SILVER = "silver", _("Silver")
    RESELLER = "reseller", _("Reseller")


class Product(models.Model):
    code = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=20, choices=Family.choices)
    pricing_model = models.CharField(max_length=20, choices=PricingModel.choices)
    unit = models.CharField(max_length=40, blank=True, help_text="user, extension, device, GB, call...")
    description = models.TextField(blank=True)
    min_commitment_months = models.PositiveSmallIntegerField(
        default=0, help_text="R-HW-5, separate from the term"
    )
    auto_renew_optional = models.BooleanField(
        default=False, help_text="R-EX-4: the partner may switch auto-renew off"
    )
    attributes = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    max_quantity = models.PositiveIntegerField(
        default=10_000, help_text="The most units of it one PBX may hold or one order may name (R-CAT-1)"
    )

    class Meta:
        ordering = ["family", "code"]

    def __str__(self) -> str:
        return self.code


class Plan(models.Model):
    """A product sold for one term; its code is the price-list item code (e.g. CLASSOUND-FLAT-1m)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="plans")
    code = models.CharField(max_length=80, unique=True)
    term = models.CharField(max_length=20, choices=PlanTerm.choices)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["product__code", "term"]
        constraints = [models.UniqueConstraint(fields=["product", "term"], name="plan_unique_product_term")]

    def __str__(self) -> str:
        return self.code


class PriceBook(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=PriceBookType.choices)
    currency = models.CharField(max_length=3)
    demo = models.BooleanField(default=False, help_text="Invented demo prices")

    class Meta:
        ordering = ["type", "currency"]

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    """A plan's price in a book; banded prices (R-CAT-5) have one row per band of users."""

    book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="prices")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    band_min = models.PositiveIntegerField(null=True, blank=True)
    band_max = models.PositiveIntegerField(null=True, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        ordering = ["plan__code", "band_min"]
        constraints = [
            models.UniqueConstraint(fields=["book", "plan", "band_min"], name="price_unique_book_plan_band"),
            models.UniqueConstraint(
                fields=["book", "plan"],
                condition=Q(band_min__isnull=True),
                name="price_unique_book_plan_unbanded",
            ),
            models.CheckConstraint(name="price_not_negative", condition=Q(amount__gte=0)),
        ]

    @property
    def band_label(self) -> str:
        if self.band_min is None:
            return ""
        return f"Users {self.band_min}-{self.band_max}" if self.band_max else f"Users {self.band_min}+"


class DestinationRate(models.Model):
    """Call termination (R-VT-3/4/7): a prefix in an area (CTA1..CTA6), fixed or mobile, per book."""

    book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="destination_rates")
    prefix = models.CharField(max_length=16, help_text="E.164 digits without +")
    country = models.CharField(max_length=2)
    kind = models.CharField(max_length=10, choices=[("fixed", "Fixed"), ("mobile", "Mobile"), ("any", "Any")])
    area = models.CharField(max_length=5)
    rate_per_minute = models.DecimalField(max_digits=18, decimal_places=6)
    sms_rate = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["prefix"]
        constraints = [
            models.UniqueConstraint(fields=["book", "prefix"], name="destination_rate_unique_prefix")
        ]


class NumberRequirement(models.Model):
    """What ordering or porting a number of a country needs (R-VT-10): catalog data."""

    country = models.CharField(max_length=2)
    number_type = models.CharField(max_length=20, help_text="geographic, national, mobile, freephone")
    address_required = models.BooleanField(default=True)
    documents = models.JSONField(default=list, help_text="the documents the country requires")
    porting_documents = models.JSONField(default=list)
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="number_requirements",
        help_text="the number product whose plans price it (its monthly fee)",
    )

    class Meta:
        ordering = ["country", "number_type"]
        constraints = [
            models.UniqueConstraint(fields=["country", "number_type"], name="number_requirement_unique")
        ]


class PriceChange(models.Model):
    """The history of a price book item (R-CAT-1): who changed it, when, before and after."""

    price = models.ForeignKey(Price, null=True, on_delete=models.SET_NULL, related_name="changes")
    book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="price_changes")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="price_changes")
    band_min = models.PositiveIntegerField(null=True, blank=True)
    before = models.DecimalField(max_digits=18, decimal_places=6)
    after = models.DecimalField(max_digits=18, decimal_places=6)
    changed_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]


class TemplateKind(models.TextChoices):
    """Downloadable templates (issue 16 item 8): what a partner fills in and uploads back."""

    NUMBER_DOCUMENTS = "number_documents", _("Number order documents")
    PORTING_FORM = "porting_form", _("Porting form")
    HWAAS_AGREEMENT = "hwaas_agreement", _("HWaaS agreement")


class DocumentTemplate(models.Model):
    """A template declared in a catalog's ``catalog.yaml`` (``templates``): the country documents of
    number orders (per country), the porting form, the HWaaS agreement. Its file is versioned:
    a vendor admin replaces it with a new version and the old ones are kept."""

    code = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=TemplateKind.choices)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2; empty: every country")
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind", "country", "code"]

    def __str__(self) -> str:
        return self.title


class DocumentTemplateVersion(models.Model):
    """One file of a template; the highest version is the one partners download. Kept in the
    database (templates are small, at most DOCUMENT_TEMPLATE_MAX_BYTES) so every web process
    serves the same file without shared storage."""

    template = models.ForeignKey(DocumentTemplate, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # "catalog" (loaded from the catalog's file) or "upload" (a vendor admin's replacement)
    source = models.CharField(max_length=10, default="catalog")
    uploaded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="document_template_version_unique")
        ]
