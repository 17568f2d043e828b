"""The usage page shows minutes by area (R-VT-2, R-UI-1)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.test import Client

from pbxportal.cli import main
from tests.voice.builders import AU_FIXED, IT_FIXED, UNKNOWN, VoiceWorld, portal_csv


def test_the_usage_page_charts_minutes_by_area_and_the_allowance_left(db: Any, tmp_path: Path) -> None:
    # given a PBX with 4 users, 10 min to CTA1, 2 min to CTA3 and an unknown destination in March
    world = VoiceWorld()
    pbx = world.trunk_pbx(start=date(2025, 2, 3))
    rows = [
        ("it", pbx.serial, datetime(2025, 3, 2, 9, tzinfo=UTC), IT_FIXED, 600, "voice"),
        ("au", pbx.serial, datetime(2025, 3, 2, 10, tzinfo=UTC), AU_FIXED, 120, "voice"),
        ("jp", pbx.serial, datetime(2025, 3, 2, 11, tzinfo=UTC), UNKNOWN, 30, "voice"),
    ]
    main(["import-cdrs", str(portal_csv(tmp_path / "m.csv", rows)), "--format", "csv"])
    client = Client()
    client.force_login(world.user)
    # when the partner opens the usage page of March
    page = client.get(f"/voice/pbxs/{pbx.pk}/usage/?month=2025-03").content.decode()
    # then the chart shows the minutes per area, the allowance left and the record not rated
    assert re.search(r'<td>CTA1</td><td class="num">[^<]*</td><td class="num">10</td>', page)
    assert re.search(r'<td>CTA3</td><td class="num">[^<]*</td><td class="num">2</td>', page)
    assert "left 11990 min" in page
    assert f"unknown destination {UNKNOWN}" in page
