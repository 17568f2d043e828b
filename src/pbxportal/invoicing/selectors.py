"""Reads of invoices and credit notes, through the tenancy layer (R-TEN-1)."""

from __future__ import annotations

from django.db.models import QuerySet

from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.invoicing.models import Invoice


def invoice_list(*, actor: Actor, pbx_id: int | None = None, kind: str = "") -> QuerySet[Invoice]:
    qs = scoped(Invoice, actor).select_related("partner", "pbx")
    if pbx_id:
        qs = qs.filter(pbx_id=pbx_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def invoice_get(*, actor: Actor, invoice_id: int) -> Invoice:
    return get_scoped(
        Invoice.objects.select_related("partner", "pbx", "credited_invoice"), actor, pk=invoice_id
    )
