"""A small, exact test catalog and PBX builders for the subscription engine's tests.

Prices are chosen so arithmetic is easy to check by hand: a yearly UC-Business user costs
120.00, a monthly one 10.00, the yearly voice-trunk flat fee 73.20 per user (band 1-5).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pbxportal.accounts.models import BillingContact, Customer, Partner, PartnerRole, StaffRole, User
from pbxportal.catalog.models import Plan, Price, PriceBook, Product
from pbxportal.common.actor import Actor
from pbxportal.pbx import services
from pbxportal.pbx.models import Pbx

TERMS = {"monthly": Decimal(1), "yearly": Decimal(12), "five_year": Decimal(60), "lifetime": Decimal(100)}
RECURRING = ("monthly", "yearly", "five_year")


def _product(
    book: PriceBook,
    code: str,
    family: str,
    model: str,
    monthly: Decimal | None,
    terms: tuple[str, ...],
    bands: list[tuple[int, int | None, Decimal]] | None = None,
    **extra: Any,
) -> Product:
    product = Product.objects.create(
        code=code, name=code.title(), family=family, pricing_model=model, **extra
    )
    for term in terms:
        plan = Plan.objects.create(product=product, code=f"{code}-{term}", term=term)
        if bands:
            for low, high, price in bands:
                Price.objects.create(
                    book=book, plan=plan, band_min=low, band_max=high, amount=price * TERMS[term]
                )
        else:
            assert monthly is not None
            Price.objects.create(book=book, plan=plan, amount=monthly * TERMS[term])
    return product


def catalog(book: PriceBook) -> dict[str, Product]:
    everything = ("monthly", "yearly", "five_year", "lifetime")
    return {
        "cloud": _product(
            book,
            "WPBX-CLOUD",
            "pbx",
            "flat",
            Decimal(0),
            RECURRING,
            attributes={"cloud": True, "regions": ["eu-west"]},
        ),
        "vm": _product(book, "WPBX-VMHW", "pbx", "flat", Decimal(0), everything, attributes={"cloud": False}),
        "business": _product(
            book,
            "UC-BUSINESS",
            "licence",
            "per_unit",
            Decimal(10),
            everything,
            attributes={"user_licence": True},
        ),
        "essential": _product(
            book,
            "UC-ESSENTIAL",
            "licence",
            "per_unit",
            Decimal("5.50"),
            everything,
            attributes={"user_licence": True},
        ),
        "service": _product(
            book,
            "PBX-SERVICE",
            "licence",
            "per_unit",
            Decimal(1),
            everything,
            attributes={"user_licence": False},
        ),
        "storage": _product(book, "STORAGE-50", "storage", "per_unit", Decimal(3), RECURRING),
        "voice": _product(
            book,
            "VOICE-FLAT",
            "voice",
            "banded",
            None,
            RECURRING,
            bands=[(1, 5, Decimal("6.10")), (6, None, Decimal(5))],
            min_commitment_months=6,
            attributes={"counted_profiles": ["UC-BUSINESS", "UC-ESSENTIAL"], "min_firmware": "6.0"},
        ),
        "monthly_only": _product(book, "MONTHLY-ONLY", "hwaas", "per_unit", Decimal(4), ("monthly",)),
        "device": _product(
            book, "HW-PHONE", "hwaas", "per_unit", Decimal(5), RECURRING, min_commitment_months=6
        ),
        "enterprise": _product(
            book, "PSE-ENT", "software_plan", "flat", Decimal(25), ("yearly",), attributes={"plan_rank": 1}
        ),
        "ultimate": _product(
            book, "PSE-ULT", "software_plan", "flat", Decimal(40), ("yearly",), attributes={"plan_rank": 2}
        ),
        "pms": _product(
            book, "PSE-PMS", "expansion", "flat", Decimal(12), ("yearly",), auto_renew_optional=True
        ),
    }


class World:
    def __init__(self) -> None:
        self.book = PriceBook.objects.create(code="TEST-EUR", name="Test", type="gold", currency="EUR")
        self.products = catalog(self.book)
        self.manager = User.objects.create_user(
            "am", password="x" * 12, staff_role=StaffRole.AREA_MANAGER, email="am@vendor.example"
        )
        self.partner = Partner.objects.create(
            name="P", code="p", country="IT", price_book=self.book, area_manager=self.manager
        )
        BillingContact.objects.create(
            partner=self.partner, name="Billing", email="billing@p.example", is_default=True
        )
        self.user = User.objects.create_user(
            "p-admin", password="x" * 12, partner=self.partner, partner_role=PartnerRole.ADMIN
        )
        self.staff = User.objects.create_user("care", password="x" * 12, staff_role=StaffRole.VENDOR_ADMIN)
        self.actor = Actor(user=self.user)
        self.staff_actor = Actor(user=self.staff)
        self.customer = Customer.objects.create(partner=self.partner, name="C", country="IT")

    def pbx(
        self,
        *,
        term: str = "yearly",
        start: date,
        licences: dict[str, int] | None = None,
        cloud: bool = False,
        name: str | None = None,
        firmware: str = "6.1",
    ) -> Pbx:
        result = services.pbx_create(
            actor=self.actor,
            customer_id=self.customer.pk,
            model_code="WPBX-CLOUD" if cloud else "WPBX-VMHW",
            name=name or f"pbx-{Pbx.objects.count() + 1}",
            term=term,
            licences={"UC-BUSINESS": 4} if licences is None else licences,
            region="eu-west" if cloud else "",
            today=start,
        )
        pbx = Pbx.objects.get(customer=self.customer, name=name or f"pbx-{Pbx.objects.count()}")
        assert result.invoice is None or result.invoice.pbx_id == pbx.pk
        Pbx.objects.filter(pk=pbx.pk).update(
            firmware_version=firmware, status="active", activated_at=pbx.created_at
        )
        pbx.refresh_from_db()
        assert result.pbx is not None
        pbx.new_pbx_key = result.pbx.new_pbx_key  # the key in clear, shown once at creation
        return pbx


def hwaas_agreement_on_record(world: World) -> None:
    """The world's customer has an accepted HWaaS agreement (R-HW-2), recorded without an upload:
    for tests that order devices as PBX services and are not about the agreement itself."""
    from pbxportal.hardware.models import AgreementStatus, HwaasAgreement

    HwaasAgreement.objects.get_or_create(
        customer=world.customer,
        status=AgreementStatus.ACCEPTED,
        defaults={
            "partner": world.partner,
            "file": "hwaas-agreements/on-record.pdf",
            "original_name": "on-record.pdf",
            "content_type": "application/pdf",
            "size": 1,
        },
    )
