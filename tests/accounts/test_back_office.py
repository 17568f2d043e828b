"""The vendor's back office: vendor admins onboard and edit partners (legal entity, price book
R-CAT-4, area manager, payment terms, credit limit), invite the first admin; every change audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core import mail
from django.test import Client

from pbxportal.accounts.models import Partner, PartnerRole, StaffRole, User
from pbxportal.catalog.models import PriceBook
from pbxportal.common.models import AuditEvent
from tests.conftest import PASSWORD

NEW = {
    "name": "Delta Telecom",
    "code": "delta",
    "country": "de",
    "legal_name": "Delta Telecom GmbH",
    "address": "Hauptstr. 1",
    "postal_code": "10115",
    "city": "Berlin",
    "vat_number": "DE136695976",
    "payment_terms_days": "45",
    "credit_limit": "2500.00",
    "first_admin_email": "boss@delta.example",
}


def test_a_vendor_admin_onboards_a_partner_and_its_first_admin_joins(
    vendor_admin: User,
    make_book: Callable[..., PriceBook],
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
) -> None:
    # given a silver book and an area manager
    silver = make_book("SILVER-EUR", "silver")
    manager = make_user(staff_role=StaffRole.AREA_MANAGER)
    client = client_for(vendor_admin)
    # when the vendor admin creates the partner with its first admin's address
    response = client.post(
        "/staff/partners/new/", {**NEW, "price_book": silver.code, "area_manager": str(manager.pk)}
    )
    assert response.status_code == 302
    partner = Partner.objects.get(code="delta")
    # then the partner has its entity, book, manager, terms and limit
    entity = partner.legal_entity
    assert (entity.legal_name, entity.vat_number, entity.vat_number_valid, entity.city, partner.country) == (
        "Delta Telecom GmbH",
        "DE136695976",
        True,
        "Berlin",
        "DE",
    )
    assert (partner.price_book, partner.area_manager) == (silver, manager)
    assert (partner.payment_terms_days, partner.credit_limit) == (45, Decimal("2500.00"))
    assert AuditEvent.objects.filter(action="partner.created", partner=partner).exists()
    # and the first admin was invited; the link makes an admin of the new partner
    assert mail.outbox[-1].to == ["boss@delta.example"]
    link = re.search(r"(/invitation/[^/\s]+/)", str(mail.outbox[-1].body)).group(1)  # type: ignore[union-attr]
    Client().post(link, {"username": "delta-boss", "password1": PASSWORD, "password2": PASSWORD})
    boss = User.objects.get(username="delta-boss")
    assert (boss.partner, boss.partner_role) == (partner, PartnerRole.ADMIN)
    # and the partner's page lists the user
    assert b"delta-boss" in client.get(f"/staff/partners/{partner.pk}/").content


def test_editing_a_partner_is_audited_with_before_and_after(
    vendor_admin: User,
    partner_a: Partner,
    make_book: Callable[..., PriceBook],
    client_for: Callable[[User], Client],
) -> None:
    reseller = make_book("RESELLER-EUR", "reseller")
    client = client_for(vendor_admin)
    form = client.get(f"/staff/partners/{partner_a.pk}/").context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    response = client.post(
        f"/staff/partners/{partner_a.pk}/",
        {**data, "form": "partner", "price_book": reseller.code, "payment_terms_days": "10"},
    )
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert partner_a.price_book == reseller and partner_a.payment_terms_days == 10
    event = AuditEvent.objects.get(action="partner.changed", partner=partner_a)
    assert event.data["changes"]["price_book"] == {"before": "GOLD-EUR", "after": "RESELLER-EUR"}
    assert event.data["changes"]["payment_terms_days"] == {"before": None, "after": 10}
    assert set(event.data["changes"]) == {"price_book", "payment_terms_days"}


def test_bad_input_is_refused_naming_the_field(
    vendor_admin: User, make_book: Callable[..., PriceBook], client_for: Callable[[User], Client]
) -> None:
    make_book()
    client = client_for(vendor_admin)
    bad_country = client.post("/staff/partners/new/", {**NEW, "country": "XX", "price_book": "GOLD-EUR"})
    assert bad_country.status_code == 400 and b"not an ISO 3166 country code" in bad_country.content
    bad_limit = client.post("/staff/partners/new/", {**NEW, "credit_limit": "-5", "price_book": "GOLD-EUR"})
    assert bad_limit.status_code == 400
    assert not Partner.objects.filter(code="delta").exists()


def test_only_vendor_admins_change_partners(
    partner_a: Partner, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    manager = make_user(staff_role=StaffRole.AREA_MANAGER)
    Partner.objects.filter(pk=partner_a.pk).update(area_manager=manager)
    client = client_for(manager)
    assert client.get(f"/staff/partners/{partner_a.pk}/").status_code == 200
    assert (
        client.post(f"/staff/partners/{partner_a.pk}/", {"form": "partner", "name": "X"}).status_code == 403
    )
    assert client.get("/staff/partners/new/").status_code == 403


def test_payment_terms_set_the_due_date_of_the_partners_invoices(db: Any) -> None:
    from pbxportal.invoicing.models import Invoice
    from pbxportal.pbx.billrun import billrun_day
    from tests.pbx.billrun_helpers import RENEWAL_DAY, renewing_world

    world = renewing_world(1)
    Partner.objects.filter(pk=world.partner.pk).update(payment_terms_days=45)
    billrun_day(day=RENEWAL_DAY)
    assert Invoice.objects.get(issued_on=RENEWAL_DAY).due_on == RENEWAL_DAY + timedelta(days=45)
