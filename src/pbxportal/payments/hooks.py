"""Work after an invoice is paid in full, connected by apps (R-EX-3: the order's activation code
mail; an order paid offline waits until staff record the payment). Runs after commit
(``common.hooks.Hook``)."""

from __future__ import annotations

from collections.abc import Callable

from pbxportal.common.hooks import Hook
from pbxportal.invoicing.models import Invoice

PaidHook = Callable[[Invoice], None]
INVOICE_PAID: Hook[Invoice] = Hook("invoice paid")
on_invoice_paid = INVOICE_PAID.connect
run_paid_hooks = INVOICE_PAID.send
