"""R-INV-4, R-API-2: bank transfers recorded by staff (PI number, partial), idempotency keys on
every request that moves money."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.payments.models import Checkout, Payment
from tests.pbx.builders import World


def test_same_idempotency_key_same_body_returns_the_first_checkout_other_body_409(
    billed: tuple[World, Invoice], client_for: Any
) -> None:
    # given a partner paying by card through the API with an Idempotency-Key
    world, invoice = billed
    client = client_for(world.user)
    body = json.dumps({"invoice_id": invoice.pk, "provider": "card", "amount": "100.00"})
    headers = {"Idempotency-Key": "pay-1"}
    # when the same request is sent twice, then once more with another amount
    first = client.post("/api/v1/payments/checkouts", body, content_type="application/json", headers=headers)
    again = client.post("/api/v1/payments/checkouts", body, content_type="application/json", headers=headers)
    other = client.post(
        "/api/v1/payments/checkouts",
        json.dumps({"invoice_id": invoice.pk, "provider": "card", "amount": "150.00"}),
        content_type="application/json",
        headers=headers,
    )
    # then the second answer is the first, byte for byte, one checkout exists, and the third is a 409
    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.content == first.content
    assert Checkout.objects.count() == 1
    assert other.status_code == 409
    assert other.json()["error"]["rule"] == "R-API-2"


def test_staff_record_partial_bank_transfers_with_pi_number(
    billed: tuple[World, Invoice], client_for: Any
) -> None:
    # given staff and a 480.00 invoice
    world, invoice = billed
    staff = client_for(world.staff)

    # when staff record 300.00 with a PI number, then the 180.00 rest (the first request retried)
    def post(amount: str, key: str, pi: str = "") -> Any:
        return staff.post(
            "/api/v1/payments/offline",
            json.dumps(
                {"invoice_id": invoice.pk, "amount": amount, "received_on": "2025-03-20", "pi_number": pi}
            ),
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )

    assert post("300.00", "bt-1", "PI-2025-0042").status_code == 201
    assert post("300.00", "bt-1", "PI-2025-0042").status_code == 201
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("300.00") and invoice.status == InvoiceStatus.DUE
    assert post("180.00", "bt-2").status_code == 201
    # then two payments settle the invoice
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_on == date(2025, 3, 20)
    assert list(Payment.objects.order_by("id").values_list("amount", "pi_number")) == [
        (Decimal("300.00"), "PI-2025-0042"),
        (Decimal("180.00"), ""),
    ]
    # and a payment beyond what is due is refused
    refused = post("1.00", "bt-3")
    assert refused.status_code == 409


def test_partner_cannot_record_offline_payments(billed: tuple[World, Invoice], client_for: Any) -> None:
    # given a partner user / when it tries to record a bank transfer itself / then it is refused
    world, invoice = billed
    response = client_for(world.user).post(
        "/api/v1/payments/offline",
        json.dumps({"invoice_id": invoice.pk, "amount": "480.00", "received_on": "2025-03-20"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_staff_form_posted_twice_records_one_payment(billed: tuple[World, Invoice], client_for: Any) -> None:
    # given the staff page's form with its one-time key
    world, invoice = billed
    staff = client_for(world.staff)
    page = staff.get("/payments/staff/offline/")
    key = page.context["form"].initial["idempotency_key"]
    data = {
        "invoice_number": invoice.number,
        "amount": "480.00",
        "received_on": "2025-03-21",
        "pi_number": "PI-7",
        "idempotency_key": key,
    }
    # when it is posted twice (a double click)
    assert staff.post("/payments/staff/offline/", data).status_code == 302
    assert staff.post("/payments/staff/offline/", data).status_code == 302
    # then one payment is recorded
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
