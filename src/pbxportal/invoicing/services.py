"""Issuing invoices and credit notes (R-INV-1): gapless numbers per kind and year, immutable after issue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from pbxportal.accounts.legal import PartnerLegalEntity, buyer_snapshot, vendor_legal_entity
from pbxportal.accounts.models import BillingContact, Partner
from pbxportal.common.errors import ApplicationError, Conflict
from pbxportal.core.money import round_line
from pbxportal.invoicing import credits
from pbxportal.invoicing.hooks import run_batch_issued_hooks, run_issued_hooks
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import (
    AccountCreditEntry,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
)
from pbxportal.invoicing.tax import DocumentTax, buyer_treatment, document_tax, mirrored_treatment

PREFIX = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}


def _next_numbers(kind: str, year: int, count: int) -> range:
    """Take the next ``count`` numbers under a row lock: concurrent issuers queue here, and a
    rollback gives the numbers back, so numbers have no gap and no duplicate (R-INV-1)."""
    NumberSequence.objects.get_or_create(kind=kind, year=year)
    sequence = NumberSequence.objects.select_for_update().get(kind=kind, year=year)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return range(first, sequence.last + 1)


def _next_number(kind: str, year: int) -> int:
    return _next_numbers(kind, year, 1)[0]


def _number(kind: str, year: int, sequence: int) -> str:
    return f"{PREFIX[InvoiceKind(kind)]}-{year}-{sequence:06d}"


def _check_lines(lines: Sequence[LineDraft], currency: str) -> None:
    for line in lines:
        if line.currency != currency:
            raise ApplicationError(f"Line currency {line.currency} differs from the partner's {currency}.")
        if line.amount != round_line(line.amount, currency):
            raise ApplicationError(f"Line amount {line.amount} is not rounded to the currency (R-CAT-6).")


def _payment_days(partner: Partner | None = None) -> int:
    """The partner's payment terms (back office, issue 15), else INVOICE_PAYMENT_DAYS."""
    if partner is not None and partner.payment_terms_days:
        return int(partner.payment_terms_days)
    return int(getattr(settings, "INVOICE_PAYMENT_DAYS", 30))


def invoice_issue(
    *,
    partner: Partner,
    lines: Sequence[LineDraft],
    issued_on: date,
    pbx_id: int | None = None,
    kind: str = InvoiceKind.INVOICE,
    source_key: str | None = None,
    credited_invoice: Invoice | None = None,
    reason: str = "",
    billing_contact: BillingContact | None = None,
) -> Invoice:
    """Issue one invoice (or credit note) with the given lines, all in one transaction.

    ``source_key`` makes the whole document idempotent (a bill run re-run returns the first one);
    each line's ``charge_key`` is unique across all documents, so the same (subscription, period)
    is never charged twice (R-INV-2).
    """
    if not lines:
        raise ApplicationError("An invoice needs at least one line.")
    currency = partner.price_book.currency
    _check_lines(lines, currency)
    if source_key:
        existing = Invoice.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing
    contact = billing_contact or partner.billing_contacts.filter(is_default=True).first()
    buyer = buyer_snapshot(partner)
    treatment = mirrored_treatment(credited_invoice) if credited_invoice else buyer_treatment(buyer)
    taxes = document_tax(lines, treatment, currency)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                partner=partner,
                pbx_id=pbx_id,
                kind=kind,
                currency=currency,
                source_key=source_key,
                credited_invoice=credited_invoice,
                reason=reason[:300],
                billing_contact=contact,
                billing_name=contact.name if contact else partner.name,
                billing_email=contact.email if contact else "",
                seller=vendor_legal_entity().snapshot(),
                buyer=buyer,
                **_tax_fields(taxes),
            )
            InvoiceLine.objects.bulk_create(
                [_line_row(invoice, i, line, taxes) for i, line in enumerate(lines)]
            )
            sequence = _next_number(kind, issued_on.year)
            invoice.year = issued_on.year
            invoice.sequence = sequence
            invoice.number = _number(kind, issued_on.year, sequence)
            invoice.issued_on = issued_on
            if kind == InvoiceKind.CREDIT_NOTE:
                invoice.status = InvoiceStatus.PAID
                invoice.due_on = issued_on
            else:
                invoice.status = InvoiceStatus.DUE
                invoice.due_on = issued_on + timedelta(days=_payment_days(partner))
            invoice.save()
            # Credits that count (invoicing/credits.py): a credit note settles what it credits; a
            # new invoice takes the account credit there is.
            if credited_invoice is not None and kind == InvoiceKind.CREDIT_NOTE:
                credits.credit_note_allocate(note=invoice, on=issued_on)
            elif kind == InvoiceKind.INVOICE:
                credits.account_credit_apply(partner_id=partner.pk, on=issued_on)
                invoice.refresh_from_db()
    except IntegrityError as exc:
        if source_key and Invoice.objects.filter(source_key=source_key).exists():
            return Invoice.objects.get(source_key=source_key)
        raise Conflict(f"These charges were invoiced already (R-INV-2): {exc}", rule="R-INV-2") from None
    run_issued_hooks(invoice)
    run_batch_issued_hooks([invoice])
    return invoice


def credit_note_issue(
    *,
    invoice: Invoice,
    lines: Sequence[LineDraft],
    issued_on: date,
    reason: str,
    source_key: str | None = None,
) -> Invoice:
    """A correction of an issued invoice (R-INV-1): a credit note with negative lines."""
    if not invoice.is_issued:
        raise ApplicationError("Only an issued invoice can be credited.")
    for line in lines:
        if line.amount > 0:
            raise ApplicationError("Credit note lines are negative amounts.")
    with transaction.atomic():
        note = invoice_issue(
            partner=invoice.partner,
            lines=lines,
            issued_on=issued_on,
            pbx_id=invoice.pbx_id,
            kind=InvoiceKind.CREDIT_NOTE,
            source_key=source_key,
            credited_invoice=invoice,
            reason=reason,
        )
    return note


@dataclass(frozen=True)
class InvoiceDraft:
    """One invoice of a batch: what ``invoice_issue`` would be called with."""

    partner: Partner
    pbx_id: int | None
    lines: Sequence[LineDraft]
    source_key: str | None


def _tax_fields(taxes: DocumentTax) -> dict[str, object]:
    return {
        "net_total": taxes.net,
        "tax_total": taxes.tax,
        "total": taxes.total,
        "tax_category": taxes.treatment.category,
        "tax_rate": taxes.treatment.rate,
        "tax_legend": taxes.treatment.legend,
    }


def _line_row(invoice: Invoice, position: int, line: LineDraft, taxes: DocumentTax) -> InvoiceLine:
    taxed = taxes.lines[position]
    return InvoiceLine(
        invoice=invoice,
        pbx_id=line.pbx_id,
        subscription_id=line.subscription_id,
        kind=line.kind,
        product_code=line.product_code,
        description=line.description[:300],
        unit_price=line.unit_price,
        quantity=line.quantity,
        days_charged=line.days_charged,
        days_in_term=line.days_in_term,
        period_start=line.period_start,
        period_end=line.period_end,
        amount=line.amount,
        tax_category=taxed.category,
        tax_rate=taxed.rate,
        tax_amount=taxed.tax,
        charge_key=line.charge_key,
        position=position,
    )


_COPY_COLUMNS = (
    "invoice_id, pbx_id, subscription_id, kind, product_code, description, unit_price, quantity, "
    "days_charged, days_in_term, period_start, period_end, amount, tax_category, tax_rate, tax_amount, "
    "charge_key, position"
)


def _copy_lines(rows: Iterable[tuple[Invoice, int, LineDraft, DocumentTax]]) -> None:
    """Lines of a batch by COPY (PostgreSQL): the same rows ``bulk_create`` would write, with the
    same constraints checked (unique charge_key, foreign keys), at a fraction of the cost."""
    copy_sql = f"COPY invoicing_invoiceline ({_COPY_COLUMNS}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for invoice, position, line, taxes in rows:
            taxed = taxes.lines[position]
            copy.write_row(
                (
                    invoice.pk,
                    line.pbx_id,
                    line.subscription_id,
                    line.kind,
                    line.product_code,
                    line.description[:300],
                    line.unit_price,
                    line.quantity,
                    line.days_charged,
                    line.days_in_term,
                    line.period_start,
                    line.period_end,
                    line.amount,
                    taxed.category,
                    taxed.rate,
                    taxed.tax,
                    line.charge_key,
                    position,
                )
            )


def invoices_issue_batch(*, drafts: Sequence[InvoiceDraft], issued_on: date) -> list[Invoice]:
    """Issue many invoices at once (a bill run chunk, R-INV-2): the same documents as
    ``invoice_issue`` one by one, with one block of gapless numbers and bulk inserts. Runs in the
    caller's transaction; a duplicate ``source_key`` or ``charge_key`` fails the whole batch
    (IntegrityError), so nothing is charged twice."""
    if not drafts:
        return []
    partner_ids = {d.partner.pk for d in drafts}
    contacts = {
        c.partner_id: c for c in BillingContact.objects.filter(partner_id__in=partner_ids, is_default=True)
    }
    numbers = _next_numbers(InvoiceKind.INVOICE, issued_on.year, len(drafts))
    entities = {e.partner_id: e for e in PartnerLegalEntity.objects.filter(partner_id__in=partner_ids)}
    seller = vendor_legal_entity().snapshot()
    invoices = []
    document_taxes = []
    for draft, sequence in zip(drafts, numbers, strict=True):
        if not draft.lines:
            raise ApplicationError("An invoice needs at least one line.")
        currency = draft.partner.price_book.currency
        _check_lines(draft.lines, currency)
        contact = contacts.get(draft.partner.pk)
        entity = entities.get(draft.partner.pk)
        buyer = buyer_snapshot(draft.partner, entity=entity)
        taxes = document_tax(draft.lines, buyer_treatment(buyer), currency)
        document_taxes.append(taxes)
        invoices.append(
            Invoice(
                partner=draft.partner,
                pbx_id=draft.pbx_id,
                kind=InvoiceKind.INVOICE,
                currency=currency,
                source_key=draft.source_key,
                billing_contact=contact,
                billing_name=contact.name if contact else draft.partner.name,
                billing_email=contact.email if contact else "",
                year=issued_on.year,
                sequence=sequence,
                number=_number(InvoiceKind.INVOICE, issued_on.year, sequence),
                issued_on=issued_on,
                due_on=issued_on + timedelta(days=_payment_days(draft.partner)),
                status=InvoiceStatus.DUE,
                seller=seller,
                buyer=buyer,
                **_tax_fields(taxes),
            )
        )
    Invoice.objects.bulk_create(invoices)
    rows = (
        (invoice, position, line, taxes)
        for invoice, draft, taxes in zip(invoices, drafts, document_taxes, strict=True)
        for position, line in enumerate(draft.lines)
    )
    if connection.vendor == "postgresql":
        _copy_lines(rows)
    else:
        InvoiceLine.objects.bulk_create([_line_row(*row) for row in rows], batch_size=2000)
    # Account credit goes to the new invoices too (one query finds the partners that hold any).
    with_credit = (
        AccountCreditEntry.objects.filter(partner_id__in=partner_ids)
        .values("partner_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
        .values_list("partner_id", flat=True)
    )
    for partner_id in sorted(with_credit):
        credits.account_credit_apply(partner_id=partner_id, on=issued_on)
    for invoice in invoices:
        run_issued_hooks(invoice)
    run_batch_issued_hooks(invoices)
    return invoices
