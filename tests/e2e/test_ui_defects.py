"""The defects of issue 16 seen in Chromium, each shown fixed in the browser (R-UI-1)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from pbxportal.accounts.models import Customer, User
from pbxportal.catalog.models import Price, Product
from pbxportal.common.actor import Actor
from pbxportal.common.timeutil import vendor_today
from pbxportal.invoicing.models import BillRun, BillRunStatus, Invoice
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import pbx_create, ssh_open
from tests.e2e.conftest import Login, open_menu
from tests.pbx.builders import World


def _software_pbx(username: str = "gamma-admin") -> Pbx:
    admin = User.objects.get(username=username)
    customer = Customer.objects.filter(partner=admin.partner).first()
    assert customer is not None
    pbx_create(
        actor=Actor(user=admin),
        customer_id=customer.pk,
        model_code="PSE-ENTERPRISE",
        name="lakeside",
        term="yearly",
        licences={},
        today=vendor_today(),
    )
    return Pbx.objects.get(name="lakeside")


def test_checkout_keeps_what_was_typed_says_the_refusal_in_words_and_keeps_the_services(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given the software-PBX partner on the checkout of 20 extensions
    pbx = _software_pbx()
    login(page, "gamma-admin", demo_data["gamma-admin"])
    page.goto(f"/pbxs/{pbx.pk}/expansions/")
    page.fill("#qty_PSE-EXT", "20")
    page.get_by_role("button", name="Checkout").click()
    # then the payment method is only the radio group (no hidden duplicate field)
    expect(page.locator("input[name=payment_method]")).to_have_count(3)
    expect(page.locator("input[type=hidden][name=payment_method]")).to_have_count(0)
    # and each radio button and checkbox sits next to its label (no stretched inputs)
    for control in ("#payment_method_card", "#auto_renew"):
        box = page.locator(control).bounding_box()
        label = page.locator(f"label[for={control[1:]}]").bounding_box()
        assert box is not None and label is not None
        assert box["width"] < 40, (control, box)
        assert 0 <= label["x"] - (box["x"] + box["width"]) < 24, (control, box, label)

    # when it adds a new billing contact, pays by card but gives a PI number (offline only)
    page.select_option("#billing_contact", "new")
    page.fill("#new_name", "Ada Lovelace")
    page.fill("#new_email", "ada@lakeside.example")
    page.fill("#new_company", "Lakeside Resort Inc")
    page.check("#payment_method_card")
    page.fill("#pi_number", "PI-1")
    page.get_by_role("button", name="Place order").click()
    # then the refusal names the field in words, with the rule only behind "Why?"
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("PI number: Only with offline payment.")
    expect(alert).not_to_contain_text("pi_number")
    expect(alert.locator("details")).to_contain_text("R-EX-2")
    # and what was typed is kept
    expect(page.locator("#new_name")).to_have_value("Ada Lovelace")
    expect(page.locator("#new_email")).to_have_value("ada@lakeside.example")
    expect(page.locator("#new_company")).to_have_value("Lakeside Resort Inc")
    expect(page.locator("#payment_method_card")).to_be_checked()

    # when it goes back to change the services, the chosen quantity is still there
    page.get_by_role("link", name="Change the services").click()
    expect(page.locator("#qty_PSE-EXT")).to_have_value("20")


def test_an_unpaid_expansion_says_awaiting_payment_on_the_pbx_and_its_services_page(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given an expansion ordered offline and not yet paid
    pbx = _software_pbx()
    login(page, "gamma-admin", demo_data["gamma-admin"])
    page.goto(f"/pbxs/{pbx.pk}/expansions/")
    page.fill("#qty_PSE-EXT", "20")
    page.get_by_role("button", name="Checkout").click()
    page.check("#payment_method_offline")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("h1")).to_contain_text("Awaiting payment")
    # when the partner opens the PBX page and the services page
    for url in (f"/pbxs/{pbx.pk}/", f"/pbxs/{pbx.pk}/expansions/"):
        page.goto(url)
        row = page.locator("tr", has_text="PSE-EXT")
        # then both say the same: awaiting payment, not active
        expect(row.locator(".sub-status")).to_have_text("Awaiting payment")


def test_amounts_have_thousands_separators_and_currency_and_keys_are_words(page: Page, login: Login) -> None:
    # given a five-year PBX with 10 UC-Business users (10 x 600.00 = 6,000.00 EUR first invoice)
    world = World()
    pbx = world.pbx(term="five_year", start=vendor_today(), licences={"UC-BUSINESS": 10}, name="big-pbx")
    invoice = Invoice.objects.filter(pbx=pbx).exclude(number=None).get()
    assert invoice.total == 6000
    login(page, "p-admin", "x" * 12)
    # then the dashboard, the invoice list and the invoice show one format: 6,000.00 EUR
    expect(page.locator("#latest-invoices")).to_contain_text("6,000.00 EUR")
    open_menu(page, "Billing", "Invoices")
    expect(page.locator("main")).to_contain_text("6,000.00 EUR")
    expect(page.locator("main")).not_to_contain_text("6000.00")
    page.get_by_role("link", name=str(invoice.number)).click()
    expect(page.locator("main")).to_contain_text("6,000.00 EUR")
    expect(page.locator("main")).not_to_contain_text("6000.00")
    # and the PBX's term is in words on the list and the PBX page
    open_menu(page, "Customers & PBXs", "PBXs")
    expect(page.locator("main")).to_contain_text("Five years")
    page.goto(f"/pbxs/{pbx.pk}/")
    expect(page.locator("main")).to_contain_text("Term Five years")
    expect(page.locator("main")).not_to_contain_text("five_year")


def test_a_taken_name_is_said_once_with_its_rule_once(page: Page, login: Login) -> None:
    # given a partner with a PBX named "taken"
    world = World()
    world.pbx(start=vendor_today(), name="taken")
    login(page, "p-admin", "x" * 12)
    open_menu(page, "Customers & PBXs", "PBXs")
    page.get_by_role("link", name="New PBX").click()
    page.select_option("#id_customer_id", label="C")
    page.select_option("#id_model_code", "WPBX-VMHW")
    page.fill("#id_name", "taken")
    page.fill("[name='licence_UC-BUSINESS']", "1")
    # when it previews, then confirms, the same name
    page.get_by_role("button", name="Preview").click()
    block = page.locator("#change-block")
    expect(block).to_contain_text("is taken")
    # then the error says it once, at the name, without the field's key, with the rule once
    expect(page.locator("#id_name")).to_have_class(re.compile("is-invalid"))
    text = block.inner_text()
    assert text.count("is taken") == 1 and text.count("R-PBX-1") == 1, text
    assert "name:" not in text, text
    page.get_by_role("button", name="Confirm").click()
    main = page.locator("main").inner_text()
    assert main.count("is taken") == 1 and main.count("R-PBX-1") == 1, main
    # when it corrects the name and previews again, the error is gone and the preview shows
    page.fill("#id_name", "free-name")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("what it will charge")
    expect(page.locator("#change-block")).not_to_contain_text("is taken")
    expect(page.locator("#id_name")).not_to_have_class(re.compile("is-invalid"))
    expect(page.locator("#id_name")).to_have_value("free-name")


def test_close_ssh_is_offered_only_while_a_window_is_open(page: Page, login: Login) -> None:
    # given an active cloud PBX whose SSH port was never opened
    world = World()
    pbx = world.pbx(start=vendor_today(), cloud=True, name="cloud-1")
    login(page, "p-admin", "x" * 12)
    page.goto(f"/pbxs/{pbx.pk}/")
    page.get_by_role("tab", name="Licence and SSH").click()
    # then "Close SSH now" is not offered
    expect(page.get_by_role("button", name="Open SSH")).to_be_visible()
    expect(page.get_by_role("button", name="Close SSH now")).to_have_count(0)
    # when it asks for more than 24 hours, the refusal is at the field and the value is kept
    page.fill("#ssh_minutes", "1441")
    page.get_by_role("button", name="Open SSH").click()
    expect(page.locator("#ssh_minutes")).to_have_value("1441")
    expect(page.locator("#ssh_minutes")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("main")).to_contain_text("Between 1 and 1440")
    # when a window is open, it is
    ssh_open(actor=world.actor, pbx_id=pbx.pk, minutes=30, now=timezone.now())
    page.reload()
    expect(page.get_by_role("button", name="Close SSH now")).to_be_visible()
    # and after closing it, it is gone again
    page.get_by_role("button", name="Close SSH now").click()
    expect(page.get_by_role("button", name="Close SSH now")).to_have_count(0)


def test_a_finished_bill_run_with_nothing_to_bill_shows_no_empty_bar(page: Page, login: Login) -> None:
    # given a finished bill run of a day with nothing to bill, and one half done
    world = World()
    now = timezone.now()
    BillRun.objects.create(
        day=vendor_today(), status=BillRunStatus.DONE, total=0, started_at=now, finished_at=now
    )
    BillRun.objects.create(
        day=vendor_today() - timedelta(days=1), status=BillRunStatus.DONE, total=4, done=4, started_at=now
    )
    assert world.staff.staff_role == "vendor_admin"
    login(page, "care", "x" * 12)
    open_menu(page, "Billing", "Bill runs")
    rows = page.locator("td.billrun-progress")
    # then the empty run says so, and only the other has a bar, full
    expect(rows.nth(0)).to_have_text("Nothing to bill that day")
    expect(rows.nth(0).get_by_role("progressbar")).to_have_count(0)
    expect(rows.nth(1).get_by_role("progressbar")).to_have_attribute("aria-valuenow", "4")
    expect(rows.nth(1)).to_contain_text("4 of 4")


def test_only_products_the_partner_can_buy_are_offered(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given the per-user demo partner alpha (Gold EUR book, no P-Series prices) with a cloud PBX
    admin = User.objects.get(username="alpha-admin")
    customer = Customer.objects.filter(partner=admin.partner).first()
    assert customer is not None
    pbx_create(
        actor=Actor(user=admin),
        customer_id=customer.pk,
        model_code="WPBX-CLOUD",
        name="alpha-cloud",
        term="yearly",
        licences={"UC-BUSINESS": 2},
        region="eu-west",
        today=vendor_today(),
    )
    pbx = Pbx.objects.get(name="alpha-cloud")
    login(page, "alpha-admin", demo_data["alpha-admin"])
    # when it opens the new-PBX form, then no software (P-Series) plan is offered
    page.goto("/pbxs/new/")
    models = page.locator("#id_model_code option").evaluate_all("els => els.map(e => e.value)")
    assert "WPBX-CLOUD" in models
    assert not [m for m in models if m.startswith("PSE-")], models
    # when it opens the cloud PBX's page, the service list has only voice and storage services,
    # each priced in its book for the PBX's term
    page.goto(f"/pbxs/{pbx.pk}/#services")
    codes = page.locator("#service_product_code option").evaluate_all("els => els.map(e => e.value)")
    assert codes
    families = dict(Product.objects.filter(code__in=codes).values_list("code", "family"))
    assert set(families.values()) <= {"voice", "storage"}, families
    assert Price.objects.filter(
        book=admin.partner.price_book, plan__product__code__in=codes, plan__term="yearly"
    ).values("plan__product__code").distinct().count() == len(codes)
    # and previewing the first one shows its price, not "No price"
    page.locator("form:has(#service_product_code)").get_by_role("button", name="Preview").click()
    expect(page.locator("#service-preview")).to_contain_text("what it will charge")
    expect(page.locator("#service-preview")).not_to_contain_text("No price")


def test_a_number_order_started_without_address_can_be_completed_or_deleted(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given the demo partner alpha with a PBX, starting an Italian new-number order without the address
    admin = User.objects.get(username="alpha-admin")
    customer = Customer.objects.filter(partner=admin.partner).first()
    assert customer is not None
    pbx_create(
        actor=Actor(user=admin),
        customer_id=customer.pk,
        model_code="WPBX-VMHW",
        name="alpha-vm",
        term="yearly",
        licences={"UC-BUSINESS": 2},
        today=vendor_today(),
    )
    login(page, "alpha-admin", demo_data["alpha-admin"])
    page.goto(reverse("voice:number_order_new"))
    page.select_option("#requirement", "IT:geographic")
    page.select_option("#kind", "new")
    page.get_by_role("button", name="Create the draft").click()
    expect(page.locator("h1")).to_contain_text("Draft")
    # when it submits it, the refusal names what is missing in words (no raw keys)
    page.get_by_role("button", name="Submit for review").click()
    refusal = page.locator(".alert-danger")
    expect(refusal).to_contain_text("the customer's address is required")
    expect(refusal).to_contain_text("document “Identity document of the legal representative” missing")
    expect(refusal).not_to_contain_text("document:")
    # and the draft has the address field: it saves the address
    page.fill("#address", "Via Roma 1, 20100 Milano")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#address")).to_have_value("Via Roma 1, 20100 Milano")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".alert-danger")).not_to_contain_text("address")
    # and it can delete the draft
    page.get_by_role("button", name="Delete the draft").click()
    expect(page.locator(".alert-success")).to_contain_text("Draft deleted")
    assert not admin.partner.pbxs.get(name="alpha-vm").number_orders.exists()
