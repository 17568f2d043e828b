"""Upper bounds (issue 13 item 2): each product's maximum quantity is catalog data (R-CAT-1), and
every path that sets a quantity refuses more with the rule id, before anything is invoiced."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine
from django.test import Client

from pbxportal.catalog.loader import DEFAULT_MAX_QUANTITY, load_catalog
from pbxportal.catalog.models import Product
from pbxportal.common.errors import RuleViolation
from pbxportal.demo.seed import CATALOGS
from pbxportal.hardware import services as hardware_services
from pbxportal.invoicing.models import Invoice
from pbxportal.pbx.models import Subscription
from tests.hardware.helpers import accepted_agreement
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db

DAY = date(2024, 3, 4)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def client(world: World) -> Client:
    client = Client()
    client.force_login(world.user)
    return client


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_licence_change_to_two_billion_is_refused_by_the_catalog_maximum(
    world: World, client: Client
) -> None:
    # given a yearly PBX and UC-Business allowing at most 10,000 users
    with time_machine.travel(datetime.combine(DAY, time(10), tzinfo=UTC), tick=False):
        pbx = world.pbx(term="yearly", start=DAY)
        invoices = Invoice.objects.count()
        body = {"profile": "UC-BUSINESS", "quantity": 2_000_000_000}
        # when the partner previews and then orders 2,000,000,000 users
        preview = post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/licences/preview", body)
        change = post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/licences", body)
    # then both are refused with the rule id and no invoice is issued
    for response in (preview, change):
        assert response.status_code == 422, response.content
        error = response.json()["error"]
        assert error["rule"] == "R-CAT-1" and "quantity" in error["fields"]
        assert "10,000" in error["message"]
    assert Invoice.objects.count() == invoices
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 4


def test_the_maximum_itself_is_allowed(world: World, client: Client) -> None:
    Product.objects.filter(code="UC-BUSINESS").update(max_quantity=20)
    with time_machine.travel(datetime.combine(DAY, time(10), tzinfo=UTC), tick=False):
        pbx = world.pbx(term="yearly", start=DAY)
        at_max = post(
            client, f"/api/v1/pbx/pbxs/{pbx.pk}/licences/preview", {"profile": "UC-BUSINESS", "quantity": 20}
        )
        over = post(
            client, f"/api/v1/pbx/pbxs/{pbx.pk}/licences/preview", {"profile": "UC-BUSINESS", "quantity": 21}
        )
    assert at_max.status_code == 200, at_max.content
    assert over.status_code == 422 and over.json()["error"]["rule"] == "R-CAT-1"


def test_a_new_pbx_with_too_many_licences_or_storage_is_refused(world: World, client: Client) -> None:
    body = {
        "customer_id": world.customer.pk,
        "model_code": "WPBX-CLOUD",
        "term": "yearly",
        "region": "eu-west",
        "name": "acme",
        "licences": {"UC-BUSINESS": 10_001},
    }
    with time_machine.travel(datetime.combine(DAY, time(10), tzinfo=UTC), tick=False):
        licences = post(client, "/api/v1/pbx/pbxs/preview", body)
        storage = post(
            client, "/api/v1/pbx/pbxs", {**body, "licences": {"UC-BUSINESS": 1}, "storage_blocks": 10**6}
        )
    assert licences.status_code == 422 and licences.json()["error"]["rule"] == "R-CAT-1"
    assert "licences.UC-BUSINESS" in licences.json()["error"]["fields"]
    assert storage.status_code == 422 and storage.json()["error"]["rule"] == "R-CAT-1"
    assert "storage_blocks" in storage.json()["error"]["fields"]


def test_a_hwaas_cart_line_above_the_device_maximum_is_refused(
    world: World, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    Product.objects.filter(code="HW-PHONE").update(max_quantity=5)
    with time_machine.travel(datetime.combine(DAY, time(10), tzinfo=UTC), tick=False):
        pbx = world.pbx(term="yearly", start=DAY)
        accepted_agreement(world)
        order = hardware_services.order_create(actor=world.actor, pbx_id=pbx.pk)
        with pytest.raises(RuleViolation) as refused:
            hardware_services.order_line_set(
                actor=world.actor, order_id=order.pk, product_code="HW-PHONE", quantity=6
            )
    assert refused.value.rule == "R-CAT-1"


def test_the_catalog_loader_reads_max_quantity_and_the_demo_catalog_sets_it() -> None:
    load_catalog(CATALOGS / "per_user")
    assert Product.objects.get(code="UC-BUSINESS").max_quantity == 10_000
    assert Product.objects.get(code="CLOUD-STORAGE-50").max_quantity == 1_000
    assert DEFAULT_MAX_QUANTITY == 10_000
