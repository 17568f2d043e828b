"""Voice trunk API: call records in batches, usage, number orders and bundle switches for partners
(under /api/v1/voice/) (R-VT-2..10, R-API-1); the live call
authorisation for PBXs is in ``pbxportal.agent.api``.

Views are thin: they call the same services and selectors as the pages and the CLI.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router
from ninja.files import UploadedFile

from pbxportal.common.api import actor_of
from pbxportal.common.errors import ApplicationError
from pbxportal.common.schemas import Schema
from pbxportal.common.timeutil import vendor_today
from pbxportal.core.rating import read_portal_csv
from pbxportal.core.rating.cdr import PORTAL_COLUMNS
from pbxportal.voice import selectors, services
from pbxportal.voice.models import BundleSwitchTicket, CallRecord, NumberOrder

API_PREFIX = ""
router = Router()
partner = Router(tags=["voice"])


# --- Call records and usage ---------------------------------------------------------------------


class CdrIn(Schema):
    """One record in the portal CSV schema (``PORTAL_COLUMNS``); the PBX is the one in the path."""

    length_model = CallRecord
    call_id: str
    start: str
    caller: str = ""
    callee: str
    billsec: int
    kind: str = "voice"


class LineError(Schema):
    line: int
    reason: str


class ImportOut(Schema):
    accepted: int
    duplicates: int
    errors: list[LineError]
    months_rated: int


@partner.post("/pbxs/{pbx_id}/cdrs", response=ImportOut, summary="Import a batch of call records")
def cdrs_import(request: HttpRequest, pbx_id: int, records: list[CdrIn]) -> dict[str, Any]:
    """Records of one PBX, rated at once for their months (R-VT-8): ``accepted`` new records,
    ``duplicates`` already stored (never charged twice) and ``errors`` with the 1-based position
    of each bad record in the list and the reason; the good ones are kept."""
    actor = actor_of(request)
    actor.require_partner_role("technician")
    pbx = selectors.pbx_for_usage(actor=actor, pbx_id=pbx_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PORTAL_COLUMNS)
    for record in records:
        writer.writerow(
            [
                record.call_id,
                pbx.serial,
                record.start,
                record.caller,
                record.callee,
                record.billsec,
                record.kind,
            ]
        )
    # The header is line 1 of the CSV: record n of the list is line n + 1.
    items = ((line_no - 1, item) for line_no, item in read_portal_csv(buffer.getvalue().splitlines()))
    return services.cdr_import(items=items, pbx=pbx).as_dict()


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
        return vendor_today().replace(day=1)
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
