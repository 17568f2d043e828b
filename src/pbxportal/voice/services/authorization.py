"""The live authorisation of calls (R-VT-6): the hot path the PBX agent calls before each call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from pbxportal.common.timeutil import day_start, vendor_today
from pbxportal.core.rating import (
    AllowancePool,
    InvalidNumber,
    UnknownDestination,
    normalise,
)
from pbxportal.overdue.policy import licence_status
from pbxportal.pbx.models import Pbx, PbxStatus
from pbxportal.voice import selectors
from pbxportal.voice.rating import (
    MAX_CALL_SECONDS,
    bundle_of,
    bundle_subscription,
    month_start,
    next_month,
    pool_events,
    rate_table,
    terms_for,
)

# --- Live authorisation (R-VT-6) ------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """The answer to a PBX asking whether a call may start, and for how long (R-VT-6)."""

    allowed: bool
    max_seconds: int
    reason: str = ""
    rule: str | None = None
    destination: str = ""
    area: str = ""
    allowance_seconds: int = 0
    credit_seconds: int = 0


@dataclass(frozen=True)
class _PbxState:
    status: str
    partner_id: int
    book_id: int
    region: str
    bundle: str
    pool: AllowancePool | None
    cta2_seconds: int
    licence: str


_states: dict[tuple[int, date], tuple[float, _PbxState]] = {}


def _pbx_state(pbx_id: int, month: date, today: date) -> _PbxState:
    """The PBX's voice facts for the hot path, cached in the process for a few seconds."""
    now = time.monotonic()
    cached = _states.get((pbx_id, month))
    if cached is not None and now - cached[0] < settings.VOICE_PBX_CACHE_SECONDS:
        return cached[1]
    pbx = Pbx.objects.select_related("partner", "customer").get(pk=pbx_id)
    sub = bundle_subscription(pbx_id, month)
    terms = terms_for(sub)
    pool = None
    if sub is not None and bundle_of(sub) == "CTA1":
        pool = AllowancePool.for_period(
            events=pool_events(sub),
            period_start=day_start(month),
            period_end=day_start(next_month(month)),
            minutes_per_user=terms.minutes_per_user,
        )
    state = _PbxState(
        status=pbx.status,
        partner_id=pbx.partner_id,
        book_id=pbx.partner.price_book_id,
        region=pbx.customer.country or "IT",
        bundle=bundle_of(sub) if sub is not None else "",
        pool=pool,
        cta2_seconds=terms.cta2_bundle.seconds,
        licence=licence_status(partner_id=pbx.partner_id, today=today),
    )
    _states[(pbx_id, month)] = (now, state)
    return state


def _refuse(reason: str, rule: str, **extra: Any) -> Authorization:
    return Authorization(allowed=False, max_seconds=0, reason=reason, rule=rule, **extra)


def call_authorize(
    *, pbx_id: int, caller: str, callee: str, at: datetime, usage: tuple[int, Decimal] | None = None
) -> Authorization:
    """How long a call may last (R-VT-6): the remaining allowance of the destination's area (CTA1
    pool with the CTA1 bundle, the CTA2 bundle's minutes) plus what the PBX's remaining monthly
    credit (``VOICE_CREDIT_LIMIT`` less the month's usage) pays at the destination's rate, at most
    14400 s; or a refusal with the reason: PBX not active, services suspended for overdue invoices
    (R-INV-5), no voice trunk, a number that is not one, an unknown destination (R-VT-7).

    ``usage``: the month's (allowance seconds used, amount) when the caller has read it already
    (the agent fast path reads it with the credential, ``selectors.agent_authorization_inputs``).
    """
    month = month_start(at)
    state = _pbx_state(pbx_id, month, vendor_today(at))
    if state.status != PbxStatus.ACTIVE:
        return _refuse(f"the PBX is not active ({state.status})", "R-VT-6")
    if state.licence != "active":
        return _refuse("services are suspended: invoices are overdue", "R-INV-5")
    if not state.bundle:
        return _refuse("the PBX has no voice trunk (CLASSOUND)", "R-CO-2")
    try:
        destination = normalise(callee, state.region)
        row = rate_table(state.book_id).match(destination)
    except InvalidNumber as exc:
        return _refuse(f"not a number: {exc.reason}", "R-VT-7")
    except UnknownDestination:
        return _refuse(f"unknown destination {callee}", "R-VT-7")
    seconds_used, spent = usage if usage is not None else selectors.month_usage(pbx_id=pbx_id, month=month)
    allowance = 0
    if row.area == "CTA1" and state.pool is not None:
        allowance = max(state.pool.seconds_at(at) - seconds_used, 0)
    elif row.area == "CTA2" and state.bundle == "CTA2":
        allowance = max(state.cta2_seconds - seconds_used, 0)
    credit_left = Decimal(settings.VOICE_CREDIT_LIMIT) - spent
    if credit_left <= 0:
        credit = 0
    elif not row.rate_per_minute:
        credit = MAX_CALL_SECONDS
    elif row.area == "CTA1":
        credit = int(credit_left // row.rate_per_minute) * 60  # per started minute (R-VT-3)
    else:
        credit = int(credit_left * 60 // row.rate_per_minute)  # per second (R-VT-4)
    seconds = min(allowance + credit, MAX_CALL_SECONDS)
    facts = {
        "destination": destination,
        "area": row.area,
        "allowance_seconds": allowance,
        "credit_seconds": credit,
    }
    if seconds <= 0:
        return _refuse("the allowance and the monthly credit are used up", "R-VT-6", **facts)
    return Authorization(allowed=True, max_seconds=seconds, **facts)  # type: ignore[arg-type]
