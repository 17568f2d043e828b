"""Work after an invoice is paid in full, registered by apps (R-EX-3: the order's activation code
mail; an order paid offline waits until staff record the payment). Runs after commit."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from pbxportal.invoicing.models import Invoice

PaidHook = Callable[[Invoice], None]
_PAID_HOOKS: list[PaidHook] = []


def on_invoice_paid(hook: PaidHook) -> PaidHook:
    _PAID_HOOKS.append(hook)
    return hook


def run_paid_hooks(invoice: Invoice) -> None:
    for hook in _PAID_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(invoice))  # type: ignore[misc]
