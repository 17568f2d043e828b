"""The live call authorisation with the PBX's credential (R-VT-6), under /api/v1/pbx-agent/."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from pbxportal.accounts.models import ApiToken
from pbxportal.agent.services import credential_digest
from pbxportal.invoicing.models import Invoice
from pbxportal.licensing.models import PbxCredential
from pbxportal.pbx.models import Pbx
from pbxportal.voice import services
from tests.voice.builders import AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld

AGENT = "/api/v1/pbx-agent/calls/authorize"


@pytest.fixture
def world(db: Any) -> VoiceWorld:
    return VoiceWorld()


def credential_for(pbx: Pbx) -> str:
    clear = f"pbxa_test-{pbx.pk}"
    PbxCredential.objects.create(
        pbx=pbx, digest=credential_digest(clear), prefix=clear[:12], issued_at=timezone.now()
    )
    return clear


def authorize(credential: str, callee: str, at: datetime) -> Any:
    return Client().post(
        AGENT,
        json.dumps({"caller": "+390611111111", "callee": callee, "time": at.isoformat()}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {credential}",
    )


def test_authorize_gives_the_allowance_plus_credit_capped_at_14400(world: VoiceWorld, settings: Any) -> None:
    # given an active PBX with the CTA1 bundle, its own credential, and a monthly credit of 1.00
    settings.VOICE_CREDIT_LIMIT = "1.00"
    pbx = world.trunk_pbx(start=date(2025, 2, 3), users=1)
    credential = credential_for(pbx)
    at = datetime(2025, 3, 5, 9, tzinfo=UTC)
    # when it asks for a CTA1 call and a CTA3 call
    cta1 = authorize(credential, IT_FIXED, at).json()
    cta3 = authorize(credential, AU_FIXED, at).json()
    # then the CTA1 call may last 14400 s (3000 minutes left), the CTA3 one what 1.00 buys at 0.06/min
    assert (cta1["allowed"], cta1["max_seconds"], cta1["allowance_seconds"]) == (True, 14400, 180000)
    assert (cta3["allowed"], cta3["max_seconds"], cta3["area"]) == (True, 1000, "CTA3")


def test_authorize_refuses_unknown_destinations_and_inactive_or_suspended_pbxs(world: VoiceWorld) -> None:
    # given a PBX with the voice trunk and its credential
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    credential = credential_for(pbx)
    at = datetime(2025, 3, 5, 9, tzinfo=UTC)
    # when it asks for an unknown destination
    unknown = authorize(credential, UNKNOWN, at).json()
    # then the call is refused with the reason
    assert (unknown["allowed"], unknown["max_seconds"], unknown["rule"]) == (False, 0, "R-VT-7")
    assert unknown["reason"] == f"unknown destination {UNKNOWN}"
    # and a stopped PBX is refused (after the state cache expires)
    Pbx.objects.filter(pk=pbx.pk).update(status="stopped")
    services._states.clear()
    stopped = authorize(credential, IT_FIXED, at).json()
    assert (stopped["allowed"], stopped["reason"]) == (False, "the PBX is not active (stopped)")


@pytest.mark.overdue_policy
def test_authorize_refuses_a_pbx_suspended_for_overdue_invoices(world: VoiceWorld) -> None:
    # given a PBX whose partner has an invoice unpaid 40 days past its due date
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    credential = credential_for(pbx)
    Invoice.objects.filter(partner=world.partner).update(due_on=date(2025, 1, 20))
    # when it asks for a call
    refused = authorize(credential, IT_FIXED, datetime(2025, 3, 5, 9, tzinfo=UTC)).json()
    # then it is refused: services are suspended (R-INV-5)
    assert (refused["allowed"], refused["rule"]) == (False, "R-INV-5")


def test_partner_credentials_cannot_authorize_calls(world: VoiceWorld) -> None:
    # given a partner session and a partner API token
    session = Client()
    session.force_login(world.user)
    ApiToken.objects.create(
        partner=world.partner, user=world.user, name="t", prefix="pbxp_abc", digest="0" * 64
    )
    body = json.dumps({"callee": IT_FIXED})
    # when they call the PBX agent's authorisation, then both are refused
    assert session.post(AGENT, body, content_type="application/json").status_code == 401
    token = Client().post(AGENT, body, content_type="application/json", HTTP_AUTHORIZATION="Bearer pbxp_abc")
    assert token.status_code == 401
