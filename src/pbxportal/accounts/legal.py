"""Legal entities on invoices (R-INV-1): the partner's (stored, VAT/tax number validated with
python-stdnum) and the vendor's (from settings ``VENDOR_*``: legal name, address, VAT number,
bank details, payment terms). Invoices keep a snapshot of both, taken when they are issued."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import models
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from pbxportal.common.errors import ApplicationError

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


class PartnerLegalEntity(models.Model):
    """Who the partner is in law: the buyer on its invoices."""

    partner = models.OneToOneField("accounts.Partner", on_delete=models.CASCADE, related_name="legal_entity")
    legal_name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, help_text="ISO 3166 alpha-2")
    # Compact form (EU VAT numbers with their country prefix), as python-stdnum returns it.
    vat_number = models.CharField(max_length=40, blank=True)
    vat_number_valid = models.BooleanField(default=False)
    tax_number = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_path = "partner"

    class Meta:
        app_label = "accounts"

    def __str__(self) -> str:
        return self.legal_name

    def snapshot(self) -> dict[str, Any]:
        return {
            "legal_name": self.legal_name,
            "address": self.address,
            "postal_code": self.postal_code,
            "city": self.city,
            "country": self.country,
            "vat_number": self.vat_number,
            "tax_number": self.tax_number,
        }


def vat_number_check(*, country: str, number: str) -> str:
    """The compact VAT number, or an ApplicationError naming the field.

    EU countries: python-stdnum's ``stdnum.eu.vat`` (country prefix added when missing, and it
    must match ``country``). Elsewhere the country's own stdnum module when it has a ``vat``
    (e.g. ``stdnum.ch.vat``); a country without one keeps the number as given (``tax_number``).
    """
    country = country.upper()
    number = number.strip()
    if not number:
        return ""
    if country in EU_COUNTRIES or country == "EL":
        candidate = number if number[:2].isalpha() else f"{country}{number}"
        try:
            compact: str = eu_vat.validate(candidate)
        except StdnumError as exc:
            raise ApplicationError(
                f"vat_number: {number!r} is not a valid {country} VAT number ({exc}).",
                fields={"vat_number": "invalid"},
            ) from None
        if compact[:2] not in (country, "EL" if country == "GR" else country):
            raise ApplicationError(
                f"vat_number: {number!r} is a VAT number of another country than {country}.",
                fields={"vat_number": "country"},
            )
        return compact
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        return number
    try:
        return str(module.validate(number))
    except StdnumError as exc:
        raise ApplicationError(
            f"vat_number: {number!r} is not a valid {country} VAT number ({exc}).",
            fields={"vat_number": "invalid"},
        ) from None


def tax_number_check(*, country: str, number: str) -> str:
    """A national tax number (US: EIN through ``stdnum.us.ein``), validated where stdnum knows one."""
    number = number.strip()
    if not number:
        return ""
    module = get_cc_module(country.lower(), "ein" if country.upper() == "US" else "vat")
    if module is None:
        return number
    try:
        return str(module.validate(number))
    except StdnumError as exc:
        raise ApplicationError(
            f"tax_number: {number!r} is not a valid {country.upper()} tax number ({exc}).",
            fields={"tax_number": "invalid"},
        ) from None


def partner_legal_entity_set(
    *,
    partner_id: int,
    legal_name: str,
    address: str,
    city: str,
    country: str,
    postal_code: str = "",
    vat_number: str = "",
    tax_number: str = "",
) -> PartnerLegalEntity:
    """Create or replace a partner's legal entity; numbers validated (python-stdnum) or refused."""
    if not legal_name.strip():
        raise ApplicationError("legal_name: required.", fields={"legal_name": "required"})
    if len(country) != 2 or not country.isalpha():
        raise ApplicationError("country: an ISO 3166 alpha-2 code.", fields={"country": "invalid"})
    country = country.upper()
    vat = vat_number_check(country=country, number=vat_number)
    tax = tax_number_check(country=country, number=tax_number)
    entity, _ = PartnerLegalEntity.objects.update_or_create(
        partner_id=partner_id,
        defaults={
            "legal_name": legal_name.strip(),
            "address": address.strip(),
            "postal_code": postal_code.strip(),
            "city": city.strip(),
            "country": country,
            "vat_number": vat,
            "vat_number_valid": bool(vat),
            "tax_number": tax,
        },
    )
    return entity


@dataclass(frozen=True)
class VendorLegalEntity:
    legal_name: str
    address: str
    postal_code: str
    city: str
    country: str
    vat_number: str
    tax_number: str
    bank_name: str
    iban: str
    bic: str
    payment_terms: str
    email: str

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


def vendor_legal_entity() -> VendorLegalEntity:
    """The seller on every invoice, from settings (``VENDOR_*``, docs/configuration in README)."""
    return VendorLegalEntity(
        legal_name=settings.VENDOR_LEGAL_NAME,
        address=settings.VENDOR_ADDRESS,
        postal_code=settings.VENDOR_POSTAL_CODE,
        city=settings.VENDOR_CITY,
        country=settings.VENDOR_COUNTRY,
        vat_number=settings.VENDOR_VAT_NUMBER,
        tax_number=settings.VENDOR_TAX_NUMBER,
        bank_name=settings.VENDOR_BANK_NAME,
        iban=settings.VENDOR_IBAN,
        bic=settings.VENDOR_BIC,
        payment_terms=settings.VENDOR_PAYMENT_TERMS.format(days=settings.INVOICE_PAYMENT_DAYS),
        email=settings.VENDOR_BILLING_EMAIL,
    )


def buyer_snapshot(partner: Any, *, entity: PartnerLegalEntity | bool | None = True) -> dict[str, Any]:
    """The buyer block of an invoice: the legal entity, or the partner's name and country alone.
    ``entity``: already fetched (or None when the partner has none); by default it is read."""
    if entity is True:
        entity = PartnerLegalEntity.objects.filter(partner_id=partner.pk).first()
    if isinstance(entity, PartnerLegalEntity):
        return {**entity.snapshot(), "vat_number_valid": entity.vat_number_valid}
    return {
        "legal_name": partner.name,
        "address": "",
        "postal_code": "",
        "city": "",
        "country": partner.country,
        "vat_number": "",
        "tax_number": "",
        "vat_number_valid": False,
    }
