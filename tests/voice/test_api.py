"""The voice API: record batches and usage (R-VT-8)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from pbxportal.pbx.models import Pbx
from pbxportal.voice.models import CallRecord
from tests.voice.builders import AU_FIXED, IT_FIXED, VoiceWorld


@pytest.fixture
def world(db: Any) -> VoiceWorld:
    return VoiceWorld()


def post_cdrs(client: Client, pbx: Pbx, records: list[dict[str, Any]]) -> Any:
    return client.post(
        f"/api/v1/voice/pbxs/{pbx.pk}/cdrs", json.dumps(records), content_type="application/json"
    )


def test_a_batch_reports_accepted_duplicates_and_bad_records_by_position(world: VoiceWorld) -> None:
    # given a PBX with the voice trunk and a partner session
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    good = {"call_id": "a-1", "start": "2025-03-02T10:00:00+01:00", "callee": AU_FIXED, "billsec": 61}
    bad = {"call_id": "a-2", "start": "yesterday", "callee": AU_FIXED, "billsec": 5}
    # when the batch is posted twice
    first = post_cdrs(client, pbx, [good, bad]).json()
    second = post_cdrs(client, pbx, [good]).json()
    # then the good record was accepted once, the bad one reported as record 2, and it is charged once
    assert (first["accepted"], first["duplicates"], second["accepted"], second["duplicates"]) == (1, 0, 0, 1)
    assert first["errors"] == [
        {"line": 2, "kind": "line", "reason": "start is not an ISO 8601 time: 'yesterday'"}
    ]
    assert CallRecord.objects.get(pbx=pbx).amount == Decimal("0.061")


def test_usage_shows_the_lines_and_the_allowance_left(world: VoiceWorld) -> None:
    # given a PBX with 4 users and 10 minutes of CTA1 calls in March
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    client = Client()
    client.force_login(world.user)
    post_cdrs(
        client,
        pbx,
        [{"call_id": "u-1", "start": "2025-03-02T10:00:00+01:00", "callee": IT_FIXED, "billsec": 600}],
    )
    # when the usage of March is read
    usage = client.get(f"/api/v1/voice/pbxs/{pbx.pk}/usage?month=2025-03").json()
    # then it shows the CTA1 line and the allowance left
    assert (usage["bundle"], usage["allowance_left"]) == ("CTA1", 12000 * 60 - 600)
    assert [(line["area"], line["seconds"], line["allowance_used"]) for line in usage["lines"]] == [
        ("CTA1", 600, 600)
    ]
