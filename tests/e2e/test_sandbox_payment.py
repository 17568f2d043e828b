"""Browser flow (R-INV-4): a demo partner pays an invoice on the sandbox provider's hosted page
(the portal's own test-mode page, webhook delivered over HTTP to the live server) and sees it
paid; a declined test card leaves the invoice due."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from pbxportal.accounts.models import Partner
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.payments.models import WebhookEvent
from tests.e2e.conftest import Login
from tests.invoicing.helpers import issue


def _open_invoice() -> Invoice:
    return issue(Partner.objects.get(code="alpha"), "79.20")


def _pay_with(page: Page, invoice: Invoice, card: str) -> None:
    page.goto("/payments/balance/")
    row = page.locator("tr", has_text=str(invoice.number))
    row.locator("select[name=provider]").select_option("sandbox")
    row.get_by_role("button", name="Pay").click()
    expect(page.locator("h1")).to_contain_text("Pay 79.20 EUR")
    page.fill("#card_number", card)
    page.get_by_role("button", name="Pay 79.20 EUR").click()


def test_a_demo_partner_pays_an_invoice_on_the_sandbox_page(
    page: Page, login: Login, demo_data: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    # given an open invoice of the demo partner alpha
    invoice = _open_invoice()
    login(page, "alpha-billing", demo_data["alpha-billing"])
    # when the billing user pays it with the succeeding test card
    _pay_with(page, invoice, "4242 4242 4242 4242")
    # then the portal shows the invoice paid
    expect(page).to_have_url(f"{page.url.split('/invoices/')[0]}/invoices/{invoice.pk}/")
    expect(page.locator("main")).to_contain_text("Paid")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == Decimal(0)
    assert WebhookEvent.objects.get(provider="sandbox").outcome == "paid 79.20 EUR"
    # the webhook went over HTTP to the live server, not the in-process fallback
    assert "sandbox webhook" not in caplog.text


def test_a_declined_test_card_leaves_the_invoice_due(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    invoice = _open_invoice()
    login(page, "alpha-billing", demo_data["alpha-billing"])
    _pay_with(page, invoice, "4000 0000 0000 0002")
    expect(page.locator(".outcome")).to_contain_text("declined")
    page.goto("/payments/balance/")
    expect(page.locator("tr", has_text=str(invoice.number))).to_contain_text("79.20 EUR")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE and invoice.amount_due == Decimal("79.20")
