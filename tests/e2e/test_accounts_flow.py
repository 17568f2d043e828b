"""Accounts in a real browser (issue 15): password reset through the link of a mail read from a
real SMTP server (aiosmtpd); TOTP enabled with a code computed here, asked for at the next login;
a partner admin invites a user who sets a password and logs in with the role given; a vendor admin
onboards a partner (entity, price book, area manager, first admin invited), which then sees its
book's prices (R-CAT-4)."""

from __future__ import annotations

import email
import re
import socket
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pyotp
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from pbxportal.accounts.models import Partner, PartnerRole, User
from pbxportal.catalog.models import Price
from pbxportal.common.templatetags.money import money
from tests.e2e.conftest import Login, open_menu

NEW_PASSWORD = "a-brand-new-password-77"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def link(self, to: str, pattern: str) -> str:
        """The first link matching ``pattern`` in the last mail to ``to`` (waits up to 10 s)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if to in str(message["To"]):
                    body = message.get_payload(decode=True) if not message.is_multipart() else None
                    if body is None:
                        part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
                        body = part.get_payload(decode=True)
                    assert isinstance(body, bytes)
                    found = re.search(pattern, body.decode())
                    assert found, body.decode()
                    return found.group(0)
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to}: {[m['To'] for m in self.messages]}")


@pytest.fixture
def smtp(settings: Any, live_server: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.PORTAL_BASE_URL = live_server.url
    try:
        yield inbox
    finally:
        controller.stop()


def _submit(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name=name).click()


def _log_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()


def _next_totp_period() -> None:
    """A TOTP code is accepted once: wait for the next 30-second period before another login."""
    time.sleep(30 - time.time() % 30 + 0.5)


def test_reset_a_forgotten_password_by_mail_then_enable_totp_and_be_asked_for_a_code(
    page: Page, demo_data: dict[str, str], smtp: Inbox, login: Login
) -> None:
    # given the demo partner user alpha-admin who forgot their password
    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    # when they ask for a reset link for their address
    page.fill("#id_email", "alpha-admin@alpha.example")
    _submit(page, "Reset My Password")
    # then a mail with a one-time link arrives at the SMTP server
    link = smtp.link("alpha-admin@alpha.example", r"https?://\S+/password/reset/key/\S+/")
    # when they follow it and choose a new password
    page.goto(link)
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    _submit(page, "Change Password")
    expect(page.locator("main")).to_contain_text("password is now changed")
    # then the old password no longer works and the new one does
    page.goto("/login/")
    page.fill("#id_login", "alpha-admin")
    page.fill("#id_password", demo_data["alpha-admin"])
    _submit(page, "Log in")
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    login(page, "alpha-admin", NEW_PASSWORD)
    # and the link was for one use only
    page.goto(link)
    expect(page.locator("main")).to_contain_text("invalid")

    # when they enable TOTP from their security page, confirming their password first
    open_menu(page, "Account", "Security (two-factor)")
    expect(page.locator("main")).to_contain_text("Authenticator App")
    with page.expect_navigation():
        page.locator("main a[href*='/2fa/totp/activate/']").click()
    if "/reauthenticate/" in page.url:
        page.fill("#id_password", NEW_PASSWORD)
        _submit(page, "Confirm")
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("#id_code", pyotp.TOTP(secret).now())
    _submit(page, "Activate")
    # then they are shown recovery codes, and TOTP is on
    assert User.objects.get(username="alpha-admin").authenticator_set.filter(type="totp").exists()
    _log_out(page)
    _next_totp_period()
    # when they log in again with the password
    page.goto("/login/")
    page.fill("#id_login", "alpha-admin")
    page.fill("#id_password", NEW_PASSWORD)
    _submit(page, "Log in")
    # then a code is asked for before any page opens
    expect(page).to_have_url(re.compile(r"/2fa/authenticate/$"))
    page.goto("/customers/")
    expect(page).not_to_have_url(re.compile(r"/customers/"))
    expect(page.locator(".who")).to_have_count(0)
    page.goto("/2fa/authenticate/")
    page.fill("#id_code", pyotp.TOTP(secret).now())
    _submit(page, "Sign In")
    expect(page.locator(".who")).to_contain_text("alpha-admin")


def test_partner_admin_invites_a_user_who_sets_a_password_and_logs_in_with_the_role(
    page: Page, demo_data: dict[str, str], smtp: Inbox, login: Login
) -> None:
    # given the demo partner admin on the users page
    login(page, "alpha-admin", demo_data["alpha-admin"])
    open_menu(page, "Account", "Users")
    # when they invite a technician
    page.fill("#id_email", "tech@alpha.example")
    page.select_option("#id_role", "technician")
    _submit(page, "Send invitation")
    expect(page.locator(".alert.success")).to_contain_text("Invitation sent to tech@alpha.example")
    _log_out(page)
    # then the invitee gets a link, chooses a username and password
    link = smtp.link("tech@alpha.example", r"https?://\S+/invitation/\S+/")
    page.goto(link)
    expect(page.locator("main")).to_contain_text("Technician")
    page.fill("#id_username", "alpha-tech")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    _submit(page, "Create my account")
    expect(page.locator(".alert.success")).to_contain_text("Your account is ready")
    # and logs in as a technician of the partner
    login(page, "alpha-tech", NEW_PASSWORD)
    expect(page.locator(".who")).to_contain_text("Alpha Telecom (demo) (Technician)")
    user = User.objects.get(username="alpha-tech")
    assert (user.partner.code, user.partner_role) == ("alpha", PartnerRole.TECHNICIAN)  # type: ignore[union-attr]


def test_vendor_admin_onboards_a_partner_which_then_sees_its_books_prices(
    page: Page, demo_data: dict[str, str], smtp: Inbox, login: Login
) -> None:
    # given the demo vendor admin (who sets up TOTP at first login) on the partners page
    login(page, "admin", demo_data["admin"])
    page.goto("/staff/partners/")
    page.get_by_role("link", name="New partner").click()
    # when they create a partner with its entity, the Reseller book, an area manager and first admin
    page.fill("#id_name", "Epsilon Voice")
    page.fill("#id_code", "epsilon")
    page.fill("#id_country", "FR")
    page.fill("#id_legal_name", "Epsilon Voice SAS")
    page.fill("#id_address", "1 rue de la Paix, Paris")
    page.fill("#id_city", "Paris")
    page.fill("#id_vat_number", "FR40303265045")
    page.select_option("#id_price_book", "RESELLER-EUR")
    page.select_option("#id_area_manager", label="areamanager")
    page.fill("#id_payment_terms_days", "60")
    page.fill("#id_credit_limit", "1000")
    page.fill("#id_first_admin_email", "boss@epsilon.example")
    _submit(page, "Create partner")
    expect(page.locator(".alert.success")).to_contain_text("Invitation sent to boss@epsilon.example")
    partner = Partner.objects.get(code="epsilon")
    assert (partner.legal_entity.legal_name, partner.price_book.code, partner.area_manager.username) == (  # type: ignore[union-attr]
        "Epsilon Voice SAS",
        "RESELLER-EUR",
        "areamanager",
    )
    _log_out(page)
    # then the first admin accepts the invitation and logs in
    page.goto(smtp.link("boss@epsilon.example", r"https?://\S+/invitation/\S+/"))
    page.fill("#id_username", "epsilon-boss")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    _submit(page, "Create my account")
    login(page, "epsilon-boss", NEW_PASSWORD)
    expect(page.locator(".who")).to_contain_text("Epsilon Voice (Admin)")
    # and the partner's price book is the Reseller book with its prices
    open_menu(page, "Customers & PBXs", "Price book")
    expect(page.locator("h1")).to_contain_text(partner.price_book.name)
    price = (
        Price.objects.filter(book=partner.price_book).select_related("plan").order_by("plan__code").first()
    )
    assert price is not None
    page.fill("#q", price.plan.code)
    page.get_by_role("button", name="Filter").click()
    row = page.locator("#items tbody tr", has_text=price.plan.code).first
    expect(row.locator("td.num")).to_have_text(money(price.amount, partner.price_book.currency))
