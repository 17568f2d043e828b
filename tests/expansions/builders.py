"""A software-PBX world for the expansion and licensing tests: the demo software-PBX catalog
(P-Series plans and services, invented USD prices) loaded as data, one partner on its Gold book."""

from __future__ import annotations

from datetime import date

from pbxportal.accounts.models import BillingContact, Customer, Partner, PartnerRole, StaffRole, User
from pbxportal.catalog.loader import load_catalog
from pbxportal.catalog.models import PriceBook
from pbxportal.common.actor import Actor
from pbxportal.demo.seed import CATALOGS
from pbxportal.pbx import services
from pbxportal.pbx.models import Pbx

PASSWORD = "correct-horse-battery"


class SoftwareWorld:
    def __init__(self, code: str = "gamma") -> None:
        if not PriceBook.objects.filter(code="SW-GOLD-USD").exists():
            load_catalog(CATALOGS / "software")
        self.book = PriceBook.objects.get(code="SW-GOLD-USD")
        self.partner = Partner.objects.create(
            name=f"Partner {code}", code=code, country="US", price_book=self.book
        )
        self.contact = BillingContact.objects.create(
            partner=self.partner, name="Accounts", email=f"billing@{code}.example", is_default=True
        )
        self.user = User.objects.create_user(
            f"{code}-admin", password=PASSWORD, partner=self.partner, partner_role=PartnerRole.ADMIN
        )
        self.actor = Actor(user=self.user)
        self.customer = Customer.objects.create(partner=self.partner, name=f"Hotel of {code}", country="US")
        staff = User.objects.filter(username="billing-ops").first()
        self.staff = staff or User.objects.create_user(
            "billing-ops", password=PASSWORD, staff_role=StaffRole.VENDOR_ADMIN
        )
        self.staff_actor = Actor(user=self.staff)

    def pbx(self, *, name: str, plan: str = "PSE-ENTERPRISE", start: date) -> Pbx:
        """A software PBX (its model is a software plan), not activated yet."""
        result = services.pbx_create(
            actor=self.actor,
            customer_id=self.customer.pk,
            model_code=plan,
            name=name,
            term="yearly",
            licences={},
            today=start,
        )
        pbx = Pbx.objects.get(name=name)
        assert result.pbx is not None
        pbx.new_pbx_key = result.pbx.new_pbx_key  # the key in clear, shown once at creation
        return pbx
