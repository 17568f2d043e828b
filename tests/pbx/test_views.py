"""The PBX pages (R-UI-1, R-CO-4): list, new PBX with preview, the PBX page's forms with preview
and confirm (htmx partials and plain pages), refusals with rule ids, staff corrections, invoices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db.models import F
from django.test import Client

from pbxportal.accounts.models import Partner, PartnerRole, User
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from pbxportal.pbx.models import CorrectionRequest, Pbx, SshWindow, Subscription
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def client(world: World) -> Client:
    client = Client()
    client.force_login(world.user)
    return client


@contextmanager
def on(day: date) -> Iterator[None]:
    """The vendor's today is ``day``, every invoice so far paid (no overdue stage, R-INV-5)."""
    Invoice.objects.filter(kind=InvoiceKind.INVOICE).update(
        status=InvoiceStatus.PAID, amount_paid=F("total"), paid_on=day
    )
    with time_machine.travel(datetime.combine(day, time(10), tzinfo=UTC), tick=False):
        yield


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def test_the_list_searches_filters_and_reads_without_javascript(world: World, client: Client) -> None:
    # given two PBXs, one pending activation
    world.pbx(start=date(2020, 5, 15), name="alpha")
    world.pbx(start=date(2020, 5, 15), name="beta")
    Pbx.objects.filter(name="beta").update(status="pending_activation")
    # when the list is searched and filtered
    everything = text(client.get("/pbxs/"))
    searched = text(client.get("/pbxs/", {"q": "alp"}))
    pending = text(client.get("/pbxs/", {"status": "pending_activation"}))
    # then plain HTML tables with the matching PBXs
    assert "alpha" in everything and "beta" in everything
    assert "alpha" in searched and "beta" not in searched
    assert "beta" in pending and "alpha" not in pending


def test_new_pbx_preview_as_htmx_partial_and_plain_page_then_confirm(world: World, client: Client) -> None:
    form = {
        "customer_id": world.customer.pk,
        "model_code": "WPBX-CLOUD",
        "name": "acme",
        "region": "eu-west",
        "term": "yearly",
        "licence_UC-BUSINESS": 3,
        "storage_blocks": 0,
    }
    with on(date(2020, 5, 15)):
        # given the form, which has one quantity field per licence profile
        page = text(client.get("/pbxs/new/", {"customer": world.customer.pk}))
        assert 'name="licence_UC-BUSINESS"' in page and 'name="licence_UC-ESSENTIAL"' in page
        # when previewed through htmx and without JavaScript
        partial = client.post("/pbxs/new/", {**form, "action": "preview"}, headers=HTMX)
        plain = client.post("/pbxs/new/", {**form, "action": "preview"})
        # then the first invoice's lines, in a partial and in the whole page; nothing created
        assert "<html" not in text(partial) and "360.00" in text(partial)
        assert "<html" in text(plain) and "360.00" in text(plain)
        assert not Pbx.objects.exists()
        # when confirmed
        done = client.post("/pbxs/new/", {**form, "action": "confirm"})
    # then the PBX exists, its page is shown, and the invoice is issued
    pbx = Pbx.objects.get(name="acme")
    assert done.status_code == 302 and done["Location"] == f"/pbxs/{pbx.pk}/"
    assert Invoice.objects.get(pbx=pbx).total == Decimal("360.00")


def test_new_lifetime_cloud_pbx_shows_the_refusing_rule(world: World, client: Client) -> None:
    form = {"customer_id": world.customer.pk, "model_code": "WPBX-CLOUD", "name": "x", "region": "eu-west"}
    response = client.post("/pbxs/new/", {**form, "term": "lifetime", "action": "confirm"})
    assert response.status_code == 400 and "R-PBX-2" in text(response)
    assert not Pbx.objects.exists()


def test_the_pbx_page_shows_status_serial_expiry_key_subscriptions_and_invoices(
    world: World, client: Client
) -> None:
    # given a yearly VM PBX from 2020-05-15
    pbx = world.pbx(start=date(2020, 5, 15))
    invoice = Invoice.objects.get(pbx=pbx)
    # when its page is read
    with on(date(2020, 8, 10)):
        page = text(client.get(f"/pbxs/{pbx.pk}/"))
    # then everything is there, as plain HTML
    for expected in (pbx.serial, "2021-05-15", pbx.new_pbx_key[:6], "UC-BUSINESS", invoice.number, "Active"):
        assert expected in page
    assert pbx.new_pbx_key not in page  # the key itself was shown once, at creation (never stored)
    assert "SSH port 2222" not in page  # VM/HW PBXs have no portal SSH (R-PBX-11)


def test_licence_increase_preview_shows_the_proration_and_confirm_issues_it(
    world: World, client: Client
) -> None:
    pbx = world.pbx(start=date(2020, 5, 15))
    form = {"profile": "UC-BUSINESS", "quantity": 6}
    with on(date(2020, 8, 10)):
        # when 2 users are previewed (htmx) on 2020-08-10
        partial = text(client.post(f"/pbxs/{pbx.pk}/licences/", {**form, "action": "preview"}, headers=HTMX))
        # then full price, days charged, days in term, period and amount (R-CO-4)
        amount = (Decimal(240) * 278 / 365).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        for expected in ("120.00", "278", "365", "2020-08-10 → 2021-05-15", str(amount)):
            assert expected in partial
        assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 4
        # when confirmed
        done = client.post(f"/pbxs/{pbx.pk}/licences/", {**form, "action": "confirm"}, follow=True)
    # then the change is made and its invoice is named on the PBX page
    charged = Invoice.objects.filter(pbx=pbx).order_by("-id").first()
    assert charged is not None and charged.total == amount
    assert f"Invoice {charged.number} issued" in text(done)
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 6


def test_refusals_show_their_rule_on_the_form(world: World, client: Client) -> None:
    # (the PBX page sells voice and, to a cloud PBX, storage: the R-CO-1 term check is shown on storage)
    pbx = world.pbx(start=date(2020, 5, 15), cloud=True)
    with on(date(2021, 1, 31)):
        decrease = client.post(f"/pbxs/{pbx.pk}/licences/", {"profile": "UC-BUSINESS", "quantity": 1})
        monthly = client.post(
            f"/pbxs/{pbx.pk}/services/",
            {"product_code": "STORAGE-50", "quantity": 1, "term": "monthly"},
            headers=HTMX,
        )
    # then R-PBX-8 on the plain page (400) and R-CO-1 in the htmx partial (200, so htmx shows it)
    assert decrease.status_code == 400 and "R-PBX-8" in text(decrease)
    assert monthly.status_code == 200 and "R-CO-1" in text(monthly)
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 4


def test_cancel_shows_its_preview_page_then_cancels(world: World, client: Client) -> None:
    pbx = world.pbx(start=date(2020, 5, 15), cloud=True)
    with on(date(2020, 8, 10)):
        client.post(
            f"/pbxs/{pbx.pk}/services/", {"product_code": "STORAGE-50", "quantity": 1, "action": "confirm"}
        )
        sub = Subscription.objects.get(pbx=pbx, product__code="STORAGE-50")
        preview = client.post(f"/subscriptions/{sub.pk}/cancel/", {"action": "preview"})
        assert preview.status_code == 200 and "Nothing to charge" in text(preview)
        assert Subscription.objects.get(pk=sub.pk).status == "active"
        done = client.post(f"/subscriptions/{sub.pk}/cancel/", {"action": "confirm"})
    assert done.status_code == 302
    assert Subscription.objects.get(pk=sub.pk).status == "cancelled"


def test_auto_renew_toggles(world: World, client: Client) -> None:
    pbx = world.pbx(start=date(2020, 5, 15))
    client.post(f"/pbxs/{pbx.pk}/auto-renew/", {"auto_renew": ""})
    assert Pbx.objects.get(pk=pbx.pk).auto_renew is False
    client.post(f"/pbxs/{pbx.pk}/auto-renew/", {"auto_renew": "on"})
    assert Pbx.objects.get(pk=pbx.pk).auto_renew is True


def test_ssh_open_close_and_the_24_hour_limit(world: World, client: Client) -> None:
    pbx = world.pbx(start=date(2020, 5, 15), cloud=True)
    too_long = client.post(f"/pbxs/{pbx.pk}/ssh/open/", {"minutes": 1441}, follow=True)
    assert "R-PBX-11" in text(too_long) and not SshWindow.objects.exists()
    # the refused value stays in the field, with the error at it (issue 16)
    assert too_long.status_code == 400 and 'value="1441"' in text(too_long)
    client.post(f"/pbxs/{pbx.pk}/ssh/open/", {"minutes": 60})
    window = SshWindow.objects.get(pbx=pbx)
    assert (window.closes_at - window.opened_at).total_seconds() == 3600
    page = text(client.post(f"/pbxs/{pbx.pk}/ssh/close/", follow=True))
    assert "SSH closed." in page and SshWindow.objects.get(pk=window.pk).closed_at is not None


def test_corrections_filed_by_the_partner_applied_and_rejected_by_staff(world: World, client: Client) -> None:
    pbx = world.pbx(start=date(2026, 3, 2))
    staff = Client()
    staff.force_login(world.staff)
    form = {"change_date": "2026-03-02", "profile": "UC-BUSINESS", "quantity": 2, "note": "two"}
    with on(date(2026, 3, 3)):
        client.post(f"/pbxs/{pbx.pk}/corrections/", form)
        client.post(f"/pbxs/{pbx.pk}/corrections/", {**form, "quantity": 3})
        first, second = CorrectionRequest.objects.order_by("id")
        # partners cannot open the staff page
        assert client.get("/staff/corrections/").status_code == 403
        listed = text(staff.get("/staff/corrections/"))
        assert pbx.serial in listed and "UC-BUSINESS: 2" in listed
        staff.post(f"/staff/corrections/{first.pk}/apply/")
        staff.post(f"/staff/corrections/{second.pk}/reject/", {"reason": "Duplicate."})
    with on(date(2026, 3, 10)):
        late = client.post(f"/pbxs/{pbx.pk}/corrections/", form)
    assert CorrectionRequest.objects.get(pk=first.pk).status == "applied"
    assert CorrectionRequest.objects.get(pk=second.pk).decision_note == "Duplicate."
    assert Invoice.objects.get(pbx=pbx, kind=InvoiceKind.CREDIT_NOTE).total == Decimal("-240.00")
    assert late.status_code == 400 and "R-PBX-10" in text(late)


def test_customer_page_lists_its_pbxs(world: World, client: Client) -> None:
    world.pbx(start=date(2020, 5, 15), name="office")
    page = text(client.get(f"/customers/{world.customer.pk}/"))
    assert "office" in page and f"/pbxs/new/?customer={world.customer.pk}" in page


def test_invoice_page_shows_the_proration_of_each_line_and_hides_other_partners(
    world: World, client: Client
) -> None:
    # given a voice trunk ordered on 2020-08-10 on the seed PBX
    pbx = world.pbx(start=date(2020, 5, 15))
    with on(date(2020, 8, 10)):
        client.post(
            f"/pbxs/{pbx.pk}/services/", {"product_code": "VOICE-FLAT", "quantity": 1, "action": "confirm"}
        )
    invoice = Invoice.objects.filter(pbx=pbx).order_by("-id").first()
    assert invoice is not None
    # when the invoice is read / then full price, days charged 278 of 365, the period, the amount
    page = text(client.get(f"/invoices/{invoice.pk}/"))
    for expected in (
        invoice.number,
        "73.20",
        ">278<",
        ">365<",
        "2020-08-10 → 2021-05-15",
        f"{invoice.total:.2f}",
    ):
        assert expected in page
    assert invoice.number in text(client.get("/invoices/"))
    # and a user of another partner gets 404
    other = Partner.objects.create(name="O", code="o", country="IT", price_book=world.book)
    outsider = User.objects.create_user("o", password="x" * 12, partner=other, partner_role=PartnerRole.ADMIN)
    stranger = Client()
    stranger.force_login(outsider)
    assert stranger.get(f"/invoices/{invoice.pk}/").status_code == 404
    assert stranger.get(f"/pbxs/{pbx.pk}/").status_code == 404
