"""Demo data for the embedded run: both demo catalogs, staff, three partners with users,
customers and billing contacts, then their PBXs, invoices, payments, calls and orders
(``demo/activity.py``, made through the services). Loaded by ``pbxportal serve`` on an empty
database only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from pbxportal.accounts.legal import partner_legal_entity_set
from pbxportal.accounts.models import BillingContact, Customer, Partner, PartnerRole, StaffRole, User
from pbxportal.catalog.loader import load_catalog
from pbxportal.catalog.models import PriceBook
from pbxportal.demo.activity import load_activity

CATALOGS = Path(__file__).parent / "catalogs"
DEMO_CATALOG_DIRS = [CATALOGS / "per_user", CATALOGS / "software"]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str


STAFF = [
    ("admin", "admin-demo-2026", StaffRole.VENDOR_ADMIN),
    ("areamanager", "area-demo-2026", StaffRole.AREA_MANAGER),
    ("care", "care-demo-2026", StaffRole.CUSTOMER_CARE),
]
PARTNERS = [
    # code, name, country, book, users (username, password, role), customers
    (
        "alpha",
        "Alpha Telecom (demo)",
        "IT",
        "GOLD-EUR",
        [
            ("alpha-admin", "alpha-demo-2026", PartnerRole.ADMIN),
            ("alpha-sales", "alpha-sales-2026", PartnerRole.SALES),
            ("alpha-billing", "alpha-billing-2026", PartnerRole.BILLING),
        ],
        [
            ("Rossi Logistica S.r.l.", "IT", "Milano"),
            ("Bianchi Hotels S.p.A.", "IT", "Roma"),
            ("Dubai Trading LLC", "AE", "Dubai"),
        ],
    ),
    (
        "beta",
        "Beta Networks (demo)",
        "DE",
        "SILVER-EUR",
        [("beta-admin", "beta-demo-2026", PartnerRole.ADMIN)],
        [("Spree Dental GmbH", "DE", "Berlin")],
    ),
    (
        "gamma",
        "Gamma Soft (demo)",
        "US",
        "SW-GOLD-USD",
        [("gamma-admin", "gamma-demo-2026", PartnerRole.ADMIN)],
        [("Lakeside Resort Inc", "US", "Chicago")],
    ),
]


# The partners' legal entities (R-INV-1): an Italian partner (domestic VAT 22 %), a German one with
# a valid VAT number (reverse charge), a US one (zero-rated outside the EU).
LEGAL = {
    "alpha": ("Alpha Telecom S.r.l.", "Via Torino 10", "20123", "Milano", "IT", "IT00743110157", ""),
    "beta": ("Beta Networks GmbH", "Friedrichstrasse 100", "10117", "Berlin", "DE", "DE136695976", ""),
    "gamma": ("Gamma Soft Inc.", "200 W Madison St", "60606", "Chicago", "US", "", "12-3456789"),
}


def database_is_empty() -> bool:
    return not User.objects.exists() and not PriceBook.objects.exists()


@transaction.atomic
def load_demo() -> list[DemoLogin]:
    for directory in DEMO_CATALOG_DIRS:
        load_catalog(directory)
    logins: list[DemoLogin] = []
    staff: dict[str, User] = {}
    for username, password, role in STAFF:
        user = User.objects.create_user(
            username=username, password=password, staff_role=role, email=f"{username}@vendor.example"
        )
        staff[role] = user
        logins.append(DemoLogin(f"staff ({role.label})", username, password))
    for code, name, country, book, users, customers in PARTNERS:
        partner = Partner.objects.create(
            name=name,
            code=code,
            country=country,
            price_book=PriceBook.objects.get(code=book),
            area_manager=staff[StaffRole.AREA_MANAGER] if code != "gamma" else None,
        )
        legal_name, address, postal_code, city, legal_country, vat, tax = LEGAL[code]
        partner_legal_entity_set(
            partner_id=partner.pk,
            legal_name=legal_name,
            address=address,
            postal_code=postal_code,
            city=city,
            country=legal_country,
            vat_number=vat,
            tax_number=tax,
        )
        for username, password, partner_role in users:
            User.objects.create_user(
                username=username,
                password=password,
                partner=partner,
                partner_role=partner_role,
                email=f"{username}@{code}.example",
            )
            logins.append(DemoLogin(f"partner {partner.name} ({partner_role.label})", username, password))
        for customer_name, customer_country, city in customers:
            Customer.objects.create(partner=partner, name=customer_name, country=customer_country, city=city)
        BillingContact.objects.create(
            partner=partner, name=f"{name} accounts", email=f"billing@{code}.example", is_default=True
        )
    load_activity()
    return logins


def demo_logins() -> list[DemoLogin]:
    logins = [DemoLogin(f"staff ({role.label})", u, p) for u, p, role in STAFF]
    for _, name, _, _, users, _ in PARTNERS:
        logins += [DemoLogin(f"partner {name} ({role.label})", u, p) for u, p, role in users]
    return logins
