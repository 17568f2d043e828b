from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from pbxportal.invoicing.models import Invoice
from tests.pbx.builders import World

RECORDED = Path(__file__).parent / "recorded"
RECORDED_AT = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
START = date(2025, 3, 10)


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text())
    return data


@pytest.fixture
def provider_secrets(settings: Any) -> None:
    settings.PAYMENT_CARD_WEBHOOK_SECRET = "whsec_recorded_test"
    settings.PAYMENT_PAYPAL_WEBHOOK_SECRET = "paypal_recorded_secret"
    settings.PAYMENT_PAYPAL_WEBHOOK_ID = "WH-RECORDED"


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(RECORDED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def billed(db: Any, frozen: Any) -> tuple[World, Invoice]:
    """A partner with one issued invoice of 480.00 EUR (4 yearly UC-Business users)."""
    world = World()
    pbx = world.pbx(start=START)
    invoice = Invoice.objects.get(pbx=pbx)
    assert invoice.total == 480
    return world, invoice
