"""One rule, every path (issue 13 item 7): a service order's preview refuses exactly what the real
order refuses — HWaaS without an accepted agreement (R-HW-2) through the PBX services endpoint,
auto-renew switched off where it is not optional (R-EX-4) — checked over every service family."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pbxportal.hardware.models import HwaasAgreement
from pbxportal.invoicing.models import Invoice
from pbxportal.pbx.models import Pbx, Subscription
from tests.hardware.helpers import accepted_agreement
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db

DAY = date(2024, 3, 4)
SERVICE_CODES = ["STORAGE-50", "HW-PHONE", "PSE-PMS"]


def _at_day() -> Any:
    return time_machine.travel(datetime.combine(DAY, time(10), tzinfo=UTC), tick=False)


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _setup() -> tuple[World, Pbx, Client]:
    world = World()
    with _at_day():
        pbx = world.pbx(term="yearly", start=DAY)
    client = Client()
    client.force_login(world.user)
    return world, pbx, client


def test_hwaas_through_the_pbx_services_endpoint_needs_an_accepted_agreement(
    settings: Any, tmp_path: Any
) -> None:
    # given a PBX whose customer has no accepted HWaaS agreement
    settings.MEDIA_ROOT = str(tmp_path)
    world, pbx, client = _setup()
    invoices = Invoice.objects.count()
    body = {"product_code": "HW-PHONE", "quantity": 2}
    with _at_day():
        # when a device is ordered as a PBX service (preview and order)
        preview = _post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services/preview", body)
        order = _post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services", body)
    # then both are refused by R-HW-2 and nothing is sold
    for response in (preview, order):
        assert response.status_code == 422, response.content
        assert response.json()["error"]["rule"] == "R-HW-2"
    assert not Subscription.objects.filter(pbx=pbx, product__code="HW-PHONE").exists()
    assert Invoice.objects.count() == invoices
    # and once the agreement is accepted, the same order goes through
    accepted_agreement(world)
    with _at_day():
        assert _post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services", body).status_code == 201


def test_the_preview_refuses_auto_renew_off_as_the_order_does() -> None:
    _, pbx, client = _setup()
    body = {"product_code": "STORAGE-50", "quantity": 1, "auto_renew": False}
    with _at_day():
        preview = _post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services/preview", body)
        order = _post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services", body)
    assert preview.status_code == order.status_code == 422
    assert preview.json()["error"]["rule"] == order.json()["error"]["rule"] == "R-EX-4"


def test_preview_and_order_answer_alike_over_the_service_families(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    world = World()
    client = Client()
    client.force_login(world.user)
    names = iter(range(10_000))

    @hypothesis_settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(
        code=st.sampled_from(SERVICE_CODES),
        quantity=st.integers(min_value=0, max_value=12_000),
        auto_renew=st.booleans(),
        agreement=st.booleans(),
    )
    def check(code: str, quantity: int, auto_renew: bool, agreement: bool) -> None:
        # given a fresh PBX, its customer with or without an accepted HWaaS agreement
        HwaasAgreement.objects.filter(customer=world.customer).delete()
        if agreement:
            accepted_agreement(world)
        with _at_day():
            pbx = world.pbx(term="yearly", start=DAY, name=f"prop-{next(names)}")
            body = {"product_code": code, "quantity": quantity, "auto_renew": auto_renew}
            # when the same order is previewed and then placed
            preview = _post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services/preview", body)
            order = _post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services", body)
        # then a refused preview means a refused order by the same rule, and an accepted preview
        # an accepted order with the previewed lines (R-CO-4)
        if preview.status_code == 200:
            assert order.status_code == 201, (preview.content, order.content)
            assert order.json()["lines"] == preview.json()["lines"]
        else:
            assert order.status_code == preview.status_code, (preview.content, order.content)
            assert order.json()["error"]["rule"] == preview.json()["error"]["rule"]

    check()
