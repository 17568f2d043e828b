"""Shared fixture builders: price books, partners with users, staff, logged-in clients."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from pbxportal.accounts.models import Customer, Partner, PartnerRole, StaffRole, User
from pbxportal.catalog.models import PriceBook

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _postgres_marked_tests_need_postgresql(request: pytest.FixtureRequest) -> None:
    """Tests marked ``postgres`` (real row-level concurrency) fail, never skip, on another database.
    The Makefile's SQLite pass deselects them (``-m "not postgres"``); its PostgreSQL pass runs them."""
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.fail(
                "this test needs PostgreSQL: run it with DATABASE_URL=postgres://... (make test does)"
            )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _staff_mfa_and_rate_limits(request: pytest.FixtureRequest, settings: Any) -> None:
    """Staff must set up TOTP (STAFF_MFA_REQUIRED) in the browser tests and in tests marked
    ``staff_mfa`` (tests/accounts/test_mfa.py); the other tests act as staff through
    ``force_login`` or services and are about something else, so they run with it off.
    The rate-limit counters (a database cache table, or Redis) start empty in every test."""
    if not request.node.get_closest_marker("staff_mfa") and not request.node.get_closest_marker("e2e"):
        settings.STAFF_MFA_REQUIRED = False
    names = request.fixturenames
    if "transactional_db" in names or "db" in names:
        request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
        from django.core.cache import cache

        cache.clear()


@pytest.fixture
def make_book(db: Any) -> Callable[..., PriceBook]:
    def make(code: str = "GOLD-EUR", type: str = "gold", currency: str = "EUR") -> PriceBook:
        book, _ = PriceBook.objects.get_or_create(
            code=code, defaults={"name": code, "type": type, "currency": currency}
        )
        return book

    return make


@pytest.fixture
def make_partner(db: Any, make_book: Callable[..., PriceBook]) -> Callable[..., Partner]:
    def make(
        code: str | None = None, book: PriceBook | None = None, area_manager: User | None = None
    ) -> Partner:
        n = next(_seq)
        code = code or f"partner{n}"
        return Partner.objects.create(
            name=f"Partner {code}",
            code=code,
            country="IT",
            price_book=book or make_book(),
            area_manager=area_manager,
        )

    return make


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(partner: Partner | None = None, role: str = PartnerRole.ADMIN, staff_role: str = "") -> User:
        n = next(_seq)
        if staff_role:
            return User.objects.create_user(username=f"staff{n}", password=PASSWORD, staff_role=staff_role)
        assert partner is not None
        return User.objects.create_user(
            username=f"user{n}", password=PASSWORD, partner=partner, partner_role=role
        )

    return make


@pytest.fixture
def partner_a(make_partner: Callable[..., Partner]) -> Partner:
    return make_partner("alpha")


@pytest.fixture
def partner_b(make_partner: Callable[..., Partner]) -> Partner:
    return make_partner("beta")


@pytest.fixture
def user_a(make_user: Callable[..., User], partner_a: Partner) -> User:
    return make_user(partner_a)


@pytest.fixture
def user_b(make_user: Callable[..., User], partner_b: Partner) -> User:
    return make_user(partner_b)


@pytest.fixture
def vendor_admin(make_user: Callable[..., User]) -> User:
    return make_user(staff_role=StaffRole.VENDOR_ADMIN)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def customer_a(partner_a: Partner) -> Customer:
    return Customer.objects.create(partner=partner_a, name="Customer of A", country="IT")


@pytest.fixture
def customer_b(partner_b: Partner) -> Customer:
    return Customer.objects.create(partner=partner_b, name="Customer of B", country="GB")


def money(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture(autouse=True)
def _overdue_policy(request: pytest.FixtureRequest, settings: Any) -> None:
    """Tests not about R-INV-5 never pay their invoices: they run without overdue stages; tests
    marked ``overdue_policy`` run with the vendor's default stages."""
    if request.node.get_closest_marker("overdue_policy") is None:
        settings.OVERDUE_POLICY_FILE = str(Path(__file__).with_name("overdue_off.yaml"))


@pytest.fixture(autouse=True)
def _tax_rules(request: pytest.FixtureRequest, settings: Any) -> None:
    """Tests not about tax issue documents without tax, so the net totals they assert stand; tests
    marked ``tax_rules`` run with the vendor's tax rules (invoicing/tax_rules.yaml, R-INV-1)."""
    if request.node.get_closest_marker("tax_rules") is None:
        settings.TAX_RULES_FILE = str(Path(__file__).with_name("tax_off.yaml"))


@pytest.fixture(autouse=True)
def recorded_stripe(monkeypatch: pytest.MonkeyPatch) -> Any:
    """No test reaches Stripe: the official library talks to the recorded exchange (R-INV-4)."""
    from pbxportal.payments import providers
    from tests.payments.stripe_recorded import RecordedStripe

    client = RecordedStripe()
    monkeypatch.setattr(providers, "_stripe_http_client", client)
    return client


@pytest.fixture(autouse=True)
def paypal_rest(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """No test reaches PayPal: its REST calls are answered from the recorded exchanges (R-INV-4)."""
    import httpx

    from pbxportal.payments import providers
    from tests.payments.paypal_recorded import RecordedPayPal

    settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET = "client", "secret"
    player = RecordedPayPal()
    monkeypatch.setattr(providers, "_paypal_transport", httpx.MockTransport(player))
    return player


@pytest.fixture(autouse=True)
def _no_request_id_left_over() -> None:
    """Every test starts outside a request, as a fresh worker does: a request of an earlier test
    whose ``request_finished`` never ran (a streamed answer the test client left open, a signal
    receiver that raised while the database was down) must not leave its request id behind."""
    from pbxportal.ops.logging import _request_id

    _request_id.set(None)
