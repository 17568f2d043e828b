"""Billing contacts: a partner's billing receivers (R-EX-2, R-INV-3); one default per partner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from pbxportal.accounts.models import BillingContact, PartnerRole, User


def _add(client: Client, **body: Any) -> Any:
    return client.post("/api/v1/billing-contacts", body, content_type="application/json")


def test_the_first_contact_becomes_the_default(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a partner without billing contacts
    client = client_for(user_a)
    # when two contacts are added, neither asked to be the default
    first = _add(client, name="Accounts", email="accounts@a.example")
    second = _add(client, name="CFO", email="cfo@a.example")
    # then the first is the default and the second is not
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["is_default"] is True
    assert second.json()["is_default"] is False


def test_a_new_default_replaces_the_old_one(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a default contact
    client = client_for(user_a)
    first = _add(client, name="Accounts", email="accounts@a.example").json()
    # when another contact is added as the default
    second = _add(client, name="CFO", email="cfo@a.example", is_default=True).json()
    # then exactly one default remains: the new one
    defaults = BillingContact.objects.filter(partner=user_a.partner, is_default=True)
    assert list(defaults.values_list("pk", flat=True)) == [second["id"]]
    assert client.get(f"/api/v1/billing-contacts/{first['id']}").json()["is_default"] is False


def test_defaults_are_per_partner(user_a: User, user_b: User, client_for: Callable[[User], Client]) -> None:
    # given a default contact of partner A / when partner B adds its first / then it is B's default
    _add(client_for(user_a), name="A accounts", email="a@a.example")
    assert _add(client_for(user_b), name="B accounts", email="b@b.example").json()["is_default"] is True


def test_a_bad_email_is_refused_naming_the_field(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a partner admin / when a contact with a bad email is added / then 400 naming the field
    response = _add(client_for(user_a), name="Accounts", email="not-an-email")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"email": "invalid"}
    assert not BillingContact.objects.exists()


def test_a_billing_user_may_add_contacts_a_technician_may_not(
    make_user: Callable[..., User], user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a billing user and a technician of the same partner
    billing = make_user(user_a.partner, role=PartnerRole.BILLING)
    technician = make_user(user_a.partner, role=PartnerRole.TECHNICIAN)
    # when each adds a contact / then billing may, the technician gets 403
    assert _add(client_for(billing), name="Accounts", email="a@a.example").status_code == 201
    assert _add(client_for(technician), name="Other", email="o@a.example").status_code == 403


def test_the_billing_contacts_page_adds_and_lists(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given the billing contacts page
    client = client_for(user_a)
    # when a contact is added with the form
    response = client.post("/billing-contacts/", {"name": "Accounts", "email": "accounts@a.example"})
    # then the page lists it, as the default
    assert response.status_code == 302
    page = client.get("/billing-contacts/")
    assert b"accounts@a.example" in page.content
    assert BillingContact.objects.get().is_default
