"""Writes of the voice trunk, by job (R-VT-1..10, R-INV-1):

- ``usage``: rating a PBX-month (through ``voice.pipeline``, which imports call records), usage
  invoices, rerating;
- ``authorization``: the live authorisation of calls (the agent's hot path);
- ``numbers``: number orders, their documents and review;
- ``bundles``: CTA1 <-> CTA2 bundle switches;
- ``imports``: call-record uploads imported in the background, with their progress and resume.

The public names are re-exported here: ``from pbxportal.voice.services import X`` and
``from pbxportal.voice import services`` keep working (``_states`` is the authorisation's process
cache, cleared by the tests).
"""

from pbxportal.voice.services.authorization import Authorization, _states, call_authorize
from pbxportal.voice.services.bundles import (
    bundle_switch_decide,
    bundle_switch_request,
    bundle_switches_apply,
)
from pbxportal.voice.services.imports import (
    cdr_upload,
    import_job_assign_partner,
    import_job_resume,
    import_job_run,
)
from pbxportal.voice.services.numbers import (
    DOCUMENT_TYPES,
    NUMBER_TRANSITIONS,
    REVIEWERS,
    number_document_upload,
    number_order_approve,
    number_order_create,
    number_order_reject,
    number_order_review,
    number_order_submit,
)
from pbxportal.voice.services.usage import (
    RerateResult,
    month_rerate,
    usage_invoice_issue,
    usage_invoices_due,
    usage_line_drafts,
    usage_month_rate,
    usage_month_rerate,
)

__all__ = [
    "DOCUMENT_TYPES",
    "NUMBER_TRANSITIONS",
    "REVIEWERS",
    "Authorization",
    "RerateResult",
    "_states",
    "bundle_switch_decide",
    "bundle_switch_request",
    "bundle_switches_apply",
    "call_authorize",
    "cdr_upload",
    "import_job_assign_partner",
    "import_job_resume",
    "import_job_run",
    "month_rerate",
    "number_document_upload",
    "number_order_approve",
    "number_order_create",
    "number_order_reject",
    "number_order_review",
    "number_order_submit",
    "usage_invoice_issue",
    "usage_invoices_due",
    "usage_line_drafts",
    "usage_month_rate",
    "usage_month_rerate",
]
