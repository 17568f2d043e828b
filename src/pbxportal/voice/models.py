"""The voice trunk's data (CLASSOUND): call records, monthly usage, number orders and their
documents, bundle-switch tickets (R-VT-2..10).

Call records are kept per PBX with their identity (R-VT-8) so re-ingesting never charges twice,
and carry their rating (area, billed and free seconds, amount at 6 decimals, capped flag, error
reason). On PostgreSQL the table is partitioned by ``month`` (migration 0002, docs/deployment.md).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CallKind(models.TextChoices):
    VOICE = "voice", _("Voice")
    SMS = "sms", _("SMS")


class CallRecord(models.Model):
    """One call record of a PBX and its rating (R-VT-3..8).

    ``identity`` is the record's unique id, else a hash of PBX, start, caller, callee and duration
    (``core.rating.cdr.call_identity``); unique per PBX and month (the month follows from the
    start, so per PBX). An unknown destination is an error record (``error`` set), never a zero.
    """

    # No database constraint: the one write path keeps the reference (voice/0005, docs/benchmarks.md).
    pbx = models.ForeignKey("pbx.Pbx", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    month = models.DateField(help_text="first day of the call's month in the vendor's time zone")
    identity = models.CharField(max_length=80)
    start = models.DateTimeField()
    caller = models.CharField(max_length=80, blank=True)
    callee = models.CharField(max_length=80, help_text="as dialled")
    callee_e164 = models.CharField(max_length=20, blank=True)
    billsec = models.PositiveIntegerField(help_text="answered seconds as recorded")
    kind = models.CharField(max_length=5, choices=CallKind.choices, default=CallKind.VOICE)
    area = models.CharField(max_length=5, blank=True)
    billed_seconds = models.PositiveIntegerField(default=0)
    free_seconds = models.PositiveIntegerField(default=0)
    charged_units = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    capped = models.BooleanField(default=False, help_text="R-VT-6: over 14400 s, rated as 14400 s")
    error = models.CharField(max_length=200, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    job_id = models.BigIntegerField(null=True, blank=True, help_text="the ImportJob that stored it")
    line = models.PositiveIntegerField(default=0, help_text="its line in the file (API: 1-based position)")

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["start", "identity"]
        constraints = [
            models.UniqueConstraint(fields=["pbx", "month", "identity"], name="call_record_identity_unique")
        ]
        indexes = [models.Index(fields=["pbx", "month", "start"], name="call_record_pbx_month")]


class UsageMonth(models.Model):
    """A PBX's month after rating (R-VT-2, R-VT-5): the allowance, its use, the amount so far.

    Rewritten whenever the month is rated; the live authorisation reads it (R-VT-6).
    ``invoice`` is the usage invoice issued for the month (R-INV-1: never edited afterwards).
    """

    pbx = models.ForeignKey("pbx.Pbx", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    bundle = models.CharField(max_length=5, blank=True)
    allowance_seconds = models.PositiveBigIntegerField(default=0)
    allowance_used = models.PositiveBigIntegerField(default=0)
    sms_total = models.PositiveIntegerField(default=0)
    sms_used = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    rated_at = models.DateTimeField(null=True, blank=True)
    rated_through = models.DateTimeField(
        null=True,
        blank=True,
        help_text="incremental rating state: every record starting up to here is rated, and the "
        "totals above are theirs; records after it are rated from this state alone",
    )
    invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["-month", "pbx"]
        constraints = [models.UniqueConstraint(fields=["pbx", "month"], name="usage_month_unique")]

    @property
    def allowance_left(self) -> int:
        return max(self.allowance_seconds - self.allowance_used, 0)


class NumberOrderKind(models.TextChoices):
    NEW = "new", _("New number")
    PORTING = "porting", _("Porting")


class NumberOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class NumberOrder(models.Model):
    """An order for a new number or a porting (R-VT-10): draft → submitted → in review →
    approved (the number's subscription starts, co-termed) or rejected with the reason."""

    pbx = models.ForeignKey("pbx.Pbx", on_delete=models.PROTECT, related_name="number_orders")
    requirement = models.ForeignKey("catalog.NumberRequirement", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=NumberOrderKind.choices)
    status = models.CharField(
        max_length=10, choices=NumberOrderStatus.choices, default=NumberOrderStatus.DRAFT
    )
    address = models.TextField(blank=True, help_text="the customer's address (new numbers)")
    number = models.CharField(
        max_length=20, blank=True, help_text="E.164: the ported number, or the one assigned"
    )
    rejection_reason = models.CharField(max_length=300, blank=True)
    subscription = models.ForeignKey(
        "pbx.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_on = models.DateField(null=True, blank=True)

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def required_documents(self) -> list[str]:
        docs = (
            self.requirement.porting_documents
            if self.kind == NumberOrderKind.PORTING
            else self.requirement.documents
        )
        return [str(name) for name in docs]


class NumberDocument(models.Model):
    """A document uploaded for a number order: type and size checked, stored under MEDIA_ROOT
    (outside the web root) and served only through a view to the owner and staff (R-VT-10)."""

    order = models.ForeignKey(NumberOrder, on_delete=models.CASCADE, related_name="documents")
    name = models.CharField(max_length=200, help_text="which required document this is")
    file = models.FileField(upload_to="number-documents/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "order__pbx__partner"

    class Meta:
        ordering = ["order", "name", "-uploaded_at"]


class BundleSwitchStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved (applies on the 1st)")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")


class BundleSwitchTicket(models.Model):
    """A customer-care ticket switching the PBX's voice bundle CTA1 ↔ CTA2, applied by staff from
    the next month (R-VT-5)."""

    pbx = models.ForeignKey("pbx.Pbx", on_delete=models.PROTECT, related_name="+")
    to_product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=BundleSwitchStatus.choices, default=BundleSwitchStatus.REQUESTED
    )
    note = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    requested_on = models.DateField()
    effective_on = models.DateField(null=True, blank=True, help_text="the 1st of the month it applies")
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.CharField(max_length=300, blank=True)

    tenant_path = "pbx__partner"

    class Meta:
        ordering = ["-requested_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pbx"],
                condition=Q(status__in=["requested", "approved"]),
                name="bundle_switch_one_open_per_pbx",
            )
        ]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    STORING = "storing", _("Storing")
    RATING = "rating", _("Rating")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One import of a call-record file or API batch (R-VT-8): durable, accounted, resumable.

    ``rows`` (records read) = ``stored`` + ``duplicates`` + ``not_answered`` + ``skipped_inbound``
    + ``skipped_internal`` + ``skipped_feature`` + ``bad_lines``. Of the stored records,
    ``rated`` were rated (``free`` cost nothing, ``charged`` cost something) and ``rating_errors``
    (reason → count) could not be. Re-running the same file for the same PBX resumes the job.
    """

    pbx = models.ForeignKey("pbx.Pbx", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(
        "accounts.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=12)
    source = models.CharField(max_length=10, default="cli", help_text="cli, upload or api")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.STORING)
    rows = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    not_answered = models.PositiveIntegerField(default=0)
    skipped_inbound = models.PositiveIntegerField(default=0)
    skipped_internal = models.PositiveIntegerField(default=0)
    skipped_feature = models.PositiveIntegerField(default=0)
    bad_lines = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    free = models.PositiveIntegerField(default=0)
    charged = models.PositiveIntegerField(default=0)
    rating_errors = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A portal upload runs in the background (voice.tasks.import_cdr_file): the stored file (under
    # MEDIA_ROOT), its time zone, and the progress the job page polls (docs/usage-pipeline.md).
    stored_file = models.CharField(max_length=300, blank=True)
    tz_name = models.CharField(max_length=64, blank=True)
    lines_total = models.PositiveBigIntegerField(default=0, help_text="lines of the stored file")
    lines_read = models.PositiveBigIntegerField(default=0, help_text="lines read so far")
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)

    tenant_path = "partner"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sha256", "pbx"], name="import_job_file")]

    @property
    def skipped(self) -> int:
        return self.skipped_inbound + self.skipped_internal + self.skipped_feature

    @property
    def accounted(self) -> int:
        return self.stored + self.duplicates + self.not_answered + self.skipped + self.bad_lines

    @property
    def errors(self) -> int:
        return self.bad_lines + sum(int(count) for count in self.rating_errors.values())


class ImportProblem(models.Model):
    """A bad line (``kind`` line) or a record that could not be rated (``kind`` rating) of a job."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, default="line")
    reason = models.CharField(max_length=300)

    tenant_path = "job__partner"

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="import_problem_job_line")]


class PbxCdrRules(models.Model):
    """A PBX's own call classification rules (``core.rating.classify.ClassifyRules`` fields), over
    the format's defaults: e.g. its trunk's channel prefix or its inbound contexts."""

    pbx = models.OneToOneField("pbx.Pbx", on_delete=models.CASCADE, related_name="+")
    rules = models.JSONField(default=dict, blank=True)

    tenant_path = "pbx__partner"
