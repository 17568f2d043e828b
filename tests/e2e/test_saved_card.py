"""Browser flow (issue 14, build item 6): a demo billing user saves a card on the sandbox
provider's hosted "save card" page (Billing → Payment methods), then a renewal invoice is charged
automatically when issued and shows paid; a saved card whose charges fail leaves the invoice due,
with the failed attempt and the next retry (AUTO_CHARGE_RETRY_DAYS) on the invoice page. Staff
reach the tax report from the Billing menu."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from pbxportal.accounts.models import Partner
from pbxportal.common.timeutil import vendor_today
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.invoicing.services import invoice_issue
from pbxportal.payments.models import AttemptStatus, ChargeAttempt, SavedPaymentMethod
from tests.e2e.conftest import Login, open_menu
from tests.invoicing.helpers import line

_renewals = itertools.count(1)


def _save_card(page: Page, card: str) -> None:
    open_menu(page, "Billing", "Payment methods")
    expect(page.locator("h1")).to_contain_text("Payment methods")
    page.locator("select[name=provider]").select_option("sandbox")
    page.get_by_role("button", name="Add a card").click()
    expect(page.locator("h1")).to_contain_text("Save a card")
    page.fill("#card_number", card)
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("h1")).to_contain_text("Payment methods")


def _renewal_issued() -> Invoice:
    """The bill run issues a renewal of 79.20 EUR to alpha today (its hooks run after commit)."""
    return invoice_issue(
        partner=Partner.objects.get(code="alpha"),
        lines=[line("79.20")],
        issued_on=vendor_today(),
        source_key=f"renewal:e2e:{next(_renewals)}",
    )


def test_a_saved_card_pays_a_renewal_invoice_automatically(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    login(page, "alpha-billing", demo_data["alpha-billing"])
    # when the billing user saves the succeeding test card
    _save_card(page, "4242 4242 4242 4242")
    # then it is listed as the default method (only brand, last four digits, expiry)
    expect(page.locator("#saved-methods")).to_contain_text("visa •••• 4242")
    expect(page.locator("#saved-methods")).to_contain_text("Default")
    assert SavedPaymentMethod.objects.get().method_ref.startswith("pm_sbx_")
    # when a renewal invoice is issued, it is charged at once and the page shows it paid
    invoice = _renewal_issued()
    page.goto(f"/invoices/{invoice.pk}/")
    expect(page.locator("main")).to_contain_text("Paid")
    expect(page.locator("#charge-attempts")).to_contain_text("Succeeded")
    expect(page.locator("#charge-attempts")).to_contain_text("79.20")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == Decimal(0)


def test_a_failing_saved_card_leaves_the_renewal_due_with_the_next_retry_scheduled(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    login(page, "alpha-billing", demo_data["alpha-billing"])
    _save_card(page, "4000 0000 0000 0341")
    invoice = _renewal_issued()
    page.goto(f"/invoices/{invoice.pk}/")
    attempts = page.locator("#charge-attempts")
    expect(attempts.locator("tr.attempt-failed")).to_contain_text("card_declined")
    retry_on = (vendor_today() + timedelta(days=3)).isoformat()
    expect(attempts.locator("tr.attempt-scheduled")).to_contain_text(retry_on)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE and invoice.amount_due == Decimal("79.20")
    assert ChargeAttempt.objects.get(number=2).status == AttemptStatus.SCHEDULED
    # the account balance still asks for it
    page.goto("/payments/balance/")
    expect(page.locator("tr", has_text=str(invoice.number))).to_contain_text("79.20")


def test_staff_reach_the_tax_report_from_the_billing_menu(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    login(page, "admin", demo_data["admin"])
    open_menu(page, "Billing", "Tax report")
    expect(page.locator("h1")).to_contain_text("Tax report")
    first = vendor_today().replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    expect(page.locator("#from")).to_have_value(previous.isoformat())
    expect(page.locator("#to")).to_have_value(first.isoformat())
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == f"tax-report-{previous}-{first}.csv"
