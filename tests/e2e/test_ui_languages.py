"""Languages (issue 16 item 9, docs/ui.md "Languages"): the language switch of the top bar shows
the portal in Italian, remembered across pages and logins, and back in English."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from pbxportal.invoicing.models import Invoice
from tests.e2e.conftest import Login, log_out, menu_entries


def _switch(page: Page, language: str, button: str) -> None:
    page.select_option("#language-select", language)
    with page.expect_navigation():
        page.locator(".language-switch").get_by_role("button", name=button).click()


def test_switching_to_italian_shows_the_italian_menu_and_dashboard(
    page: Page, login: Login, demo_data: dict[str, str]
) -> None:
    # given the demo partner admin on its dashboard, in English
    overdue = Invoice.objects.get(pbx__name="rossi-magazzino")
    login(page, "alpha-admin", demo_data["alpha-admin"])
    expect(page.locator("h1")).to_have_text("Dashboard")

    # when it picks Italiano in the top bar
    _switch(page, "it", "Switch")

    # then the page, its menu and its amounts are in Italian, on the same page
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.locator("h1")).to_have_text("Cruscotto")
    expect(page.locator("#expiring h2")).to_contain_text("PBX in scadenza entro 30 giorni")
    expect(page.locator("#overdue-invoices h2")).to_have_text("Fatture scadute")
    groups = [button.text_content() for button in page.locator("[data-menu-group] > button").all()]
    assert groups == ["Clienti e PBX", "Ordini", "Fatturazione", "Account"]
    entries = {entry for _, entry, _ in menu_entries(page)}
    assert {"Clienti", "Fatture", "Estratto conto", "Ordini hardware"} <= entries
    amount = f"{overdue.amount_due:,.2f}".translate(str.maketrans(",.", ".,"))
    expect(page.locator("#overdue-invoices")).to_contain_text(f"{amount} EUR")
    expect(page.locator(".who").get_by_role("button", name="Esci")).to_be_visible()

    # and the choice is remembered on the next page and after logging in again
    page.goto("/invoices/")
    expect(page.locator("h1")).to_have_text("Fatture")
    log_out_it = page.locator(".who").get_by_role("button", name="Esci")
    with page.expect_navigation():
        log_out_it.click()
    expect(page.get_by_role("button", name="Accedi")).to_be_visible()
    login(page, "alpha-admin", demo_data["alpha-admin"])
    expect(page.locator("h1")).to_have_text("Cruscotto")

    # when it switches back to English, the portal is in English again
    _switch(page, "en", "Cambia")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    log_out(page)
