"""The subscription engine in a real browser (issue 3, item 9): a partner creates a cloud PBX with
licences, adds storage mid-term, reads the prorated preview (full price, days charged, days in
term, amount; R-CO-3, R-CO-4), confirms, and finds that line on the invoice."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from django.db.models import F
from playwright.sync_api import Page, expect

from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.pbx.models import Pbx
from tests.e2e.conftest import Login, open_menu
from tests.pbx.builders import World


def test_create_a_cloud_pbx_add_storage_mid_term_preview_confirm_and_read_the_invoice(
    page: Page, login: Login
) -> None:
    # given the exact test catalog (STORAGE-50: 36.00 a year) and a partner admin with a customer
    world = World()
    with time_machine.travel(datetime(2020, 5, 15, 10, tzinfo=UTC), tick=True):
        login(page, world.user.username, "x" * 12)
        # when they create a yearly cloud PBX with 4 UC-Business users on 2020-05-15
        open_menu(page, "Customers & PBXs", "PBXs")
        page.get_by_role("link", name="New PBX").click()
        page.select_option("#id_customer_id", label="C")
        page.select_option("#id_model_code", "WPBX-CLOUD")
        page.fill("#id_name", "acme-office")
        page.select_option("#id_region", "eu-west")
        page.select_option("#id_term", "yearly")
        page.fill("[name='licence_UC-BUSINESS']", "4")
        page.get_by_role("button", name="Preview").click()
        # then the first invoice is previewed in place (htmx): 4 x 120.00
        expect(page.locator("#preview")).to_contain_text("480.00")
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("h1")).to_contain_text("PBX acme-office")
        expect(page.locator(".expiry")).to_have_text("2021-05-15")
    pbx = Pbx.objects.get(name="acme-office")
    # (the partner pays its first invoice, so no overdue stage blocks the order, R-INV-5)
    Invoice.objects.filter(pbx=pbx).update(status=InvoiceStatus.PAID, amount_paid=F("total"))

    with time_machine.travel(datetime(2020, 8, 10, 10, tzinfo=UTC), tick=True):
        # when, on 2020-08-10, they preview one storage block on the PBX page
        login(page, world.user.username, "x" * 12)
        page.goto(f"/pbxs/{pbx.pk}/")
        page.get_by_role("tab", name="Services").click()
        service_form = page.locator("form:has(#service_product_code)")
        page.select_option("#service_product_code", "STORAGE-50")
        page.fill("#service_quantity", "1")
        service_form.get_by_role("button", name="Preview").click()
        # then the prorated line shows how: full price, days charged of days in term, period, amount
        preview = page.locator("#service-preview")
        expect(preview.locator(".days-charged")).to_have_text("278")
        expect(preview.locator(".days-in-term")).to_have_text("365")
        expect(preview).to_contain_text("36.00")
        expect(preview).to_contain_text("2020-08-10 → 2021-05-15")
        expect(preview.locator(".amount")).to_contain_text("27.42")  # 36.00 x 278 / 365, rounded once
        # when they confirm
        service_form.get_by_role("button", name="Confirm").click()
        expect(page.locator(".alert.success")).to_contain_text(
            re.compile(r"Invoice INV-2020-\d+ issued: 27\.42 EUR")
        )
        # then the invoice of the PBX holds that line
        invoice = Invoice.objects.filter(pbx=pbx).order_by("-id").first()
        assert invoice is not None and invoice.number is not None
        page.get_by_role("tab", name="Invoices").click()
        page.get_by_role("link", name=invoice.number).click()
        expect(page.locator("h1")).to_contain_text(invoice.number)
        line = page.locator("table.lines tbody tr")
        expect(line).to_have_count(1)
        expect(line.locator(".days-charged")).to_have_text("278")
        expect(line.locator(".days-in-term")).to_have_text("365")
        expect(line.locator(".amount")).to_contain_text("27.42")
