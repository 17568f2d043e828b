"""Issuing invoices and credit notes (R-INV-1): gapless numbers per kind and year, immutable after issue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from pbxportal.accounts.models import BillingContact, Partner
from pbxportal.common.errors import ApplicationError, Conflict
from pbxportal.core.money import round_line
from pbxportal.invoicing.lines import LineDraft
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, NumberSequence

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
            )
            InvoiceLine.objects.bulk_create([_line_row(invoice, i, line) for i, line in enumerate(lines)])
            sequence = _next_number(kind, issued_on.year)
            invoice.year = issued_on.year
            invoice.sequence = sequence
            invoice.number = _number(kind, issued_on.year, sequence)
            invoice.issued_on = issued_on
            invoice.total = sum((line.amount for line in lines), Decimal(0))
            if kind == InvoiceKind.CREDIT_NOTE:
                invoice.status = InvoiceStatus.PAID
                invoice.due_on = issued_on
            else:
                invoice.status = InvoiceStatus.DUE
                invoice.due_on = issued_on + timedelta(days=_payment_days(partner))
            invoice.save()
    except IntegrityError as exc:
        if source_key and Invoice.objects.filter(source_key=source_key).exists():
            return Invoice.objects.get(source_key=source_key)
        raise Conflict(f"These charges were invoiced already (R-INV-2): {exc}", rule="R-INV-2") from None
    from pbxportal.invoicing.hooks import run_issued_hooks

    run_issued_hooks(invoice)
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
        _void_if_fully_credited(invoice.pk)
    return note


def _void_if_fully_credited(invoice_id: int) -> None:
    """An unpaid invoice whose credit notes cover its total is void: the only way to void (R-INV-1)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    credited = -sum(invoice.credit_notes.values_list("total", flat=True), Decimal(0))
    if credited >= invoice.total and invoice.amount_paid == 0 and invoice.status != InvoiceStatus.VOID:
        invoice.status = InvoiceStatus.VOID
        invoice.save(update_fields=["status", "updated_at"])


@dataclass(frozen=True)
class InvoiceDraft:
    """One invoice of a batch: what ``invoice_issue`` would be called with."""

    partner: Partner
    pbx_id: int | None
    lines: Sequence[LineDraft]
    source_key: str | None


def _line_row(invoice: Invoice, position: int, line: LineDraft) -> InvoiceLine:
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
        charge_key=line.charge_key,
        position=position,
    )


_COPY_COLUMNS = (
    "invoice_id, pbx_id, subscription_id, kind, product_code, description, unit_price, quantity, "
    "days_charged, days_in_term, period_start, period_end, amount, charge_key, position"
)


def _copy_lines(rows: Iterable[tuple[Invoice, int, LineDraft]]) -> None:
    """Lines of a batch by COPY (PostgreSQL): the same rows ``bulk_create`` would write, with the
    same constraints checked (unique charge_key, foreign keys), at a fraction of the cost."""
    copy_sql = f"COPY invoicing_invoiceline ({_COPY_COLUMNS}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for invoice, position, line in rows:
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
    invoices = []
    for draft, sequence in zip(drafts, numbers, strict=True):
        if not draft.lines:
            raise ApplicationError("An invoice needs at least one line.")
        currency = draft.partner.price_book.currency
        _check_lines(draft.lines, currency)
        contact = contacts.get(draft.partner.pk)
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
                total=sum((line.amount for line in draft.lines), Decimal(0)),
            )
        )
    Invoice.objects.bulk_create(invoices)
    rows = (
        (invoice, position, line)
        for invoice, draft in zip(invoices, drafts, strict=True)
        for position, line in enumerate(draft.lines)
    )
    if connection.vendor == "postgresql":
        _copy_lines(rows)
    else:
        InvoiceLine.objects.bulk_create([_line_row(*row) for row in rows], batch_size=2000)
    from pbxportal.invoicing.hooks import run_issued_hooks

    for invoice in invoices:
        run_issued_hooks(invoice)
    return invoices
