"""Work to do after an invoice is issued (mail to the billing contact, R-INV-3), connected by apps.

Handlers run after the issuing transaction commits (``common.hooks.Hook``), so a mail is never
sent for a rolled-back invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pbxportal.common.hooks import Hook
from pbxportal.invoicing.models import Invoice

IssuedHook = Callable[[Invoice], None]
INVOICE_ISSUED: Hook[Invoice] = Hook("invoice issued")
on_invoice_issued = INVOICE_ISSUED.connect
run_issued_hooks = INVOICE_ISSUED.send

# The same, once per issuing call with all its invoices (a bill-run chunk sends one event for its
# hundreds of invoices): a listener that reads the database does it once per batch, not per invoice.
INVOICES_ISSUED: Hook[Sequence[Invoice]] = Hook("invoices issued (batch)")
on_invoices_issued = INVOICES_ISSUED.connect
run_batch_issued_hooks = INVOICES_ISSUED.send

# An invoice paid in full (by a payment, an allocation of account credit or staff), R-EX-3. The
# event lives with the documents so invoicing can send it; payments re-exports it.
PaidHook = Callable[[Invoice], None]
INVOICE_PAID: Hook[Invoice] = Hook("invoice paid")
on_invoice_paid = INVOICE_PAID.connect
run_paid_hooks = INVOICE_PAID.send
