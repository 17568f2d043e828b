"""Invoices and credit notes (R-INV-1): immutable once issued, numbered without gaps per year."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class LineKind(models.TextChoices):
    PRORATED = "prorated", _("Prorated charge")
    TERM = "term", _("Full term")
    RENEWAL = "renewal", _("Renewal")
    ONE_OFF = "one_off", _("One-off")
    USAGE = "usage", _("Usage")
    COMMITMENT = "commitment", _("Minimum commitment")
    CORRECTION = "correction", _("Correction")
    CREDIT = "credit", _("Credit")
    ADJUSTMENT = "adjustment", _("Adjustment")


class ImmutableInvoiceError(Exception):
    """An issued invoice or its lines were about to be edited (R-INV-1): credit it instead."""


class NumberSequence(models.Model):
    """The last number given per document kind and year; locked while a number is taken, so the
    numbers have no gap (a rolled-back issue releases its number with its transaction)."""

    kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="number_sequence_unique")]


# After issue, only these fields of an invoice may change (state transitions and payment progress).
MUTABLE_AFTER_ISSUE = {"status", "amount_paid", "amount_credited", "paid_on", "updated_at"}


class Invoice(models.Model):
    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="invoices")
    pbx = models.ForeignKey(
        "pbx.Pbx", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    number = models.CharField(max_length=30, null=True, blank=True, unique=True)
    year = models.PositiveIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = models.CharField(max_length=3)
    # total = net_total + tax_total: what the document asks for (R-INV-1); tax per line (R-CAT-6).
    total = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    net_total = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    tax_total = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    # The tax treatment of the whole document (core/tax.py): EN 16931 category, rate, legend.
    tax_category = models.CharField(max_length=2, blank=True)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    tax_legend = models.CharField(max_length=500, blank=True)
    # Seller and buyer legal entities as they were when issued (accounts/legal.py).
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    # Settled so far (invoicing/credits.py): money (payments, account credit) and credit notes.
    amount_paid = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    amount_credited = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    billing_contact = models.ForeignKey(
        "accounts.BillingContact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    billing_name = models.CharField(max_length=200, blank=True)
    billing_email = models.EmailField(blank=True)
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    reason = models.CharField(max_length=300, blank=True)
    source_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "sequence"], name="invoice_unique_sequence"),
            models.CheckConstraint(
                name="invoice_issued_has_number",
                condition=Q(status="draft") | (Q(number__isnull=False) & Q(issued_on__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"

    @property
    def is_issued(self) -> bool:
        return self.number is not None

    @property
    def amount_due(self) -> Any:
        """What is still owed: the total less payments, account credit and credit notes applied."""
        if self.kind != InvoiceKind.INVOICE or self.status in (InvoiceStatus.VOID, InvoiceStatus.DRAFT):
            return self.total - self.total
        return self.total - self.amount_paid - self.amount_credited

    balance = amount_due

    def tax_breakdown(self) -> list[Any]:
        """Net and tax per VAT category and rate, summed from the rounded lines (R-CAT-6)."""
        from pbxportal.core.tax import TaxedLine, totals_by_rate

        return totals_by_rate(
            TaxedLine(net=line.amount, rate=line.tax_rate, tax=line.tax_amount, category=line.tax_category)
            for line in self.lines.all()
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored: dict[str, Any] | None = Invoice.objects.filter(pk=self.pk).values().first()  # type: ignore[assignment]
            if stored and stored["number"] is not None:
                changed = {
                    f.attname
                    for f in self._meta.concrete_fields
                    if getattr(self, f.attname) != stored[f.attname]
                }
                if changed - MUTABLE_AFTER_ISSUE:
                    raise ImmutableInvoiceError(
                        f"Invoice {stored['number']} is issued: {', '.join(sorted(changed - MUTABLE_AFTER_ISSUE))} "
                        "cannot change; issue a credit note (R-INV-1)."
                    )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.number is not None:
            raise ImmutableInvoiceError(f"Invoice {self.number} is issued and cannot be deleted (R-INV-1).")
        return super().delete(*args, **kwargs)


class InvoiceLine(models.Model):
    """One charge (R-INV-1); a prorated line shows how (R-CO-4): full price, days, period."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    pbx = models.ForeignKey("pbx.Pbx", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(
        "pbx.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    product_code = models.CharField(max_length=80, blank=True)
    description = models.CharField(max_length=300)
    unit_price = models.DecimalField(max_digits=18, decimal_places=6)
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    days_charged = models.PositiveIntegerField(null=True, blank=True)
    days_in_term = models.PositiveIntegerField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    tax_category = models.CharField(max_length=2, blank=True)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    tax_amount = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    charge_key = models.CharField(max_length=160, null=True, blank=True, unique=True)
    position = models.PositiveIntegerField(default=0)

    tenant_path = "invoice__partner"

    class Meta:
        ordering = ["invoice", "position", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if Invoice.objects.filter(pk=self.invoice_id, number__isnull=False).exists():
            raise ImmutableInvoiceError("Lines of an issued invoice cannot change (R-INV-1).")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if Invoice.objects.filter(pk=self.invoice_id, number__isnull=False).exists():
            raise ImmutableInvoiceError("Lines of an issued invoice cannot be deleted (R-INV-1).")
        return super().delete(*args, **kwargs)


class InvoiceLink(models.Model):
    """The link mailed to the billing contact (R-INV-3): valid 24 hours, opens the invoice once.
    Only a SHA-256 digest of the token is stored; the mailed token is also signed, so a forged one
    is refused before any lookup."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="links")
    digest = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "invoice__partner"


class BillRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Finished with failures")


class BillRun(models.Model):
    """One bill run of one vendor day (R-INV-2): its fan-out progress for the staff page. A re-run
    of the day reuses the row (``attempts``); what it charges is guarded per PBX, not here."""

    kind = models.CharField(max_length=20, default="renewals")
    day = models.DateField()
    status = models.CharField(max_length=10, choices=BillRunStatus.choices, default=BillRunStatus.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    invoices = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day"], name="bill_run_once_per_day")]

    @property
    def processed(self) -> int:
        return self.done + self.failed


class AllocationSource(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    CREDIT_NOTE = "credit_note", _("Credit note")
    ACCOUNT_CREDIT = "account_credit", _("Account credit")


class Allocation(models.Model):
    """Part of a payment, a credit note or the account credit settling one invoice (R-INV-4).
    Append-only; an invoice's ``amount_paid``/``amount_credited`` are the sums of its rows."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    source = models.CharField(max_length=20, choices=AllocationSource.choices)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    credit_note = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_allocations"
    )
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(name="allocation_positive", condition=Q(amount__gt=0))]


class CreditEntryKind(models.TextChoices):
    OVERPAYMENT = "overpayment", _("Overpayment")
    CREDIT_NOTE = "credit_note", _("Unallocated credit note")
    APPLIED = "applied", _("Applied to an invoice")
    REFUND = "refund", _("Refunded")


class AccountCreditEntry(models.Model):
    """The partner's account credit as a ledger: positive rows add credit (an overpayment, the part
    of a credit note its invoice did not need), negative rows use it (applied to an invoice, or
    refunded by staff). The balance is the sum and never goes below zero."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="credit_entries")
    kind = models.CharField(max_length=20, choices=CreditEntryKind.choices)
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries"
    )
    credit_note = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries_as_note"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries_applied"
    )
    reference = models.CharField(max_length=120, blank=True)
    # Why staff refunded (a refund's reason, shown on the staff invoice page).
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["id"]
