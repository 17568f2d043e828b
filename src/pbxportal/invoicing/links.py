"""One-time invoice links for the billing contact's mail (R-INV-3).

The mailed token is ``signing``-signed (a forged one fails before any lookup), its SHA-256 digest
is stored (a leaked database gives no working link), it expires after
``settings.INVOICE_LINK_HOURS`` and is spent by a conditional UPDATE, so two clicks at the same
moment open it once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from pbxportal.common.errors import ApplicationError
from pbxportal.invoicing.models import Invoice, InvoiceLink

SALT = "pbxportal.invoicing.link"


class LinkRefused(ApplicationError):
    status = 410
    code = "link_refused"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invoice_link_create(*, invoice: Invoice, email: str, now: datetime) -> str:
    """A new link for ``invoice``; returns the token to put in the mail (never stored as such)."""
    raw = secrets.token_urlsafe(32)
    InvoiceLink.objects.create(
        invoice=invoice,
        digest=_digest(raw),
        email=email,
        expires_at=now + timedelta(hours=settings.INVOICE_LINK_HOURS),
    )
    return signing.Signer(salt=SALT).sign(raw)


def invoice_link_open(*, token: str, now: datetime) -> Invoice:
    """Spend a link: the invoice once within its validity; otherwise a clear refusal."""
    try:
        raw = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        raise LinkRefused("This invoice link is not valid.", rule="R-INV-3", status=400) from None
    link = InvoiceLink.objects.select_related("invoice").filter(digest=_digest(raw)).first()
    if link is None:
        raise LinkRefused("This invoice link is not valid.", rule="R-INV-3", status=400)
    if link.expires_at <= now:
        raise LinkRefused(
            "This invoice link has expired (links are valid for 24 hours). The invoice is in the portal: log in "
            "and open Invoices.",
            rule="R-INV-3",
        )
    spent = InvoiceLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
    if not spent:
        raise LinkRefused(
            "This invoice link has been used already (it works once). The invoice is in the portal: log in and "
            "open Invoices.",
            rule="R-INV-3",
        )
    return link.invoice


def invoice_mail(*, invoice_id: int) -> bool:
    """Mail an issued invoice to its billing contact with a one-time link (R-INV-3)."""
    invoice = Invoice.objects.select_related("partner").get(pk=invoice_id)
    if not invoice.billing_email:
        return False
    token = invoice_link_create(invoice=invoice, email=invoice.billing_email, now=timezone.now())
    url = f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('invoicing:open')}?token={token}"
    kind = invoice.get_kind_display()
    send_mail(
        gettext("%(kind)s %(number)s from %(vendor)s")
        % {"kind": kind, "number": invoice.number, "vendor": settings.VENDOR_NAME},
        f"Dear {invoice.billing_name},\n\n{kind.lower()} {invoice.number} for {invoice.partner.name} was issued on "
        f"{invoice.issued_on}: {invoice.total:.2f} {invoice.currency}, due {invoice.due_on}.\n\n"
        f"Open it here (the link works once, for {settings.INVOICE_LINK_HOURS} hours):\n{url}\n\n"
        "Afterwards it stays in the portal under Invoices.\n",
        None,
        [invoice.billing_email],
    )
    return True
