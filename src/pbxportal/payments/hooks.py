"""Work after an invoice is paid in full, connected by apps (R-EX-3: the order's activation code
mail; an order paid offline waits until staff record the payment). Runs after commit
(``common.hooks.Hook``). The event itself is defined in ``invoicing.hooks`` (credit allocations
there send it too); this module is the name the paying side has always used."""

from __future__ import annotations

from pbxportal.invoicing.hooks import INVOICE_PAID, PaidHook, on_invoice_paid, run_paid_hooks

__all__ = ["INVOICE_PAID", "PaidHook", "on_invoice_paid", "run_paid_hooks"]
