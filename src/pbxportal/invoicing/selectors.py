"""Reads of invoices and credit notes, through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus


def invoice_list(
    *,
    actor: Actor,
    pbx_id: int | None = None,
    kind: str = "",
    status: str = "",
    issued_from: date | None = None,
    issued_to: date | None = None,
    number: str = "",
) -> QuerySet[Invoice]:
    """Filters: kind and status must be known values (else a 400 naming the field); issued dates
    half-open, [issued_from, issued_to); number exact or a prefix ending in ``*``."""
    qs = scoped(Invoice, actor).select_related("partner", "pbx")
    if pbx_id:
        qs = qs.filter(pbx_id=pbx_id)
    if kind:
        if kind not in InvoiceKind.values:
            raise ApplicationError(
                f"kind: one of {', '.join(InvoiceKind.values)}.", fields={"kind": "unknown"}
            )
        qs = qs.filter(kind=kind)
    if status:
        if status not in InvoiceStatus.values:
            raise ApplicationError(
                f"status: one of {', '.join(InvoiceStatus.values)}.", fields={"status": "unknown"}
            )
        qs = qs.filter(status=status)
    if issued_from:
        qs = qs.filter(issued_on__gte=issued_from)
    if issued_to:
        qs = qs.filter(issued_on__lt=issued_to)
    if number:
        qs = qs.filter(number__startswith=number[:-1]) if number.endswith("*") else qs.filter(number=number)
    return qs


def invoice_get(*, actor: Actor, invoice_id: int) -> Invoice:
    return get_scoped(
        Invoice.objects.select_related("partner", "pbx", "credited_invoice"), actor, pk=invoice_id
    )
