"""Customers of a partner through the API and the pages; partner roles (R-API-1, R-UI-1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from pbxportal.accounts.models import Customer, PartnerRole, User

NEW = {"name": "Verdi Costruzioni", "country": "IT", "city": "Torino", "vat_number": "IT01234567890"}


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def test_create_then_read_a_customer_through_the_api(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a partner admin
    client = client_for(user_a)
    # when they create a customer
    created = _post(client, "/api/v1/customers", NEW)
    # then 201 with the customer, owned by their partner, and it can be read back
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Verdi Costruzioni"
    assert body["partner_id"] == user_a.partner_id
    fetched = client.get(f"/api/v1/customers/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert Customer.objects.get(pk=body["id"]).partner_id == user_a.partner_id


def test_country_is_normalised_to_upper_case(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a lower-case country / when the customer is created / then it is stored as the ISO code
    response = _post(client_for(user_a), "/api/v1/customers", {**NEW, "country": "it"})
    assert response.status_code == 201
    assert response.json()["country"] == "IT"


def test_patch_changes_only_the_given_fields(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a customer
    client = client_for(user_a)
    customer_id = _post(client, "/api/v1/customers", NEW).json()["id"]
    # when its city is patched
    response = client.patch(
        f"/api/v1/customers/{customer_id}", {"city": "Genova"}, content_type="application/json"
    )
    # then the city changed and nothing else
    assert response.status_code == 200
    assert response.json()["city"] == "Genova"
    assert response.json()["vat_number"] == NEW["vat_number"]
    assert Customer.objects.get(pk=customer_id).city == "Genova"


def test_list_searches_by_name(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given two customers
    client = client_for(user_a)
    _post(client, "/api/v1/customers", NEW)
    _post(client, "/api/v1/customers", {"name": "Neri Ottica", "country": "IT"})
    # when the list is searched / then only the match is returned, paginated
    body = client.get("/api/v1/customers?search=ottica").json()
    assert body["count"] == 1
    assert [c["name"] for c in body["items"]] == ["Neri Ottica"]


def test_duplicate_name_is_a_409_naming_the_field(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a customer
    client = client_for(user_a)
    assert _post(client, "/api/v1/customers", NEW).status_code == 201
    # when a second one with the same name is created
    response = _post(client, "/api/v1/customers", NEW)
    # then 409 conflict naming the field, and still one customer
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["fields"] == {"name": "duplicate"}
    assert Customer.objects.count() == 1


def test_patch_to_another_customers_name_is_a_409(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given two customers
    client = client_for(user_a)
    _post(client, "/api/v1/customers", NEW)
    other = _post(client, "/api/v1/customers", {"name": "Neri Ottica", "country": "IT"}).json()
    # when the second is renamed to the first's name / then 409
    response = client.patch(
        f"/api/v1/customers/{other['id']}", {"name": NEW["name"]}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {"name": "duplicate"}


def test_the_same_name_is_fine_for_two_partners(
    user_a: User, user_b: User, client_for: Callable[[User], Client]
) -> None:
    # given partner A's customer / when partner B creates one with the same name / then both exist
    assert _post(client_for(user_a), "/api/v1/customers", NEW).status_code == 201
    assert _post(client_for(user_b), "/api/v1/customers", NEW).status_code == 201


@pytest.mark.parametrize("country", ["XX", "ITA", "", "1"])
def test_bad_country_is_refused_naming_the_field(
    user_a: User, client_for: Callable[[User], Client], country: str
) -> None:
    # given a country that is not an ISO 3166 alpha-2 code / when a customer is created with it
    response = _post(client_for(user_a), "/api/v1/customers", {**NEW, "country": country})
    # then a 4xx in the error shape naming the field, and nothing created
    assert 400 <= response.status_code < 500
    assert "country" in response.json()["error"]["fields"]
    assert not Customer.objects.exists()


def test_bad_country_in_a_patch_is_refused(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a customer / when its country is patched to nonsense / then refused, unchanged
    client = client_for(user_a)
    customer_id = _post(client, "/api/v1/customers", NEW).json()["id"]
    response = client.patch(
        f"/api/v1/customers/{customer_id}", {"country": "ZZ"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"country": "invalid"}
    assert Customer.objects.get(pk=customer_id).country == "IT"


def test_a_billing_user_cannot_create_customers(
    make_user: Callable[..., User], user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a partner user with the billing role
    billing = make_user(user_a.partner, role=PartnerRole.BILLING)
    # when they create a customer through the API
    response = _post(client_for(billing), "/api/v1/customers", NEW)
    # then 403 in the error shape, and nothing created
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert set(error) == {"code", "message", "rule", "fields"}
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (PartnerRole.ADMIN, True),
        (PartnerRole.SALES, True),
        (PartnerRole.TECHNICIAN, False),
        (PartnerRole.BILLING, False),
    ],
)
def test_who_may_create_customers(
    make_user: Callable[..., User],
    user_a: User,
    client_for: Callable[[User], Client],
    role: str,
    allowed: bool,
) -> None:
    # given a partner user of each role / when they create a customer / then admin and sales may
    response = _post(client_for(make_user(user_a.partner, role=role)), "/api/v1/customers", NEW)
    assert response.status_code == (201 if allowed else 403)


def test_staff_cannot_create_customers_for_no_partner(
    vendor_admin: User, client_for: Callable[[User], Client]
) -> None:
    # given a vendor admin (no partner) / when they create a customer / then 403
    response = _post(client_for(vendor_admin), "/api/v1/customers", NEW)
    assert response.status_code == 403


def test_create_a_customer_on_the_page(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a partner admin on the new-customer form
    client = client_for(user_a)
    assert client.get("/customers/new/").status_code == 200
    # when they submit it
    response = client.post("/customers/new/", {**NEW, "country": "it"})
    # then they land on the customer's page and the dashboard lists it
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert customer.partner_id == user_a.partner_id
    assert customer.country == "IT"
    assert b"Verdi Costruzioni" in client.get("/customers/").content


def test_edit_a_customer_on_the_page(user_a: User, client_for: Callable[[User], Client]) -> None:
    # given a customer
    client = client_for(user_a)
    customer = Customer.objects.create(partner=user_a.partner, name="Old Name", country="IT")
    # when the edit form (prefilled) is submitted with a new name and city
    form = client.get(f"/customers/{customer.pk}/edit/")
    assert b'value="Old Name"' in form.content
    response = client.post(
        f"/customers/{customer.pk}/edit/", {"name": "New Name", "country": "FR", "city": "Lyon"}
    )
    # then it is saved and the detail page shows it
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.country, customer.city) == ("New Name", "FR", "Lyon")
    assert b"Lyon" in client.get(f"/customers/{customer.pk}/").content


def test_the_form_shows_a_service_refusal_on_its_field(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given the new-customer form / when the country is not a country
    response = client_for(user_a).post("/customers/new/", {"name": "X Srl", "country": "QQ"})
    # then the form is shown again with the reason, and nothing created
    assert response.status_code == 200
    assert b"not an ISO 3166 country code" in response.content
    assert not Customer.objects.exists()


def test_a_billing_user_is_refused_on_the_create_page(
    make_user: Callable[..., User], user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a billing user / when they submit the new-customer form / then the form shows the refusal
    billing = make_user(user_a.partner, role=PartnerRole.BILLING)
    response = client_for(billing).post("/customers/new/", NEW)
    assert b"needs the partner role" in response.content
    assert not Customer.objects.exists()


def test_pages_need_a_login(db: object) -> None:
    # given no session / when a partner page is opened / then the login page is asked for
    response = Client().get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", ["/staff/partners/", "/staff/price-books/"])
def test_staff_pages_refuse_partner_users(
    user_a: User, client_for: Callable[[User], Client], url: str
) -> None:
    # given a partner admin / when they open a staff page / then 403
    response = client_for(user_a).get(url)
    assert response.status_code == 403
    assert b"for vendor staff" in response.content


def test_staff_pages_open_for_staff(
    vendor_admin: User, user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a vendor admin and a partner / when the staff partners page is opened / then it lists it
    response = client_for(vendor_admin).get("/staff/partners/")
    assert response.status_code == 200
    assert user_a.partner is not None
    assert user_a.partner.name.encode() in response.content
