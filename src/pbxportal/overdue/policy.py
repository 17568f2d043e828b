"""The overdue policy (R-INV-5): one function every service calls before an action a stage can block.

The stages, their days and what they block are data (``policy.yaml``, or the file named by
``settings.OVERDUE_POLICY_FILE``). Days count from the due date of the partner's earliest unpaid
invoice, so paying everything overdue clears every stage at once; nothing else (a dispute, a
correction request) stops the clock. The stage is computed from the invoices on each call, never
stored, so it cannot go stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings
from django.db.models import Min

from pbxportal.common.errors import RuleViolation
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus

ACTIONS = ("order_hardware", "order_licences", "portal_write", "services")
DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")


@dataclass(frozen=True)
class Stage:
    code: str
    day: int
    name: str
    blocks: frozenset[str]


@dataclass(frozen=True)
class Policy:
    stages: tuple[Stage, ...]
    mail_days: tuple[int, ...]


@dataclass(frozen=True)
class OverdueState:
    """Where a partner stands today: days since the earliest unpaid due date, and its stage."""

    since: date | None
    days: int
    stage: Stage | None

    def blocks(self, action: str) -> bool:
        return self.stage is not None and action in self.stage.blocks


@cache
def _load(path: str) -> Policy:
    data = yaml.safe_load(Path(path).read_text())
    stages = []
    for raw in data["stages"]:
        unknown = set(raw.get("blocks") or []) - set(ACTIONS)
        if unknown:
            raise ValueError(f"{path}: stage {raw['code']!r} blocks unknown actions {sorted(unknown)}")
        stages.append(Stage(raw["code"], int(raw["day"]), raw["name"], frozenset(raw.get("blocks") or [])))
    return Policy(
        stages=tuple(sorted(stages, key=lambda s: s.day)),
        mail_days=tuple(sorted(int(d) for d in data.get("mail_days") or [])),
    )


def policy() -> Policy:
    return _load(str(getattr(settings, "OVERDUE_POLICY_FILE", "") or DEFAULT_POLICY))


def earliest_unpaid_due(*, partner_id: int, today: date) -> date | None:
    """The due date of the partner's earliest invoice unpaid past its due date."""
    due: date | None = Invoice.objects.filter(
        partner_id=partner_id,
        kind=InvoiceKind.INVOICE,
        status__in=[InvoiceStatus.DUE, InvoiceStatus.OVERDUE],
        due_on__lt=today,
    ).aggregate(first=Min("due_on"))["first"]
    return due


def stage_for_days(days: int) -> Stage | None:
    current = None
    for stage in policy().stages:
        if days >= stage.day:
            current = stage
    return current


def partner_state(*, partner_id: int, today: date) -> OverdueState:
    since = earliest_unpaid_due(partner_id=partner_id, today=today)
    if since is None:
        return OverdueState(since=None, days=0, stage=None)
    days = (today - since).days
    return OverdueState(since=since, days=days, stage=stage_for_days(days))


def partner_stage(*, partner_id: int, today: date) -> Stage | None:
    """The partner's current overdue stage (R-INV-5), or None when nothing is overdue enough."""
    return partner_state(partner_id=partner_id, today=today).stage


_REFUSALS = {
    "order_hardware": "Hardware and HWaaS cannot be ordered while invoices are overdue",
    "order_licences": "Licences cannot be ordered while invoices are overdue",
    "portal_write": "The portal is read-only while invoices are overdue; paying stays possible",
    "services": "Services are suspended while invoices are overdue",
}


def ensure_allowed(*, partner_id: int, action: str, today: date) -> None:
    """Refuse ``action`` when the partner's overdue stage blocks it (R-INV-5).

    Actions: ``order_hardware`` (blocked after day 5), ``order_licences`` (blocked from the
    read-only stage), ``portal_write`` (blocked from day 30; paying is never blocked).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown overdue action {action!r}")
    state = partner_state(partner_id=partner_id, today=today)
    if state.blocks(action):
        assert state.stage is not None and state.since is not None
        raise RuleViolation(
            f"{_REFUSALS[action]} (day {state.days} since {state.since.isoformat()}, stage "
            f"“{state.stage.name}”). Pay the overdue invoices on the account balance page to lift it.",
            rule="R-INV-5",
            fields={"overdue_stage": state.stage.code, "overdue_days": state.days},
        )


def licence_status(*, partner_id: int, today: date) -> str:
    """What the licences delivered to the partner's PBXs say (R-INV-5): ``active`` or ``suspended``
    (from the stage that blocks ``services``, day 35 by default)."""
    state = partner_state(partner_id=partner_id, today=today)
    return "suspended" if state.blocks("services") else "active"
