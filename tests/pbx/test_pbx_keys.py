"""PBX keys are credentials (issue 13, R-PBX-3): only a digest and a short prefix are stored; the
key is shown once (at creation, or when a new one is generated, which invalidates the old one);
existing keys are digested by the migration."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from pbxportal.pbx.keys import pbx_key_digest
from pbxportal.pbx.models import Pbx
from tests.expansions.builders import SoftwareWorld
from tests.pbx.builders import World

AGENT = "/api/v1/pbx-agent"


def activate(key: str) -> Any:
    return Client().post(f"{AGENT}/activate", {"pbx_key": key}, content_type="application/json")


@pytest.mark.django_db
def test_a_new_key_is_shown_once_and_the_old_one_stops_working() -> None:
    # given a software PBX created with its key
    world = SoftwareWorld()
    pbx = world.pbx(name="hotel-one", start=date(2026, 3, 2))
    old = pbx.new_pbx_key
    client = Client()
    client.force_login(world.user)
    # when the partner generates a new key through the API (with an Idempotency-Key)
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/pbx-key"
    response = client.post(url, content_type="application/json", HTTP_IDEMPOTENCY_KEY="regen")
    replay = client.post(url, content_type="application/json", HTTP_IDEMPOTENCY_KEY="regen")
    # then the answer shows the new key once (a replay does not), the old key is refused, the new activates
    assert response.status_code == 200, response.content
    new = response.json()["pbx_key"]
    assert new and new != old and response.json()["pbx_key_prefix"] == new[:6]
    assert replay.status_code == 409 and new not in replay.content.decode()
    assert activate(old).status_code == 404
    assert activate(new).status_code == 200
    stored = Pbx.objects.get(pk=pbx.pk)
    assert stored.pbx_key_digest == pbx_key_digest(new) and new not in stored.pbx_key_digest


@pytest.mark.django_db
def test_the_pbx_page_generates_a_key_shown_on_that_answer_only() -> None:
    world = World()
    pbx = world.pbx(start=date(2026, 3, 2))
    client = Client()
    client.force_login(world.user)
    # when the partner asks for a new key on the PBX page
    answer = client.post(f"/pbxs/{pbx.pk}/pbx-key/")
    key = Pbx.objects.get(pk=pbx.pk).pbx_key_prefix
    page = answer.content.decode()
    # then the answer shows it (not cacheable); the page read again shows only its prefix
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert 'id="pbx-key"' in page and pbx.new_pbx_key not in page
    shown = page.split('id="pbx-key"')[1].split('value="')[1].split('"')[0]
    assert shown.startswith(key) and activate(shown).status_code == 200
    again = client.get(f"/pbxs/{pbx.pk}/").content.decode()
    assert shown not in again and key in again


@pytest.mark.django_db
def test_a_cloud_pbx_has_no_key_to_generate() -> None:
    world = World()
    pbx = world.pbx(start=date(2026, 3, 2), cloud=True)
    client = Client()
    client.force_login(world.user)
    response = client.post(f"/api/v1/pbx/pbxs/{pbx.pk}/pbx-key", content_type="application/json")
    assert response.status_code == 422 and response.json()["error"]["rule"] == "R-PBX-3"


@pytest.mark.django_db(transaction=True)
def test_the_migration_digests_existing_keys_and_drops_them() -> None:
    # given the schema before the migration with a PBX whose key is in clear
    world = World()
    pbx = world.pbx(start=date(2026, 3, 2))
    executor = MigrationExecutor(connection)
    executor.migrate([("pbx", "0001_initial")])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pbx_pbx SET pbx_key = %s WHERE id = %s", ["old-key-in-clear", pbx.pk])
    # when the migration runs
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then only the digest and the prefix remain, and the old key still activates the PBX
    stored = Pbx.objects.get(pk=pbx.pk)
    assert stored.pbx_key_digest == pbx_key_digest("old-key-in-clear") and stored.pbx_key_prefix == "old-ke"
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, "pbx_pbx")]
    assert "pbx_key" not in columns
    assert activate("old-key-in-clear").status_code == 200
