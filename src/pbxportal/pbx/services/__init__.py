"""Writes of the subscription engine, by job (R-CO-4: every change is planned by a ``*_plan``
function that writes nothing, then applied by the service next to it):

- ``lifecycle``: creating and activating PBXs, auto-renew, SSH windows;
- ``changes``: licence quantities, services (co-termination), cancellation, plan switches;
- ``renewals``: which PBXs renew on a day, renewing them, the term boundary, the deletion
  countdown and the renewal reminders;
- ``corrections``: corrections filed by partners and decided by staff;
- ``base``: what they share (constants, ``ChangeResult``, audit, issuing, locks, the ledger).

The public names are re-exported here: ``from pbxportal.pbx.services import X`` and
``from pbxportal.pbx import services`` keep working.
"""

from pbxportal.pbx.services.base import (
    CLOSED,
    CLOUD_ACTIVATION_DELAY,
    DELETE_AFTER_DAYS,
    DNS_LABEL,
    PBX_CHANGED,
    SERVICE_FAMILIES,
    SSH_DEFAULT_MINUTES,
    SSH_MAX_MINUTES,
    STOP_AFTER_DAYS,
    ChangeResult,
    PbxChangedHook,
    on_pbx_changed,
)
from pbxportal.pbx.services.changes import (
    SERVICE_RULES,
    ServiceCheck,
    pbx_change_licences,
    pbx_service_order,
    plan_switch,
    plan_switch_plan,
    quantity_change,
    quantity_change_plan,
    recurring_term_only,
    service_order,
    service_order_plan,
    service_requirement,
    subscription_cancel,
    subscription_cancel_by_partner,
    subscription_cancel_plan,
)
from pbxportal.pbx.services.corrections import (
    CorrectionPlan,
    correction_apply,
    correction_apply_plan,
    correction_file,
    correction_preview,
    correction_reject,
    next_business_day,
)
from pbxportal.pbx.services.lifecycle import (
    cloud_activation_due,
    pbx_activate,
    pbx_activate_with_key,
    pbx_create,
    pbx_create_plan,
    pbx_key_regenerate,
    pbx_set_auto_renew,
    ssh_close,
    ssh_close_due,
    ssh_open,
    subscription_set_auto_renew,
)
from pbxportal.pbx.services.renewals import (
    REMINDER_DAYS,
    billrun_chunk,
    deletion_countdown,
    renew_pbx,
    renew_pbxs,
    renewal_reminders,
    renewals_due,
    renewing_on,
    term_boundary,
)

__all__ = [
    "CLOSED",
    "CLOUD_ACTIVATION_DELAY",
    "DELETE_AFTER_DAYS",
    "DNS_LABEL",
    "PBX_CHANGED",
    "REMINDER_DAYS",
    "SERVICE_FAMILIES",
    "SERVICE_RULES",
    "SSH_DEFAULT_MINUTES",
    "SSH_MAX_MINUTES",
    "STOP_AFTER_DAYS",
    "ChangeResult",
    "CorrectionPlan",
    "PbxChangedHook",
    "ServiceCheck",
    "billrun_chunk",
    "cloud_activation_due",
    "correction_apply",
    "correction_apply_plan",
    "correction_file",
    "correction_preview",
    "correction_reject",
    "deletion_countdown",
    "next_business_day",
    "on_pbx_changed",
    "pbx_activate",
    "pbx_activate_with_key",
    "pbx_change_licences",
    "pbx_create",
    "pbx_create_plan",
    "pbx_key_regenerate",
    "pbx_service_order",
    "pbx_set_auto_renew",
    "plan_switch",
    "plan_switch_plan",
    "quantity_change",
    "quantity_change_plan",
    "recurring_term_only",
    "renew_pbx",
    "renew_pbxs",
    "renewal_reminders",
    "renewals_due",
    "renewing_on",
    "service_order",
    "service_order_plan",
    "service_requirement",
    "ssh_close",
    "ssh_close_due",
    "ssh_open",
    "subscription_cancel",
    "subscription_cancel_by_partner",
    "subscription_cancel_plan",
    "subscription_set_auto_renew",
    "term_boundary",
]
