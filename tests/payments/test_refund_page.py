"""Staff record a refund of account credit from the staff invoice page, through the same service
as ``POST /payments/refunds`` (R-INV-4); never more than the credit held; partners cannot."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.test import Client

from pbxportal.accounts.models import User
from pbxportal.invoicing.credits import account_credit
from pbxportal.invoicing.models import AccountCreditEntry, CreditEntryKind, Invoice
from pbxportal.payments.models import Method
from pbxportal.payments.services import _apply
from tests.invoicing.helpers import DAY, issue
from tests.pbx.builders import World


def _overpaid(world: World) -> Invoice:
    """An invoice of 10.00 paid 25.00: 15.00 of account credit."""
    invoice = issue(world.partner, "10.00")
    _apply(invoice_id=invoice.pk, amount=Decimal("25.00"), currency="EUR", method=Method.BANK_TRANSFER,
           received_on=DAY)  # fmt: skip
    assert account_credit(partner_id=world.partner.pk) == Decimal("15.00")
    return invoice


def test_staff_record_a_refund_on_the_invoice_page(db: Any, client_for: Callable[[User], Client]) -> None:
    world = World()
    invoice = _overpaid(world)
    staff = client_for(world.staff)
    page = staff.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Refund account credit" in page and "15.00" in page
    # when staff refund 10.00 with a reference and a reason
    done = staff.post(
        f"/payments/staff/invoices/{invoice.pk}/refund/",
        {"amount": "10.00", "reference": "SEPA-REF-1", "reason": "partner closed the account"},
        follow=True,
    )
    # then it is recorded as the API records it, and shown on the page
    assert done.status_code == 200 and "SEPA-REF-1" in done.content.decode()
    entry = AccountCreditEntry.objects.get(kind=CreditEntryKind.REFUND)
    assert (entry.amount, entry.reference, entry.reason) == (
        Decimal("-10.00"),
        "SEPA-REF-1",
        "partner closed the account",
    )
    assert entry.recorded_by == world.staff
    assert account_credit(partner_id=world.partner.pk) == Decimal("5.00")
    # more than the credit left is refused with the rule, nothing recorded
    refused = staff.post(
        f"/payments/staff/invoices/{invoice.pk}/refund/",
        {"amount": "5.01", "reference": "SEPA-REF-2"},
        follow=True,
    )
    assert "R-INV-4" in refused.content.decode()
    assert AccountCreditEntry.objects.filter(kind=CreditEntryKind.REFUND).count() == 1


def test_partners_neither_see_nor_post_the_refund_form(db: Any, client_for: Callable[[User], Client]) -> None:
    world = World()
    invoice = _overpaid(world)
    partner = client_for(world.user)
    assert "Refund account credit" not in partner.get(f"/invoices/{invoice.pk}/").content.decode()
    response = partner.post(
        f"/payments/staff/invoices/{invoice.pk}/refund/", {"amount": "1", "reference": "x"}
    )
    assert response.status_code == 403
    assert not AccountCreditEntry.objects.filter(kind=CreditEntryKind.REFUND).exists()


def test_the_tax_report_form_defaults_to_the_previous_month(
    db: Any, client_for: Callable[[User], Client], time_machine: Any
) -> None:
    time_machine.move_to("2025-03-15 12:00+01:00")
    world = World()
    page = client_for(world.staff).get("/staff/tax-report/").content.decode()
    assert 'value="2025-02-01"' in page and 'value="2025-03-01"' in page
    csv = client_for(world.staff).get("/staff/tax-report/?from=2025-02-01&to=2025-03-01")
    assert csv["Content-Disposition"] == 'attachment; filename="tax-report-2025-02-01-2025-03-01.csv"'
