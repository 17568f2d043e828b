"""R-INV-1 on PostgreSQL: many issuers at once (single invoices, batches, and issues that roll
back) leave invoice numbers without gap and without duplicate."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections, transaction

from pbxportal.common.errors import Conflict
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, LineKind
from pbxportal.invoicing.services import InvoiceDraft, invoice_issue, invoices_issue_batch
from tests.pbx.builders import World

THREADS, EACH = 12, 8
DAY = date(2025, 6, 1)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def _line(key: str) -> LineDraft:
    return LineDraft(
        kind=LineKind.ONE_OFF,
        product_code="FEE",
        description=f"fee {key}",
        unit_price=Decimal("10.00"),
        quantity=Decimal(1),
        amount=Decimal("10.00"),
        currency="EUR",
        charge_key=key,
    )


def test_parallel_issuing_leaves_no_gap_and_no_duplicate() -> None:
    # given one partner and 12 threads starting together
    world = World()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    refused = []

    def issue(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(EACH):
                if worker % 3 == 0:
                    # a batch of two invoices in one transaction
                    with transaction.atomic():
                        invoices_issue_batch(
                            drafts=[
                                InvoiceDraft(world.partner, None, [_line(f"b{worker}-{n}-{i}")], None)
                                for i in range(2)
                            ],
                            issued_on=DAY,
                        )
                elif worker % 3 == 1 and n % 2:
                    # a charge invoiced already: the issue fails and must give its number back
                    try:
                        invoice_issue(partner=world.partner, lines=[_line("shared")], issued_on=DAY)
                    except Conflict:
                        refused.append(worker)
                else:
                    invoice_issue(partner=world.partner, lines=[_line(f"s{worker}-{n}")], issued_on=DAY)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(w,)) for w in range(THREADS)]
    # when they all issue at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then numbers run 1..N with no gap and no duplicate, and the refused issues took none
    assert not errors, errors
    assert refused, "some issues were expected to be refused"
    sequences = sorted(
        Invoice.objects.filter(year=DAY.year, kind="invoice").values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, len(sequences) + 1))
    numbers = list(Invoice.objects.filter(year=DAY.year).values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    batches = sum(1 for w in range(THREADS) if w % 3 == 0) * EACH * 2
    singles = sum(1 for w in range(THREADS) if w % 3 == 2) * EACH + sum(
        1 for w in range(THREADS) if w % 3 == 1 for n in range(EACH) if not n % 2
    )
    assert len(sequences) == batches + singles + 1  # + the one "shared" charge that got through
