"""Voice trunk API: call records in batches, usage, number orders and bundle switches for partners
(under /api/v1/voice/) (R-VT-2..10, R-API-1); the live call
authorisation for PBXs is in ``pbxportal.agent.api``.

Views are thin: they call the same services and selectors as the pages and the CLI.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from ninja import File, Form, Router
from ninja.files import UploadedFile

from pbxportal.common.api import actor_of
from pbxportal.common.errors import ApplicationError
from pbxportal.common.schemas import Schema
from pbxportal.common.timeutil import vendor_today
from pbxportal.core.periods import first_of_month
from pbxportal.voice import pipeline, selectors, services
from pbxportal.voice.models import BundleSwitchTicket, NumberOrder

API_PREFIX = ""
router = Router()
partner = Router(tags=["voice"])


# --- Call records and usage ---------------------------------------------------------------------


MAX_BATCH = 10_000
MAX_BODY_BYTES = 32 * 1024 * 1024


class LineError(Schema):
    line: int
    kind: str = "line"
    reason: str


class ImportOut(Schema):
    job: int
    rows: int
    accepted: int
    duplicates: int
    not_answered: int
    skipped_inbound: int
    skipped_internal: int
    skipped_feature: int
    bad_lines: int
    rated: int
    free: int
    charged: int
    rating_errors: dict[str, int]
    errors: list[LineError]
    months_rated: int


def _records_of(request: HttpRequest) -> list[Any]:
    """The JSON list of records of the body, gzip or not; one error shape for every refusal."""
    body = request.body
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            body = gzip.GzipFile(fileobj=io.BytesIO(body)).read(MAX_BODY_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise ApplicationError(f"body: not gzip ({exc}).", fields={"body": "gzip"}) from None
        if len(body) > MAX_BODY_BYTES:
            raise ApplicationError(
                f"body: more than {MAX_BODY_BYTES} bytes uncompressed.",
                fields={"body": "size"},
                status=413,
                code="too_large",
            )
    try:
        records = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApplicationError(f"body: not JSON ({exc}).", fields={"body": "json"}) from None
    if isinstance(records, dict) and isinstance(records.get("records"), list):
        records = records["records"]
    if not isinstance(records, list):
        raise ApplicationError("body: a JSON list of records.", fields={"body": "list"})
    if len(records) > MAX_BATCH:
        raise ApplicationError(
            f"records: {len(records)} in one batch; at most {MAX_BATCH}.",
            fields={"records": f"at most {MAX_BATCH}"},
            code="too_large",
            status=413,
        )
    return records


@partner.post(
    "/pbxs/{pbx_id}/cdrs",
    response=ImportOut,
    summary="Import a batch of call records",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "array"}}}}},
)
def cdrs_import(request: HttpRequest, pbx_id: int) -> dict[str, Any]:
    """Up to 10,000 records of one PBX in the portal CSV fields (``call_id``, ``start`` ISO 8601
    with offset, ``caller``, ``callee``, ``billsec``, ``kind`` voice/sms, optional ``direction``),
    a JSON list, gzip bodies accepted (``Content-Encoding: gzip``). Each record is validated on its
    own: a wrong type or a missing field is an error of that record (1-based ``line``), the good
    ones are kept, stored and rated through the same durable import job as a file (R-VT-8)."""
    actor = actor_of(request)
    actor.require_partner_role("technician")
    pbx = selectors.pbx_for_usage(actor=actor, pbx_id=pbx_id)
    records = _records_of(request)
    result = pipeline.import_records(records, pbx=pbx)
    return selectors.import_job_dict(result.job, months=len(result.months))


class UsageLineOut(Schema):
    area: str
    kind: str
    calls: int
    seconds: int
    billable_seconds: int
    amount: Decimal
    currency: str
    allowance_used: int | None
    allowance_left: int | None


class UsageOut(Schema):
    month: str
    bundle: str
    allowance_seconds: int
    allowance_used: int
    allowance_left: int
    sms_total: int
    sms_used: int
    errors: int
    lines: list[UsageLineOut]


def _month(value: str | None) -> date:
    if not value:
        return first_of_month(vendor_today())
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ApplicationError("month: YYYY-MM.", fields={"month": "YYYY-MM"}) from None


@partner.get("/pbxs/{pbx_id}/usage", response=UsageOut, summary="A PBX's usage of a month")
def usage(request: HttpRequest, pbx_id: int, month: str | None = None) -> dict[str, Any]:
    """Usage lines per area and kind with the allowance used and left (R-VT-2..4)."""
    pbx = selectors.pbx_for_usage(actor=actor_of(request), pbx_id=pbx_id)
    first = _month(month)
    row = selectors.usage_month(pbx=pbx, month=first)
    return {
        "month": f"{first.year:04d}-{first.month:02d}",
        "bundle": row.bundle if row else "",
        "allowance_seconds": row.allowance_seconds if row else 0,
        "allowance_used": row.allowance_used if row else 0,
        "allowance_left": row.allowance_left if row else 0,
        "sms_total": row.sms_total if row else 0,
        "sms_used": row.sms_used if row else 0,
        "errors": row.errors if row else 0,
        "lines": [asdict(line) for line in selectors.usage_lines(pbx=pbx, month=first)],
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Iterator[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


def xlsx_stream(rows: Iterator[list[Any]], title: str) -> Iterator[bytes]:
    """An XLSX workbook written row by row (openpyxl write-only mode), then sent in blocks."""
    import tempfile

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for row in rows:
        sheet.append([str(value) if isinstance(value, Decimal) else value for value in row])
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        yield from iter(lambda: handle.read(1 << 16), b"")


def calls_download(pbx: Any, first: date, fmt: str) -> StreamingHttpResponse:
    """The month's rated calls as CSV or XLSX, streamed (issue 12: partners rebill their customers)."""
    label = f"{first.year:04d}-{first.month:02d}"
    name = f"calls-{pbx.serial}-{label}"
    rows = selectors.rated_call_rows(pbx=pbx, month=first)
    if fmt == "xlsx":
        response = StreamingHttpResponse(
            xlsx_stream(rows, label),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    if fmt != "csv":
        raise ApplicationError("format: csv or xlsx.", fields={"format": "csv or xlsx"})
    response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@partner.get("/pbxs/{pbx_id}/usage/calls", summary="A PBX-month's rated calls as CSV or XLSX (streamed)")
def usage_calls(request: HttpRequest, pbx_id: int, month: str | None = None, format: str = "csv") -> Any:
    """Every call of the month with its rating (area, billed and free seconds, amount, error)."""
    pbx = selectors.pbx_for_usage(actor=actor_of(request), pbx_id=pbx_id)
    return calls_download(pbx, _month(month), format)


@partner.get("/imports/{job_id}", summary="An import job: its counts and every error")
def import_job(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """Rows read = stored + duplicates + not answered + skipped + bad lines; rating results; all
    problems with their line numbers (R-VT-8)."""
    job = selectors.import_job_for(actor=actor_of(request), job_id=job_id)
    return selectors.import_job_dict(job)


@partner.get("/imports/{job_id}/problems.csv", summary="Every bad line and rating error of a job, as CSV")
def import_problems(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = selectors.import_job_for(actor=actor_of(request), job_id=job_id)
    response = StreamingHttpResponse(
        csv_stream(selectors.import_problems_csv_rows(job)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.csv"'
    return response


# --- Numbers (R-VT-10) ----------------------------------------------------------------------------


class NumberOrderIn(Schema):
    length_model = NumberOrder
    pbx_id: int
    country: str
    number_type: str = "geographic"
    kind: str = "new"
    address: str = ""
    number: str = ""


class NumberDocumentOut(Schema):
    id: int
    name: str
    original_name: str
    content_type: str
    size: int


class NumberOrderOut(Schema):
    id: int
    pbx_id: int
    country: str
    number_type: str
    kind: str
    status: str
    address: str
    number: str
    rejection_reason: str
    required_documents: list[str]
    documents: list[NumberDocumentOut]
    subscription_id: int | None


def _order_out(order: NumberOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "pbx_id": order.pbx_id,
        "country": order.requirement.country,
        "number_type": order.requirement.number_type,
        "kind": order.kind,
        "status": order.status,
        "address": order.address,
        "number": order.number,
        "rejection_reason": order.rejection_reason,
        "required_documents": order.required_documents,
        "documents": list(order.documents.all()),
        "subscription_id": order.subscription_id,
    }


@partner.get("/number-orders", response=list[NumberOrderOut], summary="Number orders")
def number_orders(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    return [
        _order_out(order) for order in selectors.number_orders(actor=actor_of(request), status=status)[:200]
    ]


@partner.post("/number-orders", response={201: NumberOrderOut}, summary="Start a number order (draft)")
def number_order_create(request: HttpRequest, payload: NumberOrderIn) -> tuple[int, dict[str, Any]]:
    order = services.number_order_create(actor=actor_of(request), **payload.dict())
    return 201, _order_out(order)


@partner.get("/number-orders/{number_order_id}", response=NumberOrderOut, summary="A number order")
def number_order_detail(request: HttpRequest, number_order_id: int) -> dict[str, Any]:
    return _order_out(selectors.number_order_get(actor=actor_of(request), order_id=number_order_id))


@partner.post(
    "/number-orders/{number_order_id}/documents",
    response={201: NumberDocumentOut},
    summary="Upload a required document (PDF, PNG, JPEG)",
)
def number_document_upload(
    request: HttpRequest,
    number_order_id: int,
    name: Form[str] = "",
    file: File[UploadedFile | None] = None,
) -> tuple[int, Any]:
    return 201, services.number_document_upload(
        actor=actor_of(request), order_id=number_order_id, name=name, upload=file
    )


@partner.get("/number-documents/{number_document_id}", summary="Download a number document")
def number_document_download(request: HttpRequest, number_document_id: int) -> FileResponse:
    """Served only to the owning partner and staff (R-VT-10); the file is outside the web root."""
    document = selectors.number_document_get(actor=actor_of(request), document_id=number_document_id)
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


@partner.post("/number-orders/{number_order_id}/submit", response=NumberOrderOut, summary="Submit a draft")
def number_order_submit(request: HttpRequest, number_order_id: int) -> dict[str, Any]:
    return _order_out(services.number_order_submit(actor=actor_of(request), order_id=number_order_id))


@partner.post(
    "/number-orders/{number_order_id}/review", response=NumberOrderOut, summary="Staff: take into review"
)
def number_order_review(request: HttpRequest, number_order_id: int) -> dict[str, Any]:
    return _order_out(services.number_order_review(actor=actor_of(request), order_id=number_order_id))


class ApproveIn(Schema):
    number: str = ""


@partner.post("/number-orders/{number_order_id}/approve", response=NumberOrderOut, summary="Staff: approve")
def number_order_approve(request: HttpRequest, number_order_id: int, payload: ApproveIn) -> dict[str, Any]:
    order = services.number_order_approve(
        actor=actor_of(request), order_id=number_order_id, number=payload.number, today=vendor_today()
    )
    return _order_out(order)


class RejectIn(Schema):
    reason: str


@partner.post("/number-orders/{number_order_id}/reject", response=NumberOrderOut, summary="Staff: reject")
def number_order_reject(request: HttpRequest, number_order_id: int, payload: RejectIn) -> dict[str, Any]:
    order = services.number_order_reject(
        actor=actor_of(request), order_id=number_order_id, reason=payload.reason, today=vendor_today()
    )
    return _order_out(order)


# --- Bundle switch (R-VT-5) -----------------------------------------------------------------------


class BundleSwitchIn(Schema):
    length_model = BundleSwitchTicket
    to_product: str
    note: str = ""


class BundleSwitchOut(Schema):
    id: int
    pbx_id: int
    to_product: str
    status: str
    effective_on: date | None
    decision_note: str


def _ticket_out(ticket: BundleSwitchTicket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "pbx_id": ticket.pbx_id,
        "to_product": ticket.to_product.code,
        "status": ticket.status,
        "effective_on": ticket.effective_on,
        "decision_note": ticket.decision_note,
    }


@partner.post(
    "/pbxs/{pbx_id}/bundle-switch", response={201: BundleSwitchOut}, summary="Ask to switch CTA1 ↔ CTA2"
)
def bundle_switch_request(request: HttpRequest, pbx_id: int, payload: BundleSwitchIn) -> tuple[int, Any]:
    ticket = services.bundle_switch_request(
        actor=actor_of(request),
        pbx_id=pbx_id,
        to_product_code=payload.to_product,
        note=payload.note,
        today=vendor_today(),
    )
    return 201, _ticket_out(ticket)


class DecideIn(Schema):
    approve: bool
    note: str = ""


@partner.post("/bundle-switches/{bundle_ticket_id}/decide", response=BundleSwitchOut, summary="Customer care")
def bundle_switch_decide(request: HttpRequest, bundle_ticket_id: int, payload: DecideIn) -> dict[str, Any]:
    ticket = services.bundle_switch_decide(
        actor=actor_of(request),
        ticket_id=bundle_ticket_id,
        approve=payload.approve,
        note=payload.note,
        today=vendor_today(),
    )
    return _ticket_out(ticket)


router.add_router("voice", partner)
