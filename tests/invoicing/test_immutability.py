"""R-INV-1: an issued invoice cannot be edited through any service, API or page; a correction is
a credit note."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pbxportal.common.api import build_api
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import ImmutableInvoiceError, Invoice, InvoiceLine, InvoiceStatus, LineKind
from pbxportal.invoicing.services import credit_note_issue
from tests.pbx.builders import World

START = date(2025, 3, 10)


@pytest.fixture
def issued(db: Any) -> tuple[World, Invoice]:
    world = World()
    return world, Invoice.objects.get(pbx=world.pbx(start=START))


def test_models_refuse_edits_of_an_issued_invoice_and_its_lines(issued: tuple[World, Invoice]) -> None:
    # given an issued invoice
    _, invoice = issued
    line = invoice.lines.get()
    # when its total, its lines or its existence are changed / then each is refused
    invoice.total = Decimal("1.00")
    with pytest.raises(ImmutableInvoiceError):
        invoice.save()
    line.amount = Decimal("1.00")
    with pytest.raises(ImmutableInvoiceError):
        line.save()
    with pytest.raises(ImmutableInvoiceError):
        line.delete()
    with pytest.raises(ImmutableInvoiceError):
        Invoice.objects.get(pk=invoice.pk).delete()
    with pytest.raises(ImmutableInvoiceError):
        InvoiceLine(
            invoice=invoice, kind=LineKind.ONE_OFF, description="x", unit_price=1, quantity=1, amount=1
        ).save()
    invoice.refresh_from_db()
    assert invoice.total == Decimal("480.00") and invoice.lines.count() == 1


def test_no_api_operation_or_page_edits_an_invoice(issued: tuple[World, Invoice], client_for: Any) -> None:
    # given every API operation on invoices / then none is a write
    writes = [
        (method, path)
        for path, methods in build_api().get_openapi_schema()["paths"].items()
        if "invoice" in path and "payments" not in path
        for method in methods
        if method.upper() in ("PUT", "PATCH", "DELETE", "POST")
    ]
    # (the one POST mails the invoice again with a new link, R-INV-3: checked below to edit nothing)
    assert writes == [("post", "/api/v1/invoices/{invoice_id}/resend")]
    world, invoice = issued
    client = client_for(world.user)
    before = Invoice.objects.filter(pk=invoice.pk).values().get()
    assert client.post(f"/api/v1/invoices/{invoice.pk}/resend").status_code == 200
    assert Invoice.objects.filter(pk=invoice.pk).values().get() == before
    # and the invoice page refuses writes
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/invoices/{invoice.pk}", json.dumps({"total": "1.00"}), content_type="application/json"
        )
        assert response.status_code == 405, (method, response.status_code)
    assert client.post(f"/invoices/{invoice.pk}/", {"total": "1.00"}).status_code in (200, 405)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("480.00")


def test_a_correction_is_a_credit_note(issued: tuple[World, Invoice]) -> None:
    # given an issued invoice of 480.00 / when 120.00 of it is credited
    _, invoice = issued
    note = credit_note_issue(
        invoice=invoice,
        lines=[
            LineDraft(
                kind=LineKind.CREDIT,
                product_code="UC-BUSINESS-yearly",
                description="One user too many",
                unit_price=Decimal("-120.00"),
                quantity=Decimal(1),
                amount=Decimal("-120.00"),
                currency="EUR",
            )
        ],
        issued_on=date(2025, 3, 12),
        reason="correction",
    )
    # then a numbered credit note refers to the unchanged invoice
    assert note.number == "CN-2025-000001" and note.credited_invoice_id == invoice.pk
    invoice.refresh_from_db()
    assert invoice.total == Decimal("480.00") and invoice.status == InvoiceStatus.DUE


def test_an_invoice_is_void_only_through_a_credit_note_of_its_total(issued: tuple[World, Invoice]) -> None:
    # given an issued invoice of 480.00 credited in two parts
    _, invoice = issued

    def credit(amount: str) -> None:
        credit_note_issue(
            invoice=invoice,
            lines=[
                LineDraft(
                    kind=LineKind.CREDIT,
                    product_code="UC-BUSINESS-yearly",
                    description="credit",
                    unit_price=Decimal(amount),
                    quantity=Decimal(1),
                    amount=Decimal(amount),
                    currency="EUR",
                )
            ],
            issued_on=date(2025, 3, 12),
            reason="correction",
        )

    # when 120.00 is credited / then it is still due
    credit("-120.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE
    # when the remaining 360.00 is credited / then it is void (and drops out of the overdue count)
    credit("-360.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
