"""R-INV-4 on PostgreSQL: two provider webhooks paying the same invoice at the same moment — the
invoice is paid once, the second payment becomes account credit (the partner's ledger is locked)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.utils import timezone

from pbxportal.invoicing.credits import account_credit
from pbxportal.invoicing.models import Invoice, InvoiceStatus
from pbxportal.payments.models import Checkout, Payment
from pbxportal.payments.providers.sandbox import SandboxProvider, event_body
from pbxportal.payments.services import webhook_receive
from tests.invoicing.helpers import issue
from tests.pbx.builders import World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_payments_of_one_invoice(settings: object) -> None:
    # given an invoice of 79.20 and two sandbox checkouts of all of it
    world = World()
    invoice = issue(world.partner, "79.20")
    bodies = []
    for n in range(2):
        checkout = Checkout.objects.create(
            partner=world.partner, invoice=invoice, provider="sandbox", reference=f"chk_race_{n}",
            amount=Decimal("79.20"), currency="EUR", redirect_url="/x/",
        )  # fmt: skip
        bodies.append(
            event_body(
                reference=checkout.reference, outcome="succeeded", amount=Decimal("79.20"), currency="EUR"
            )
        )
    provider = SandboxProvider(webhook_secret=settings.PAYMENT_SANDBOX_WEBHOOK_SECRET)  # type: ignore[attr-defined]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver(body: bytes) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                outcomes.append(
                    webhook_receive(
                        provider_code="sandbox",
                        body=body,
                        headers=provider.signed_headers(body, timezone.now()),
                        now=timezone.now(),
                    )
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    # when both webhooks arrive at once
    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then both payments are recorded, the invoice is paid once, the rest is account credit
    assert not errors, errors
    assert outcomes == ["paid 79.20 EUR", "paid 79.20 EUR"]
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == Decimal("79.20")
    assert Payment.objects.count() == 2
    assert account_credit(partner_id=world.partner.pk) == Decimal("79.20")
