"""A correction is applied once (issue 13 item 6, R-PBX-10): two staff clicks at the same moment,
each on its own PostgreSQL connection; the status is checked under a row lock, so one applies it
and the other is refused with a 409, and one credit note is issued."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connections

from pbxportal.common.errors import Conflict
from pbxportal.invoicing.models import Invoice, InvoiceKind
from pbxportal.pbx import services
from pbxportal.pbx.models import CorrectionRequest, CorrectionStatus
from tests.pbx.builders import World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_simultaneous_applies_issue_one_credit_note() -> None:
    # given a yearly PBX activated with 4 users by mistake and a filed correction to 2
    world = World()
    pbx = world.pbx(term="yearly", start=date(2026, 3, 2))
    correction = services.correction_file(
        actor=world.actor,
        pbx_id=pbx.pk,
        change_date=date(2026, 3, 2),
        quantities={"UC-BUSINESS": 2},
        today=date(2026, 3, 3),
    )
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def apply() -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(
                services.correction_apply(
                    actor=world.staff_actor, correction_id=correction.pk, today=date(2026, 3, 4)
                )
            )
        except BaseException as exc:  # reported by the assertions below
            outcomes.append(exc)
        finally:
            connections.close_all()

    # when two staff apply it at the same moment
    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then exactly one applied it, the other got a Conflict, and one credit note exists
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    applied = [o for o in outcomes if isinstance(o, list)]
    assert len(conflicts) == 1 and len(applied) == 1, outcomes
    assert Invoice.objects.filter(pbx=pbx, kind=InvoiceKind.CREDIT_NOTE).count() == 1
    assert CorrectionRequest.objects.get(pk=correction.pk).status == CorrectionStatus.APPLIED
