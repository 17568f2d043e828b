"""Saved payment methods and automatic charging (issue 14, build item 6; R-INV-4, R-INV-5), with
the built-in sandbox provider: a card saved on its hosted page (only the provider's ids kept), a
renewal invoice charged when issued, a failing card retried on the schedule (data) while the
invoice stays due and the overdue clock runs, the amount due after credits, no double payment."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pbxportal.accounts.models import PartnerRole, User
from pbxportal.clock.services import clock_run
from pbxportal.common.actor import Actor
from pbxportal.common.errors import Forbidden
from pbxportal.invoicing.credits import account_credit
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.invoicing.services import InvoiceDraft, invoices_issue_batch
from pbxportal.overdue.policy import partner_state
from pbxportal.payments import methods
from pbxportal.payments.models import (
    AttemptStatus,
    ChargeAttempt,
    CheckoutStatus,
    MethodSetup,
    Payment,
    SavedMethodStatus,
    SavedPaymentMethod,
    WebhookEvent,
)
from pbxportal.payments.providers import ChargeResult
from pbxportal.payments.services import _apply
from tests.invoicing.helpers import line
from tests.pbx.builders import World

START = date(2025, 3, 10)
RENEWAL_DAY = date(2025, 4, 9)  # the monthly renewal of a PBX started on START is issued here


@pytest.fixture
def world(db: Any) -> World:
    return World()


def save_card(client: Client, number: str) -> Any:
    """Billing → Payment methods → Add a card (sandbox) → the hosted save-card page."""
    added = client.post("/payments/methods/add/", {"provider": "sandbox"})
    assert added.status_code == 302, added.content
    assert added["Location"].startswith("/payments/sandbox/setup/set_")
    return client.post(added["Location"], {"card_number": number})


def renew(world: World, capture: Callable[..., Any], until: date = RENEWAL_DAY) -> Invoice:
    """The billing clock issues the monthly renewal; its issued-invoice hooks run after commit."""
    with capture(execute=True):
        clock_run(until=until)
    return Invoice.objects.get(source_key__startswith="renewal:")


def test_saving_a_card_on_the_sandbox_page_keeps_only_the_providers_ids(
    world: World, client_for: Callable[[User], Client]
) -> None:
    client = client_for(world.user)
    # when the partner's admin saves the succeeding test card on the hosted page
    saved = save_card(client, "4242 4242 4242 4242")
    # then the signed webhook saved it: provider ids, brand, last four, expiry, and it is the default
    assert saved.status_code == 302 and saved["Location"] == "/payments/methods/"
    method = SavedPaymentMethod.objects.get()
    assert method.partner == world.partner and method.provider == "sandbox" and method.is_default
    assert method.customer_ref.startswith("cus_sbx_") and method.method_ref.startswith("pm_sbx_")
    assert (method.brand, method.last4, method.exp_month) == ("visa", "4242", 12)
    assert MethodSetup.objects.get().status == CheckoutStatus.PAID
    # never the card number, anywhere it was stored
    stored = json.dumps(list(SavedPaymentMethod.objects.values()), default=str) + json.dumps(
        list(WebhookEvent.objects.values("payload", "outcome"))
    )
    assert "4242424242424242" not in stored and "4242 4242 4242 4242" not in stored
    page = client.get("/payments/methods/").content.decode()
    assert "visa •••• 4242" in page and "Default" in page


def test_a_refused_card_saves_nothing(world: World, client_for: Callable[[User], Client]) -> None:
    page = save_card(client_for(world.user), "4000 0000 0000 0002")
    assert page.status_code == 200 and "refused" in page.content.decode()
    assert not SavedPaymentMethod.objects.exists()
    assert MethodSetup.objects.get().status == CheckoutStatus.FAILED


def test_a_renewal_invoice_is_charged_automatically_and_paid(
    world: World, client_for: Callable[[User], Client], django_capture_on_commit_callbacks: Any
) -> None:
    # given a monthly PBX (its first invoice, paid by hand, is not a renewal) and a saved card
    world.pbx(term="monthly", start=START)
    first = Invoice.objects.get()
    save_card(client_for(world.user), "4242 4242 4242 4242")
    # when the clock issues the renewal invoice
    renewal = renew(world, django_capture_on_commit_callbacks)
    # then it was charged on its day of issue, for what is due, and is paid
    renewal.refresh_from_db()
    assert renewal.status == InvoiceStatus.PAID and renewal.amount_due == 0
    attempt = ChargeAttempt.objects.get()
    assert (attempt.invoice, attempt.number, attempt.status) == (renewal, 1, AttemptStatus.SUCCEEDED)
    assert attempt.amount == renewal.total == Decimal("40.00") and attempt.scheduled_on == RENEWAL_DAY
    payment = Payment.objects.get(invoice=renewal)
    assert payment.method == "sandbox" and payment.provider_ref == attempt.provider_ref
    assert payment.provider_ref.startswith("pay_sbx_") and attempt.payment == payment
    # an invoice that is not a renewal or usage invoice is never charged automatically
    first.refresh_from_db()
    assert first.status != InvoiceStatus.PAID and not ChargeAttempt.objects.filter(invoice=first).exists()


def test_a_failing_saved_card_leaves_the_invoice_due_and_retries_on_the_schedule(
    world: World,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.AUTO_CHARGE_RETRY_DAYS = "0,3,5,7"
    world.pbx(term="monthly", start=START)
    client = client_for(world.user)
    # given a card that saves but whose charges are declined
    save_card(client, "4000 0000 0000 0341")
    # when the renewal invoice is issued
    renewal = renew(world, django_capture_on_commit_callbacks)
    # then the first attempt failed with the decline reason, the invoice is still due, untouched
    renewal.refresh_from_db()
    assert renewal.status == InvoiceStatus.DUE and renewal.amount_due == Decimal("40.00")
    assert renewal.amount_paid == 0 and not Payment.objects.filter(invoice=renewal).exists()
    first, second = ChargeAttempt.objects.order_by("number")
    assert (first.status, first.decline_reason, first.amount) == (AttemptStatus.FAILED, "card_declined", 40)
    assert first.provider_ref.startswith("pay_sbx_")
    # and the next retry is scheduled 3 days after the invoice date
    assert (second.number, second.status, second.scheduled_on) == (
        2,
        AttemptStatus.SCHEDULED,
        RENEWAL_DAY + timedelta(days=3),
    )
    # the invoice page shows the failed attempt and the scheduled one
    page = client.get(f"/invoices/{renewal.pk}/").content.decode()
    assert "card_declined" in page and "Scheduled" in page
    # when the clock runs through the schedule: day 3, 5 and 7 each try once more, then no more
    with django_capture_on_commit_callbacks(execute=True):
        clock_run(until=RENEWAL_DAY + timedelta(days=20))
    attempts = list(ChargeAttempt.objects.filter(invoice=renewal).order_by("number"))
    assert [(a.number, a.status) for a in attempts] == [(n, AttemptStatus.FAILED) for n in (1, 2, 3, 4)]
    assert [a.scheduled_on - RENEWAL_DAY for a in attempts] == [timedelta(days=d) for d in (0, 3, 5, 7)]
    renewal.refresh_from_db()
    assert renewal.status in (InvoiceStatus.DUE, InvoiceStatus.OVERDUE) and renewal.amount_due == 40
    # the failures fed the overdue clock: past its due date the partner is overdue as usual
    assert renewal.due_on is not None
    assert partner_state(partner_id=world.partner.pk, today=renewal.due_on + timedelta(days=1)).days > 0


def test_the_amount_charged_is_what_is_due_after_account_credit(
    world: World, client_for: Callable[[User], Client], django_capture_on_commit_callbacks: Any
) -> None:
    # given 15.00 of account credit (the first invoice overpaid by bank transfer) and a saved card
    world.pbx(term="monthly", start=START)
    first = Invoice.objects.get()
    _apply(
        invoice_id=first.pk,
        amount=first.total + Decimal("15.00"),
        currency="EUR",
        method="bank_transfer",
        received_on=START,
    )
    save_card(client_for(world.user), "4242 4242 4242 4242")
    # when the renewal of 40.00 is issued: the credit is applied first, the card charged the rest
    renewal = renew(world, django_capture_on_commit_callbacks)
    attempt = ChargeAttempt.objects.get()
    assert attempt.amount == Decimal("25.00")
    renewal.refresh_from_db()
    assert renewal.status == InvoiceStatus.PAID and renewal.amount_paid == Decimal("40.00")


def test_a_checkout_paid_while_a_charge_is_pending_makes_the_charge_account_credit(world: World) -> None:
    # given a renewal invoice whose automatic charge is pending at the provider (no answer yet);
    # issued without running the after-commit hooks, the attempt written as the service leaves it
    world.pbx(term="monthly", start=START)
    method = SavedPaymentMethod.objects.create(
        partner=world.partner, provider="sandbox", customer_ref="cus_sbx_1", method_ref="pm_sbx_4242_1",
        last4="4242", is_default=True,
    )  # fmt: skip
    clock_run(until=RENEWAL_DAY)
    renewal = Invoice.objects.get(source_key__startswith="renewal:")
    attempt = ChargeAttempt.objects.create(
        partner=world.partner, invoice=renewal, saved_method=method, provider="sandbox", number=1,
        scheduled_on=RENEWAL_DAY, reference="chg_pending", amount=Decimal("40.00"), currency="EUR",
        status=AttemptStatus.PENDING,
    )  # fmt: skip
    # when the partner pays the whole invoice by checkout, then the charge succeeds too
    _apply(invoice_id=renewal.pk, amount=Decimal("40.00"), currency="EUR", method="sandbox",
           received_on=RENEWAL_DAY, provider_ref="pay_sbx_checkout")  # fmt: skip
    settled = methods.attempt_settle(
        reference=attempt.reference,
        result=ChargeResult(status="succeeded", provider_ref="pay_sbx_late"),
        day=RENEWAL_DAY,
    )
    # then the invoice is paid once; the second payment became account credit, applied to the
    # oldest open invoice (the PBX's first one, still unpaid) as every account credit is
    assert settled.status == AttemptStatus.SUCCEEDED and settled.payment is not None
    renewal.refresh_from_db()
    assert renewal.status == InvoiceStatus.PAID and renewal.amount_paid == Decimal("40.00")
    first = Invoice.objects.exclude(pk=renewal.pk).get()
    assert first.status == InvoiceStatus.PAID and first.amount_paid == Decimal("40.00")
    assert account_credit(partner_id=world.partner.pk) == 0
    # and the provider's webhook of the same charge, arriving after, changes nothing
    again = methods.attempt_settle(
        reference=attempt.reference,
        result=ChargeResult(status="succeeded", provider_ref="pay_sbx_late"),
        day=RENEWAL_DAY,
    )
    assert again.payment == settled.payment and Payment.objects.filter(invoice=renewal).count() == 2


def test_a_scheduled_retry_of_an_invoice_paid_meanwhile_charges_nothing(
    world: World, client_for: Callable[[User], Client], django_capture_on_commit_callbacks: Any
) -> None:
    world.pbx(term="monthly", start=START)
    save_card(client_for(world.user), "4000 0000 0000 0341")
    renewal = renew(world, django_capture_on_commit_callbacks)
    # the partner pays by bank transfer before the retry
    _apply(invoice_id=renewal.pk, amount=Decimal("40.00"), currency="EUR", method="bank_transfer",
           received_on=RENEWAL_DAY + timedelta(days=1))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        clock_run(until=RENEWAL_DAY + timedelta(days=3))
    retry = ChargeAttempt.objects.get(number=2)
    assert (retry.status, retry.decline_reason, retry.amount) == (AttemptStatus.SKIPPED, "nothing due", None)
    assert Payment.objects.filter(invoice=renewal).count() == 1


def test_set_default_and_remove_on_the_page_and_no_charge_without_a_method(
    world: World, client_for: Callable[[User], Client], django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(world.user)
    save_card(client, "4242 4242 4242 4242")
    save_card(client, "4000 0000 0000 0341")
    first, second = SavedPaymentMethod.objects.order_by("id")
    assert first.is_default and not second.is_default
    # make the second the default, then remove both
    assert client.post(f"/payments/methods/{second.pk}/default/").status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default
    for method in (first, second):
        assert client.post(f"/payments/methods/{method.pk}/remove/").status_code == 302
    assert set(SavedPaymentMethod.objects.values_list("status", flat=True)) == {SavedMethodStatus.REMOVED}
    assert "No saved payment method" in client.get("/payments/methods/").content.decode()
    # then a renewal is not charged automatically
    world.pbx(term="monthly", start=START)
    renew(world, django_capture_on_commit_callbacks)
    assert not ChargeAttempt.objects.exists()


def test_only_admin_and_billing_users_manage_methods_and_another_partners_are_404(
    world: World, client_for: Callable[[User], Client], make_partner: Any
) -> None:
    save_card(client_for(world.user), "4242 4242 4242 4242")
    method = SavedPaymentMethod.objects.get()
    sales = User.objects.create_user(
        "p-sales", password="x" * 12, partner=world.partner, partner_role=PartnerRole.SALES
    )
    with pytest.raises(Forbidden):
        methods.method_setup_start(actor=Actor(user=sales), provider_code="sandbox")
    assert client_for(sales).post(f"/payments/methods/{method.pk}/remove/").status_code == 403
    other = make_partner()
    stranger = User.objects.create_user("o-admin", password="x" * 12, partner=other, partner_role="admin")
    assert client_for(stranger).post(f"/payments/methods/{method.pk}/remove/").status_code == 404
    method.refresh_from_db()
    assert method.status == SavedMethodStatus.ACTIVE


def test_the_api_lists_sets_default_removes_and_returns_the_setup_url(
    world: World, client_for: Callable[[User], Client]
) -> None:
    client = client_for(world.user)
    added = client.post("/api/v1/payments/methods", {"provider": "sandbox"}, content_type="application/json")
    assert added.status_code == 201 and added.json()["redirect_url"].startswith("/payments/sandbox/setup/")
    client.post(added.json()["redirect_url"], {"card_number": "4242 4242 4242 4242"})
    listed = client.get("/api/v1/payments/methods").json()["items"]
    assert [(m["last4"], m["is_default"]) for m in listed] == [("4242", True)]
    assert "method_ref" not in listed[0] and "customer_ref" not in listed[0]
    method_id = listed[0]["id"]
    assert client.post(f"/api/v1/payments/methods/{method_id}/default").json()["is_default"] is True
    assert client.delete(f"/api/v1/payments/methods/{method_id}").status_code == 204
    assert client.get("/api/v1/payments/methods").json()["items"] == []
    refused = client.post("/api/v1/payments/methods", {"provider": "paypal"}, content_type="application/json")
    assert refused.status_code == 400 and "provider" in refused.json()["error"]["fields"]


def test_a_bill_run_batch_asks_for_saved_methods_once_and_charges_only_their_partners(
    world: World, make_partner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given two partners, only the world's with a default saved card, and a batch of renewals
    SavedPaymentMethod.objects.create(
        partner=world.partner, provider="sandbox", customer_ref="cus_sbx_1", method_ref="pm_sbx_4242_1",
        last4="4242", is_default=True,
    )  # fmt: skip
    other = make_partner(book=world.book)
    drafts = [
        InvoiceDraft(partner=partner, pbx_id=None, lines=[line("40.00")], source_key=f"renewal:batch:{n}")
        for n, partner in enumerate([world.partner, other, world.partner])
    ]
    # when the batch is issued (one issued-invoices event for the whole chunk)
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        invoices = invoices_issue_batch(drafts=drafts, issued_on=RENEWAL_DAY)
    # then the saved methods were read once for the batch, and only the world's invoices charged
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "payments_savedpaymentmethod"' in q["sql"]]
    hook_reads = [sql for sql in reads if "IN (" in sql]
    assert len(hook_reads) == 1, hook_reads
    paid = {i.pk for i in Invoice.objects.filter(pk__in=[i.pk for i in invoices], status=InvoiceStatus.PAID)}
    assert paid == {invoices[0].pk, invoices[2].pk}
    assert set(ChargeAttempt.objects.values_list("invoice_id", flat=True)) == paid
