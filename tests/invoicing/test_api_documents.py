"""R-API-1/2, R-INV-1/3/4: invoices for integrations — PDF, e-invoice and ZIP with a bearer token,
filters, amount due / paid_on / credit notes, resend with a new link; payments with allocations."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from pbxportal.accounts.models import Partner, PartnerRole, User
from pbxportal.accounts.services import api_token_create
from pbxportal.common.actor import Actor
from pbxportal.invoicing.credits import account_credit
from pbxportal.invoicing.models import Invoice, InvoiceLink
from pbxportal.payments.models import Method
from pbxportal.payments.services import _apply
from tests.invoicing.helpers import DAY, credit, issue


@pytest.fixture
def bearer(partner_a: Partner, make_user: Any) -> dict[str, str]:
    user: User = make_user(partner_a, role=PartnerRole.ADMIN)
    _, token = api_token_create(actor=Actor(user=user), name="erp")
    return {"Authorization": f"Bearer {token}"}


def test_pdf_einvoice_and_zip_with_a_bearer_token(partner_a: Partner, bearer: dict[str, str]) -> None:
    invoice = issue(partner_a, "79.20")
    client = Client()
    pdf = client.get(f"/api/v1/invoices/{invoice.pk}/pdf", headers=bearer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xml = client.get(f"/api/v1/invoices/{invoice.pk}/einvoice.xml", headers=bearer)
    assert xml.status_code == 200 and b"CrossIndustryInvoice" in xml.content
    archive = client.get("/api/v1/invoices/zip?issued_from=2025-03-01&issued_to=2025-04-01", headers=bearer)
    assert archive.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(archive.content)).namelist() == [f"{invoice.number}.pdf"]
    # without a token: 401 in the error shape, not a redirect to the login page
    assert client.get(f"/api/v1/invoices/{invoice.pk}/pdf").status_code == 401


def test_another_partners_invoice_pdf_is_a_404(partner_b: Partner, bearer: dict[str, str]) -> None:
    other = issue(partner_b, "10.00")
    assert Client().get(f"/api/v1/invoices/{other.pk}/pdf", headers=bearer).status_code == 404


def test_filters_and_amount_due_paid_on_credit_notes(partner_a: Partner, bearer: dict[str, str]) -> None:
    first = issue(partner_a, "79.20")
    note = credit(first, "20.00")
    second = issue(partner_a, "50.00", on=date(2025, 4, 2))
    _apply(
        invoice_id=second.pk, amount=Decimal("50.00"), currency="EUR", method=Method.BANK_TRANSFER,
        received_on=date(2025, 4, 3),
    )  # fmt: skip
    client = Client()

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/v1/invoices?{query}", headers=bearer)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["items"]]

    assert numbers("status=paid&kind=invoice") == [second.number]
    assert numbers("issued_from=2025-03-01&issued_to=2025-04-01&kind=invoice") == [first.number]
    assert numbers(f"number={note.number}") == [note.number]
    assert set(numbers("number=INV-2025-*")) == {first.number, second.number}
    bad = client.get("/api/v1/invoices?status=nonsense", headers=bearer)
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"status": "unknown"}
    [row] = client.get(f"/api/v1/invoices?number={first.number}", headers=bearer).json()["items"]
    assert Decimal(row["amount_due"]) == Decimal("59.20") and Decimal(row["amount_credited"]) == Decimal(
        "20.00"
    )
    assert [c["number"] for c in row["credit_notes"]] == [note.number]
    [paid] = client.get(f"/api/v1/invoices?number={second.number}", headers=bearer).json()["items"]
    assert paid["paid_on"] == "2025-04-03" and Decimal(paid["amount_due"]) == 0


def test_payments_list_shows_allocations_and_account_credit(
    partner_a: Partner, bearer: dict[str, str]
) -> None:
    invoice = issue(partner_a, "79.20")
    _apply(
        invoice_id=invoice.pk,
        amount=Decimal("100.00"),
        currency="EUR",
        method=Method.BANK_TRANSFER,
        received_on=DAY,
    )
    [payment] = Client().get("/api/v1/payments/", headers=bearer).json()["items"]
    assert payment["invoice_number"] == invoice.number
    assert [(a["invoice_number"], Decimal(a["amount"])) for a in payment["allocations"]] == [
        (invoice.number, Decimal("79.20"))
    ]
    assert Decimal(payment["account_credit"]) == Decimal("20.80")


def test_resend_mails_a_new_one_time_link(partner_a: Partner, bearer: dict[str, str]) -> None:
    from pbxportal.accounts.models import BillingContact

    BillingContact.objects.create(partner=partner_a, name="Accounts", email="acc@a.example", is_default=True)
    invoice = issue(partner_a, "79.20")
    mail.outbox.clear()
    before = InvoiceLink.objects.filter(invoice=invoice).count()
    response = Client().post(f"/api/v1/invoices/{invoice.pk}/resend", headers=bearer)
    assert response.status_code == 200 and response.json() == {"sent_to": "acc@a.example"}
    assert InvoiceLink.objects.filter(invoice=invoice).count() == before + 1
    [message] = mail.outbox
    assert message.to == ["acc@a.example"] and "token=" in message.body
    assert Invoice.objects.get(pk=invoice.pk).number == invoice.number


def test_partners_set_their_legal_entity_through_the_api(partner_a: Partner, bearer: dict[str, str]) -> None:
    client = Client()
    assert client.get("/api/v1/legal-entity", headers=bearer).status_code == 404
    body = {"legal_name": "Alpha GmbH", "address": "Hauptstr. 1", "city": "Berlin", "country": "DE"}
    bad = client.put(
        "/api/v1/legal-entity",
        {**body, "vat_number": "DE123456789"},
        content_type="application/json",
        headers=bearer,
    )
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"vat_number": "invalid"}
    good = client.put(
        "/api/v1/legal-entity",
        {**body, "vat_number": "DE136695976"},
        content_type="application/json",
        headers=bearer,
    )
    assert good.status_code == 200 and good.json()["vat_number_valid"] is True
    assert client.get("/api/v1/legal-entity", headers=bearer).json()["legal_name"] == "Alpha GmbH"


def test_staff_refund_account_credit_through_the_api(
    partner_a: Partner, vendor_admin: Any, client_for: Any
) -> None:
    invoice = issue(partner_a, "10.00")
    _apply(
        invoice_id=invoice.pk,
        amount=Decimal("25.00"),
        currency="EUR",
        method=Method.BANK_TRANSFER,
        received_on=DAY,
    )
    client = client_for(vendor_admin)

    def refund(amount: str) -> Any:
        body = {"partner_id": partner_a.pk, "amount": amount, "reference": "SEPA-1"}
        return client.post("/api/v1/payments/refunds", body, content_type="application/json")

    too_much = refund("15.01")
    assert too_much.status_code == 400 and too_much.json()["error"]["rule"] == "R-INV-4"
    assert refund("15.00").status_code == 201
    assert account_credit(partner_id=partner_a.pk) == 0
