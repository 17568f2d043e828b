"""A ``stripe.HTTPClient`` that plays the recorded Checkout Session exchange: every request the
official library sends is checked against the recording and answered with the recorded response;
anything else fails the test (no test reaches Stripe's network)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import stripe

RECORDED = Path(__file__).parent / "recorded" / "stripe_checkout_session_create.json"


class RecordedStripe(stripe.HTTPClient):
    name = "recorded"

    def __init__(self) -> None:
        super().__init__()
        self.recording = json.loads(RECORDED.read_text())
        self.requests: list[dict[str, Any]] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, **_: Any
    ) -> tuple[str, int, Mapping[str, str]]:
        expected = self.recording["request"]
        assert (method, url) == (expected["method"], expected["url"]), (method, url)
        form = dict(parse_qsl(post_data or ""))
        values = {
            "client_reference_id": form["client_reference_id"],
            "currency": form["line_items[0][price_data][currency]"],
            "amount_total": form["line_items[0][price_data][unit_amount]"],
        }
        for key, template in expected["expect_form"].items():
            assert form.get(key) == template.format(**values), (key, form.get(key))
        assert (
            headers is not None
            and headers.get("Idempotency-Key") == f"checkout-{values['client_reference_id']}"
        )
        self.requests.append({"headers": dict(headers), "form": form})
        body = json.dumps(self.recording["response"]["body"])
        for key, value in values.items():
            body = body.replace(f'"{{{key}}}"', json.dumps(int(value) if key == "amount_total" else value))
        response = self.recording["response"]
        return body, response["status"], response["headers"]

    def close(self) -> None:
        pass
