"""The overdue clock (R-INV-5): invoices past their due date become overdue, and the billing
contact is mailed on the policy's mail days (5, 10, 15, 30, 35 by default), once each."""

from __future__ import annotations

from datetime import date

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pbxportal.accounts.models import Partner
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from pbxportal.overdue.models import OverdueNotice
from pbxportal.overdue.policy import partner_state, policy


def overdue_run(*, day: date) -> int:
    """Mark invoices overdue and send the day's mails; idempotent per day (returns mails sent)."""
    Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.DUE, due_on__lt=day).update(
        status=InvoiceStatus.OVERDUE
    )
    mail_days = set(policy().mail_days)
    sent = 0
    partner_ids = (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.OVERDUE, due_on__lt=day)
        .values_list("partner_id", flat=True)
        .distinct()
    )
    for partner in Partner.objects.filter(pk__in=list(partner_ids)).order_by("id"):
        state = partner_state(partner_id=partner.pk, today=day)
        if state.since is None or state.days not in mail_days:
            continue
        contact = partner.billing_contacts.filter(is_default=True).first()
        try:
            with transaction.atomic():
                OverdueNotice.objects.create(
                    partner=partner,
                    since=state.since,
                    day=state.days,
                    stage=state.stage.code if state.stage else "",
                    sent_on=day,
                    email=contact.email if contact else "",
                )
        except IntegrityError:
            continue
        if contact is not None:
            stage = state.stage.name if state.stage else "reminder"
            send_mail(
                gettext("Payment overdue for %(days)s days: %(stage)s")
                % {"days": state.days, "stage": stage},
                f"Dear {contact.name},\n\nan invoice of {partner.name} was due on {state.since.isoformat()} and is "
                f"still unpaid ({state.days} days). Current stage: {stage}.\n\n"
                + "\n".join(f"Day {s.day}: {s.name}" for s in policy().stages)
                + "\n\nPaying everything overdue lifts every restriction at once (R-INV-5).",
                None,
                [contact.email],
            )
        sent += 1
    return sent
