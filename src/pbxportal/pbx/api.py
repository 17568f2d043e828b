"""PBX API (R-API-1): PBXs, licences, co-terminated services, what-if previews (R-CO-4), plan
switches, auto-renew, SSH windows, the quantity ledger and corrections.

Thin: each endpoint calls the service the pages call. The day of a change is always the vendor's
today (common.timeutil), never a date sent by the client. Every ``…/preview`` endpoint runs the
same service with ``preview=True``, so it answers exactly the lines the real change issues.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router
from ninja.pagination import paginate

from pbxportal.common.api import actor_of
from pbxportal.common.idempotency import withhold_answer
from pbxportal.common.pagination import Pagination
from pbxportal.common.schemas import Schema
from pbxportal.common.timeutil import vendor_today
from pbxportal.invoicing.lines import LineDraft
from pbxportal.pbx import charges, selectors, services
from pbxportal.pbx.charges import ChangePlan
from pbxportal.pbx.models import CorrectionRequest, Pbx, QuantityChange, SshWindow, Subscription
from pbxportal.pbx.services import SSH_DEFAULT_MINUTES, ChangeResult

router = Router(tags=["pbx"])


# --- Schemas ----------------------------------------------------------------------------------


class LineOut(Schema):
    """One invoice line a change charges, with how it was prorated (R-CO-4)."""

    kind: str
    product_code: str
    description: str
    unit_price: Decimal = Field(description="The full price of one unit for the whole term")
    quantity: Decimal
    days_charged: int | None
    days_in_term: int | None
    period_start: date | None
    period_end: date | None
    amount: Decimal
    currency: str


class PreviewOut(Schema):
    lines: list[LineOut]
    warnings: list[str]
    total: Decimal
    currency: str | None


class InvoiceRef(Schema):
    id: int
    number: str | None
    total: Decimal
    currency: str


class ChangeOut(PreviewOut):
    invoice: InvoiceRef | None
    subscription_id: int | None = None


class SubscriptionOut(Schema):
    id: int
    product_code: str
    product_name: str
    family: str
    plan_code: str
    term: str
    quantity: int
    status: str
    started_on: date
    ended_on: date | None
    auto_renew: bool
    auto_renew_optional: bool
    commitment_until: date | None
    scheduled_plan_code: str | None

    @staticmethod
    def resolve_product_code(obj: Subscription) -> str:
        return obj.product.code

    @staticmethod
    def resolve_product_name(obj: Subscription) -> str:
        return obj.product.name

    @staticmethod
    def resolve_family(obj: Subscription) -> str:
        return obj.product.family

    @staticmethod
    def resolve_plan_code(obj: Subscription) -> str:
        return obj.plan.code

    @staticmethod
    def resolve_term(obj: Subscription) -> str:
        return obj.plan.term

    @staticmethod
    def resolve_auto_renew_optional(obj: Subscription) -> bool:
        return obj.product.auto_renew_optional

    @staticmethod
    def resolve_scheduled_plan_code(obj: Subscription) -> str | None:
        return obj.scheduled_plan.code if obj.scheduled_plan else None


class PbxOut(Schema):
    id: int
    name: str
    serial: str
    status: str
    customer_id: int
    customer_name: str
    model_code: str
    cloud: bool
    region: str
    term: str
    expires_on: date | None
    auto_renew: bool

    @staticmethod
    def resolve_customer_name(obj: Pbx) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_model_code(obj: Pbx) -> str:
        return obj.model.code

    @staticmethod
    def resolve_cloud(obj: Pbx) -> bool:
        return obj.is_cloud


class PbxDetailOut(PbxOut):
    anchor_date: date
    url: str | None = Field(description="Cloud PBXs answer at https://NAME.<vendor domain> (R-PBX-1)")
    pbx_key: str | None = Field(
        description="VM/HW PBXs present it to the licence API to activate (R-PBX-3). Only in the answer "
        "that creates the PBX or generates a new key: it is never stored, so never shown again"
    )
    pbx_key_prefix: str | None = Field(description="The first characters of the PBX key, to recognise it")
    firmware_version: str
    activated_at: datetime | None
    zero_users_since: date | None
    subscriptions: list[SubscriptionOut] = Field(description="The subscriptions in force")

    @staticmethod
    def resolve_url(obj: Pbx) -> str | None:
        return f"https://{obj.name}.{settings.VENDOR_DOMAIN}" if obj.is_cloud else None

    @staticmethod
    def resolve_pbx_key(obj: Pbx) -> str | None:
        return obj.new_pbx_key or None

    @staticmethod
    def resolve_pbx_key_prefix(obj: Pbx) -> str | None:
        return obj.pbx_key_prefix or None

    @staticmethod
    def resolve_subscriptions(obj: Pbx) -> list[Subscription]:
        return charges.active_subscriptions(obj)


class PbxCreateIn(Schema):
    length_model = Pbx
    customer_id: int
    model_code: str = Field(examples=["WPBX-CLOUD"])
    name: str = Field(examples=["acme-office"], description="A DNS label, unique across the vendor (R-PBX-1)")
    term: str = Field(examples=["yearly"], description="monthly, yearly, five_year or lifetime")
    region: str = Field("", description="Cloud PBXs only, required there")
    licences: dict[str, int] = Field(default_factory=dict, examples=[{"UC-BUSINESS": 4}])
    storage_blocks: int = Field(0, ge=0, description="Cloud PBXs only")


class PbxCreatedOut(ChangeOut):
    pbx: PbxDetailOut


class LicenceChangeIn(Schema):
    profile: str = Field(examples=["UC-BUSINESS"])
    quantity: int = Field(ge=0, description="The new quantity of the profile (not a delta)")


class ServiceOrderIn(Schema):
    product_code: str = Field(examples=["STORAGE-50"])
    quantity: int = Field(1, ge=1)
    term: str | None = Field(None, description="Optional; refused when it differs from the PBX's (R-CO-1)")
    attributes: dict[str, Any] = Field(default_factory=dict)
    auto_renew: bool = True


class PlanSwitchIn(Schema):
    product_code: str = Field(examples=["PSE-ULT"])


class AutoRenewIn(Schema):
    auto_renew: bool


class SshOpenIn(Schema):
    minutes: int = Field(SSH_DEFAULT_MINUTES, description="1 to 1440 (R-PBX-11)")


class SshWindowOut(Schema):
    id: int
    opened_by: str | None
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    open: bool

    @staticmethod
    def resolve_opened_by(obj: SshWindow) -> str | None:
        return obj.opened_by.username if obj.opened_by else None

    @staticmethod
    def resolve_open(obj: SshWindow) -> bool:
        return obj.closed_at is None


class SshClosedOut(Schema):
    closed: int


class LedgerEntryOut(Schema):
    id: int
    subscription_id: int
    product_code: str
    delta: int
    quantity_after: int
    effective_on: date
    kind: str
    actor: str | None
    note: str

    @staticmethod
    def resolve_product_code(obj: QuantityChange) -> str:
        return obj.subscription.product.code

    @staticmethod
    def resolve_actor(obj: QuantityChange) -> str | None:
        return obj.actor.username if obj.actor else None


class CorrectionIn(Schema):
    change_date: date = Field(examples=["2024-01-02"])
    quantities: dict[str, int] = Field(examples=[{"UC-BUSINESS": 2}])
    note: str = ""


class CorrectionOut(Schema):
    id: int
    pbx_id: int
    pbx_name: str
    pbx_serial: str
    partner_name: str
    filed_by: str | None
    filed_on: date
    change_date: date
    quantities: dict[str, int]
    note: str
    status: str
    decided_on: date | None
    decision_note: str

    @staticmethod
    def resolve_pbx_name(obj: CorrectionRequest) -> str:
        return obj.pbx.name

    @staticmethod
    def resolve_pbx_serial(obj: CorrectionRequest) -> str:
        return obj.pbx.serial

    @staticmethod
    def resolve_partner_name(obj: CorrectionRequest) -> str:
        return obj.pbx.partner.name

    @staticmethod
    def resolve_filed_by(obj: CorrectionRequest) -> str | None:
        return obj.filed_by.username if obj.filed_by else None


class CorrectionAppliedOut(Schema):
    correction: CorrectionOut
    documents: list[InvoiceRef] = Field(description="The credit note and/or the charge it issued")


class PlannedDocumentOut(Schema):
    """One document applying a correction will issue (R-CO-4)."""

    kind: str = Field(description="credit_note or invoice")
    lines: list[LineOut]
    total: Decimal = Field(description="Net total of the lines (tax is added when issued)")
    currency: str


class ProfileChangeOut(Schema):
    product_code: str
    current: int
    wanted: int


class CorrectionPreviewOut(Schema):
    correction_id: int
    quantities: list[ProfileChangeOut]
    documents: list[PlannedDocumentOut]


class RejectIn(Schema):
    reason: str = Field(examples=["The change was made as ordered."])


# --- Shaping ------------------------------------------------------------------------------------


def _line(line: LineDraft) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "product_code": line.product_code,
        "description": line.description,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "days_charged": line.days_charged,
        "days_in_term": line.days_in_term,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "amount": line.amount,
        "currency": line.currency,
    }


def _preview(plan: ChangePlan) -> dict[str, Any]:
    return {
        "lines": [_line(line) for line in plan.lines],
        "warnings": plan.warnings,
        "total": plan.total,
        "currency": plan.lines[0].currency if plan.lines else None,
    }


def _invoice(invoice: Any) -> dict[str, Any] | None:
    if invoice is None:
        return None
    return {"id": invoice.pk, "number": invoice.number, "total": invoice.total, "currency": invoice.currency}


def _change(result: ChangeResult) -> dict[str, Any]:
    return {
        **_preview(result.plan),
        "invoice": _invoice(result.invoice),
        "subscription_id": result.subscription.pk if result.subscription else None,
    }


# --- PBXs ---------------------------------------------------------------------------------------


@router.get("/pbxs", response=list[PbxOut])
@paginate(Pagination)
def pbx_list(
    request: HttpRequest, search: str = "", status: str = "", customer_id: int | None = None
) -> QuerySet[Pbx]:
    return selectors.pbx_list(actor=actor_of(request), search=search, status=status, customer_id=customer_id)


def _create(request: HttpRequest, payload: PbxCreateIn, preview: bool) -> ChangeResult:
    return services.pbx_create(
        actor=actor_of(request), today=vendor_today(), preview=preview, **payload.dict()
    )


@router.post("/pbxs/preview", response=PreviewOut)
def pbx_create_preview(request: HttpRequest, payload: PbxCreateIn) -> dict[str, Any]:
    """The first invoice a new PBX would cause (R-CO-4); nothing is created."""
    return _preview(_create(request, payload, preview=True).plan)


@router.post("/pbxs", response={201: PbxCreatedOut})
def pbx_create(request: HttpRequest, payload: PbxCreateIn) -> tuple[int, dict[str, Any]]:
    """Create a PBX (R-PBX-1..3) with its licences; the first term is invoiced at once."""
    result = _create(request, payload, preview=False)
    assert result.pbx is not None
    pbx = selectors.pbx_get(actor=actor_of(request), pbx_id=result.pbx.pk)
    pbx.new_pbx_key = result.pbx.new_pbx_key
    if pbx.new_pbx_key:
        withhold_answer(request)  # the PBX key is shown once, never kept for a replay
    return 201, {**_change(result), "pbx": pbx}


@router.post("/pbxs/{pbx_id}/pbx-key", response=PbxDetailOut)
def pbx_key_regenerate(request: HttpRequest, pbx_id: int) -> Pbx:
    """A new PBX key for a VM/HW PBX (R-PBX-3), shown in this answer only; the old key stops working."""
    actor = actor_of(request)
    new_key = services.pbx_key_regenerate(actor=actor, pbx_id=pbx_id).new_pbx_key
    withhold_answer(request)
    pbx = selectors.pbx_get(actor=actor, pbx_id=pbx_id)
    pbx.new_pbx_key = new_key
    return pbx


@router.get("/pbxs/{pbx_id}", response=PbxDetailOut)
def pbx_get(request: HttpRequest, pbx_id: int) -> Pbx:
    """Status, serial, expiry, the PBX key's prefix (VM/HW) and the subscriptions in force."""
    return selectors.pbx_get(actor=actor_of(request), pbx_id=pbx_id)


@router.get("/pbxs/{pbx_id}/subscriptions", response=list[SubscriptionOut])
def subscription_list(
    request: HttpRequest, pbx_id: int, include_ended: bool = False
) -> QuerySet[Subscription]:
    return selectors.subscription_list(actor=actor_of(request), pbx_id=pbx_id, include_ended=include_ended)


@router.post("/pbxs/{pbx_id}/auto-renew", response=PbxDetailOut)
def pbx_auto_renew(request: HttpRequest, pbx_id: int, payload: AutoRenewIn) -> Pbx:
    """R-EX-4: with auto-renew off the PBX and its services end at expiry."""
    actor = actor_of(request)
    services.pbx_set_auto_renew(actor=actor, pbx_id=pbx_id, auto_renew=payload.auto_renew)
    return selectors.pbx_get(actor=actor, pbx_id=pbx_id)


# --- Licences, services, plan switches (each with its preview, R-CO-4) --------------------------


def _licences(request: HttpRequest, pbx_id: int, payload: LicenceChangeIn, preview: bool) -> ChangeResult:
    return services.pbx_change_licences(
        actor=actor_of(request),
        pbx_id=pbx_id,
        profile=payload.profile,
        quantity=payload.quantity,
        today=vendor_today(),
        preview=preview,
    )


@router.post("/pbxs/{pbx_id}/licences/preview", response=PreviewOut)
def licence_change_preview(request: HttpRequest, pbx_id: int, payload: LicenceChangeIn) -> dict[str, Any]:
    return _preview(_licences(request, pbx_id, payload, preview=True).plan)


@router.post("/pbxs/{pbx_id}/licences", response=ChangeOut)
def licence_change(request: HttpRequest, pbx_id: int, payload: LicenceChangeIn) -> dict[str, Any]:
    """Set a licence profile's quantity (R-PBX-7/8): increases prorated to expiry, decreases with
    no refund and refused on the last day of a month."""
    return _change(_licences(request, pbx_id, payload, preview=False))


def _order(request: HttpRequest, pbx_id: int, payload: ServiceOrderIn, preview: bool) -> ChangeResult:
    return services.pbx_service_order(
        actor=actor_of(request), pbx_id=pbx_id, today=vendor_today(), preview=preview, **payload.dict()
    )


@router.post("/pbxs/{pbx_id}/services/preview", response=PreviewOut)
def service_order_preview(request: HttpRequest, pbx_id: int, payload: ServiceOrderIn) -> dict[str, Any]:
    return _preview(_order(request, pbx_id, payload, preview=True).plan)


@router.post("/pbxs/{pbx_id}/services", response={201: ChangeOut})
def service_order(request: HttpRequest, pbx_id: int, payload: ServiceOrderIn) -> tuple[int, dict[str, Any]]:
    """Order a co-terminated service (R-CO-1..3): the PBX's term and expiry, charged prorated."""
    return 201, _change(_order(request, pbx_id, payload, preview=False))


def _switch(request: HttpRequest, pbx_id: int, payload: PlanSwitchIn, preview: bool) -> ChangeResult:
    return services.plan_switch(
        actor=actor_of(request),
        pbx_id=pbx_id,
        product_code=payload.product_code,
        today=vendor_today(),
        preview=preview,
    )


@router.post("/pbxs/{pbx_id}/plan-switch/preview", response=PreviewOut)
def plan_switch_preview(request: HttpRequest, pbx_id: int, payload: PlanSwitchIn) -> dict[str, Any]:
    return _preview(_switch(request, pbx_id, payload, preview=True).plan)


@router.post("/pbxs/{pbx_id}/plan-switch", response=ChangeOut)
def plan_switch(request: HttpRequest, pbx_id: int, payload: PlanSwitchIn) -> dict[str, Any]:
    """R-EX-5: an upgrade at once, prorated; a downgrade scheduled for the end of the term."""
    return _change(_switch(request, pbx_id, payload, preview=False))


@router.post("/subscriptions/{subscription_id}/cancel/preview", response=PreviewOut)
def subscription_cancel_preview(request: HttpRequest, subscription_id: int) -> dict[str, Any]:
    result = services.subscription_cancel_by_partner(
        actor=actor_of(request), subscription_id=subscription_id, today=vendor_today(), preview=True
    )
    return _preview(result.plan)


@router.post("/subscriptions/{subscription_id}/cancel", response=ChangeOut)
def subscription_cancel(request: HttpRequest, subscription_id: int) -> dict[str, Any]:
    """End a service at once, no refund; within its minimum commitment the rest is charged (R-HW-5)."""
    result = services.subscription_cancel_by_partner(
        actor=actor_of(request), subscription_id=subscription_id, today=vendor_today()
    )
    return _change(result)


@router.post("/subscriptions/{subscription_id}/auto-renew", response=SubscriptionOut)
def subscription_auto_renew(request: HttpRequest, subscription_id: int, payload: AutoRenewIn) -> Subscription:
    """R-EX-4, where the catalog allows it."""
    actor = actor_of(request)
    services.subscription_set_auto_renew(
        actor=actor, subscription_id=subscription_id, auto_renew=payload.auto_renew
    )
    return selectors.subscription_get(actor=actor, subscription_id=subscription_id)


# --- SSH (R-PBX-11) ------------------------------------------------------------------------------


@router.get("/pbxs/{pbx_id}/ssh", response=list[SshWindowOut])
def ssh_window_list(request: HttpRequest, pbx_id: int) -> QuerySet[SshWindow]:
    return selectors.ssh_windows(actor=actor_of(request), pbx_id=pbx_id)


@router.post("/pbxs/{pbx_id}/ssh", response={201: SshWindowOut})
def ssh_open(request: HttpRequest, pbx_id: int, payload: SshOpenIn) -> tuple[int, SshWindow]:
    """R-PBX-11: SSH port 2222 of a cloud PBX, open for 1 to 1440 minutes, audited."""
    window = services.ssh_open(
        actor=actor_of(request), pbx_id=pbx_id, minutes=payload.minutes, now=timezone.now()
    )
    return 201, window


@router.post("/pbxs/{pbx_id}/ssh/close", response=SshClosedOut)
def ssh_close(request: HttpRequest, pbx_id: int) -> dict[str, int]:
    return {"closed": services.ssh_close(actor=actor_of(request), pbx_id=pbx_id, now=timezone.now())}


# --- Ledger ----------------------------------------------------------------------------------


@router.get("/pbxs/{pbx_id}/ledger", response=list[LedgerEntryOut])
@paginate(Pagination)
def ledger_list(request: HttpRequest, pbx_id: int) -> QuerySet[QuantityChange]:
    """The append-only ledger of quantity changes; replaying it gives the current quantities."""
    return selectors.ledger(actor=actor_of(request), pbx_id=pbx_id)


# --- Corrections (R-PBX-10) ---------------------------------------------------------------------


@router.post("/pbxs/{pbx_id}/corrections", response={201: CorrectionOut})
def correction_file(
    request: HttpRequest, pbx_id: int, payload: CorrectionIn
) -> tuple[int, CorrectionRequest]:
    """A partner reports a mistaken activation or licence change, within 1 business day."""
    correction = services.correction_file(
        actor=actor_of(request),
        pbx_id=pbx_id,
        change_date=payload.change_date,
        quantities=payload.quantities,
        note=payload.note,
        today=vendor_today(),
    )
    return 201, correction


@router.get("/corrections", response=list[CorrectionOut])
@paginate(Pagination)
def correction_list(request: HttpRequest, status: str = "") -> QuerySet[CorrectionRequest]:
    """A partner's own corrections; staff see those of their partners."""
    return selectors.correction_list(actor=actor_of(request), status=status)


@router.get("/corrections/{correction_id}", response=CorrectionOut)
def correction_get(request: HttpRequest, correction_id: int) -> CorrectionRequest:
    return selectors.correction_get(actor=actor_of(request), correction_id=correction_id)


@router.get("/corrections/{correction_id}/preview", response=CorrectionPreviewOut)
def correction_preview(request: HttpRequest, correction_id: int) -> dict[str, Any]:
    """What applying the correction will issue (R-CO-4): computed by the function that applies it."""
    plan = services.correction_preview(actor=actor_of(request), correction_id=correction_id)
    return {"correction_id": correction_id, **correction_plan_out(plan)}


def correction_plan_out(plan: services.CorrectionPlan) -> dict[str, Any]:
    documents = [
        {
            "kind": kind,
            "lines": [_line(line) for line in lines],
            "total": sum((line.amount for line in lines), Decimal(0)),
            "currency": lines[0].currency,
        }
        for kind, lines in (("credit_note", plan.credit_lines), ("invoice", plan.charge_lines))
        if lines
    ]
    quantities = [vars(change) for change in plan.changes]
    return {"quantities": quantities, "documents": documents}


@router.post("/corrections/{correction_id}/apply", response=CorrectionAppliedOut)
def correction_apply(request: HttpRequest, correction_id: int) -> dict[str, Any]:
    """Staff only: the difference becomes a credit note or a charge, prorated from the change date."""
    actor = actor_of(request)
    documents = services.correction_apply(actor=actor, correction_id=correction_id, today=vendor_today())
    correction = selectors.correction_get(actor=actor, correction_id=correction_id)
    return {"correction": correction, "documents": [_invoice(d) for d in documents]}


@router.post("/corrections/{correction_id}/reject", response=CorrectionOut)
def correction_reject(request: HttpRequest, correction_id: int, payload: RejectIn) -> CorrectionRequest:
    actor = actor_of(request)
    services.correction_reject(
        actor=actor, correction_id=correction_id, reason=payload.reason, today=vendor_today()
    )
    return selectors.correction_get(actor=actor, correction_id=correction_id)
