"""One typed event registry (common.hooks.Hook) and one audit helper (common.audit.audit): handlers
run after the transaction commits, never for a rolled-back one (R-INV-3, R-LIC-1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from pbxportal.common.audit import audit
from pbxportal.common.hooks import Hook
from pbxportal.common.models import AuditEvent
from pbxportal.invoicing.hooks import INVOICE_ISSUED
from pbxportal.payments.hooks import INVOICE_PAID
from pbxportal.pbx.services import PBX_CHANGED


@pytest.mark.django_db(transaction=True)
def test_handlers_run_after_commit_in_order_once_and_not_after_a_rollback() -> None:
    hook: Hook[int] = Hook("test")
    seen: list[tuple[str, int]] = []

    def first(n: int) -> None:
        seen.append(("first", n))

    def second(n: int) -> None:
        seen.append(("second", n))

    hook.connect(first)
    hook.connect(second)
    hook.connect(first)  # connected twice, runs once
    with transaction.atomic():
        hook.send(1)
        assert seen == []  # not before the commit
    assert seen == [("first", 1), ("second", 1)]
    with pytest.raises(RuntimeError), transaction.atomic():
        hook.send(2)
        raise RuntimeError("rolled back")
    assert seen == [("first", 1), ("second", 1)]
    hook.disconnect(first)
    hook.send(3)  # outside a transaction: at once
    assert seen[-1] == ("second", 3)


def test_the_apps_connect_to_the_three_events() -> None:
    names: Callable[[Hook[Any]], set[str]] = lambda hook: {h.__module__ for h in hook.handlers}  # noqa: E731
    assert "pbxportal.licensing.services" in names(PBX_CHANGED)  # R-LIC-1: re-sign after a change
    assert "pbxportal.invoicing.mail_hook" in names(INVOICE_ISSUED)  # R-INV-3: the invoice mail
    assert "pbxportal.expansions.services" in names(INVOICE_PAID)  # R-EX-3: activation codes


@pytest.mark.django_db
def test_audit_records_the_event_with_string_data() -> None:
    event = audit(None, "thing.done", partner_id=None, object_type="thing", object_id=7, count=3)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.object_type, stored.object_id, stored.data) == (
        "thing.done",
        "thing",
        "7",
        {"count": "3"},
    )
    assert stored.actor is None
