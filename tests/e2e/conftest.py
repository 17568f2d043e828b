"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Reuse these fixtures in every browser test of the project:

- ``browser``: one headless Chromium for the session (``/usr/bin/chromium``; missing is a failure
  telling to run ``scripts/ensure-chromium``, which ``make test`` runs first; never a skip);
- ``page``: a fresh browser context and page per test, downloads accepted, ``base_url`` set to
  the live server, so ``page.goto("/price-book/")`` works;
- ``demo_data``: the demo data of ``pbxportal serve`` (both catalogs, staff, partners, customers),
  returning the printed logins by username (``demo_data["alpha-admin"]`` is the password);
- ``login``: ``login(page, username, password)`` logs in through the login form (allauth); staff
  (STAFF_MFA_REQUIRED) set up TOTP on their first login, with the secret read from the set-up page
  and codes computed by pyotp; later logins in the same test give a code (``totp_secrets``).
- ``open_menu(page, "Billing", "Invoices")``: opens a page from the main menu as a user does
  (the collapsed menu's toggle first on a narrow screen, then the group, then the entry);
  ``menu_entries(page)`` lists ``(group, entry, url)`` of the menu the page shows.

Every test in this directory is marked ``e2e`` automatically. The live server shares the test
database, so browser tests need ``transactional_db`` (``demo_data`` and ``page`` request it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a thread
# with a running loop unless told this is safe (it is: the test thread is synchronous).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
HERE = Path(__file__).parent

Login = Callable[[Page, str, str], None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
            "Run scripts/ensure-chromium (make test runs it first), then run the tests again.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: Any, transactional_db: Any) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def demo_data(transactional_db: Any) -> dict[str, str]:
    from pbxportal.demo.seed import load_demo

    return {login.username: login.password for login in load_demo()}


@pytest.fixture
def totp_secrets() -> dict[str, str]:
    """The TOTP secret of each user who set it up in this test, by username."""
    return {}


def _totp_now(secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).now()


def _submit(page: Page) -> None:
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def login(totp_secrets: dict[str, str]) -> Login:
    def log_in(page: Page, username: str, password: str) -> None:
        page.goto("/login/")
        page.fill("#id_login", username)
        page.fill("#id_password", password)
        _submit(page)
        if "/2fa/authenticate/" in page.url:
            page.fill("#id_code", _totp_now(totp_secrets[username]))
            _submit(page)
        if "/reauthenticate/" in page.url:  # the TOTP set-up asks for the password once more
            page.fill("#id_password", password)
            _submit(page)
        if "/2fa/totp/activate/" in page.url:  # staff must set up TOTP (STAFF_MFA_REQUIRED)
            secret = page.locator("#authenticator_secret").input_value()
            totp_secrets[username] = secret
            page.fill("#id_code", _totp_now(secret))
            _submit(page)
            page.goto("/")
        toggler = page.locator(".navbar-toggler")
        if toggler.is_visible():
            toggler.click()
        expect(page.locator(".who")).to_contain_text(username)

    return log_in


def _open_collapsed_menu(page: Page) -> None:
    """On a narrow screen the menu is behind its toggle: open it and wait until it is shown."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible() and "show" not in (page.locator("#main-menu").get_attribute("class") or ""):
        toggler.click()
        expect(page.locator("#main-menu.show")).to_be_visible()


def open_menu(page: Page, group: str, entry: str) -> None:
    """Open ``entry`` of the menu ``group`` by clicking, as a user would (common/navigation.py)."""
    _open_collapsed_menu(page)
    page.locator(f"[data-menu-group='{group}'] > button").click()
    page.locator(f"[data-menu-group='{group}'] .dropdown-menu").get_by_role(
        "link", name=entry, exact=True
    ).click()
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    """Log out with the button of the menu bar (opening the collapsed menu first on a phone)."""
    _open_collapsed_menu(page)
    with page.expect_navigation():
        page.locator(".who").get_by_role("button", name="Log out").click()
    expect(page.locator("#id_login")).to_be_visible()


def menu_entries(page: Page) -> list[tuple[str, str, str]]:
    """Every ``(group, entry label, url)`` of the menu on the current page."""
    rows: list[tuple[str, str, str]] = []
    for group in page.locator("[data-menu-group]").all():
        name = group.get_attribute("data-menu-group") or ""
        for link in group.locator(".dropdown-item").all():
            rows.append((name, (link.text_content() or "").strip(), link.get_attribute("href") or ""))
    return rows
