"""Idempotency records keep no secret in replayable form (issue 13 item 5, R-API-2): an answer
holding an API token or a PBX credential is withheld (replay refused with a 409 in the error
shape), anonymous callers are scoped by address, records expire after 24 h by the clock, and an
upload with an Idempotency-Key streams up to the endpoint's own limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.utils import timezone

from pbxportal.accounts.models import Customer, User
from pbxportal.common.idempotency import purge_expired
from pbxportal.common.models import IdempotencyRecord
from pbxportal.common.timeutil import vendor_today
from tests.common.test_errors import _error
from tests.expansions.builders import SoftwareWorld

AGENT = "/api/v1/pbx-agent"


def _clear_anywhere(secret: str) -> list[str]:
    """Every stored text or bytes value, of every model, that holds ``secret``."""
    found = []
    needle = secret.encode()
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.BinaryField | models.JSONField)
        ]
        for row in model.objects.values_list("pk", *[f.attname for f in fields]):
            for field, value in zip(fields, row[1:], strict=True):
                if value is None:
                    continue
                data = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                if needle in data:
                    found.append(f"{model._meta.label}.{field.name} #{row[0]}")
    return found


def test_a_new_api_token_is_never_kept_and_its_replay_is_refused(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    # given a partner creating an API token with an Idempotency-Key
    client = client_for(user_a)
    first = client.post(
        "/api/v1/api-tokens", {"name": "ci"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="t1"
    )
    assert first.status_code == 201
    token = first.json()["token"]
    # when the same request is replayed
    replay = client.post(
        "/api/v1/api-tokens", {"name": "ci"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="t1"
    )
    # then a 409 in the error shape (R-API-2), without the token, and nothing stores it in clear
    assert replay.status_code == 409
    assert _error(replay)["rule"] == "R-API-2"
    assert token not in replay.content.decode()
    assert _clear_anywhere(token) == []
    assert IdempotencyRecord.objects.get(key="t1").withheld


@pytest.mark.django_db
def test_an_activation_replay_gives_nobody_the_credential() -> None:
    # given a software PBX and a first activation with a key from one address
    world = SoftwareWorld()
    pbx = world.pbx(name="hotel-one", start=vendor_today())
    body = {"pbx_key": pbx.new_pbx_key}
    first = Client(REMOTE_ADDR="10.0.0.1").post(
        f"{AGENT}/activate", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert first.status_code == 200
    credential = first.json()["credential"]
    # when the same key and body come again, from another address and from the same one
    other = Client(REMOTE_ADDR="10.0.0.2").post(
        f"{AGENT}/activate", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    same = Client(REMOTE_ADDR="10.0.0.1").post(
        f"{AGENT}/activate", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    # then neither receives the first credential: another address is its own scope (a new
    # activation), the same address a 409; and no table keeps a credential in clear
    assert credential not in other.content.decode()
    assert other.status_code == 200 and other.json()["credential"] != credential
    assert same.status_code == 409 and credential not in same.content.decode()
    for secret in (credential, other.json()["credential"]):
        assert _clear_anywhere(secret) == []


@pytest.mark.django_db
def test_a_pbx_key_is_shown_once_and_kept_nowhere_in_clear() -> None:
    # given a partner creating a software PBX (it activates with its PBX key) with an Idempotency-Key
    world = SoftwareWorld()
    client = Client()
    client.force_login(world.user)
    body = {
        "customer_id": world.customer.pk,
        "model_code": "PSE-ENTERPRISE",
        "name": "hotel-key",
        "term": "yearly",
        "licences": {},
    }
    first = client.post("/api/v1/pbx/pbxs", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="p")
    assert first.status_code == 201, first.content
    key = first.json()["pbx"]["pbx_key"]
    assert key and len(key) > 20
    # when the request is replayed, and the PBX read again
    replay = client.post("/api/v1/pbx/pbxs", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="p")
    read = client.get(f"/api/v1/pbx/pbxs/{first.json()['pbx']['id']}")
    # then neither answer holds the key, no table keeps it in clear, and it still activates the PBX
    assert replay.status_code == 409 and key not in replay.content.decode()
    assert read.json()["pbx_key"] is None and read.json()["pbx_key_prefix"] == key[:6]
    assert _clear_anywhere(key) == []
    activated = Client().post(f"{AGENT}/activate", {"pbx_key": key}, content_type="application/json")
    assert activated.status_code == 200, activated.content
    # and no PBX of the database holds a key that activates it: only digests are stored
    for world_pbx in (world.pbx(name="hotel-two", start=vendor_today()),):
        assert _clear_anywhere(world_pbx.new_pbx_key) == []


def test_a_record_expires_after_24_hours_by_the_clock(
    user_a: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user_a)
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=25), tick=False):
        first = client.post(
            "/api/v1/customers",
            {"name": "A", "country": "IT"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="old",
        )
    assert first.status_code == 201
    # when the key is used again 25 hours later with another body
    again = client.post(
        "/api/v1/customers",
        {"name": "B", "country": "IT"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    # then it is a new request (not a 409), and the purge removes what has expired
    assert again.status_code == 201, again.content
    assert Customer.objects.filter(name="B").exists()
    with time_machine.travel(now - timedelta(hours=25), tick=False):
        client.post(
            "/api/v1/customers",
            {"name": "C", "country": "IT"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="older",
        )
    assert purge_expired(timezone.now()) == 1
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"old"}


def test_an_upload_over_2_5_mb_with_an_idempotency_key_is_accepted(
    user_a: User, customer_a: Customer, client_for: Callable[[User], Client], settings: Any, tmp_path: Any
) -> None:
    # given a 4 MB signed agreement (the endpoint allows 10 MB) and an Idempotency-Key
    settings.MEDIA_ROOT = str(tmp_path)
    pdf = b"%PDF-1.4\n" + b"0" * (4 * 1024 * 1024) + b"\n%%EOF\n"
    client = client_for(user_a)

    def upload() -> Any:
        return client.post(
            "/api/v1/hardware/agreements",
            {"customer_id": customer_a.pk, "file": SimpleUploadedFile("a.pdf", pdf, "application/pdf")},
            HTTP_IDEMPOTENCY_KEY="up",
        )

    first = upload()
    # then it is accepted, and the same upload again is the same answer
    assert first.status_code == 201, first.content[:300]
    replay = upload()
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
