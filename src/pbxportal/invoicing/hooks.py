"""Work to do after an invoice is issued (mail to the billing contact, R-INV-3), registered by apps.

Hooks run after the issuing transaction commits (``on_commit``), so a mail is never sent for a
rolled-back invoice.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from pbxportal.invoicing.models import Invoice

IssuedHook = Callable[[Invoice], None]
_ISSUED_HOOKS: list[IssuedHook] = []


def on_invoice_issued(hook: IssuedHook) -> IssuedHook:
    _ISSUED_HOOKS.append(hook)
    return hook


def run_issued_hooks(invoice: Invoice) -> None:
    for hook in _ISSUED_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(invoice))  # type: ignore[misc]
