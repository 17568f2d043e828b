"""The PBX agent API (R-LIC-1..3, R-PBX-3, R-EX-3): activation with the PBX key, the PBX's own
credential, licence polling with ETags, firmware reports and activation codes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from pbxportal.accounts.services import api_token_create
from pbxportal.catalog.models import Product
from pbxportal.common.timeutil import vendor_today
from pbxportal.core import activation_code, licence
from pbxportal.licensing import services
from pbxportal.licensing.models import LicenceVersion, PbxCredential
from pbxportal.pbx.models import Pbx, PbxStatus, Subscription
from pbxportal.pbx.services import quantity_change
from tests.expansions.builders import SoftwareWorld

# Today: the PBXs' first invoices are not overdue, so their licences are active (R-INV-5).
START = vendor_today()
AGENT = "/api/v1/pbx-agent"


@pytest.fixture
def world(db: Any) -> SoftwareWorld:
    return SoftwareWorld()


def activate(client: Client, pbx: Pbx) -> str:
    response = client.post(f"{AGENT}/activate", {"pbx_key": pbx.new_pbx_key}, content_type="application/json")
    assert response.status_code == 200, response.content
    return str(response.json()["credential"])


def poll(client: Client, credential: str, etag: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {credential}"}
    if etag:
        headers["If-None-Match"] = etag
    return client.get(f"{AGENT}/licence", headers=headers)


def trusted_keys(client: Client) -> dict[str, Any]:
    body = client.get("/api/v1/licensing/public-key").json()
    return {k["kid"]: licence.public_key_from_pem(k["pem"]) for k in body["keys"]}


def test_a_software_pbx_is_created_with_its_plan_as_a_subscription_and_activates_with_its_key(
    world: SoftwareWorld,
) -> None:
    # given a software PBX on the Enterprise plan
    pbx = world.pbx(name="hotel-one", start=START)
    # then its model is the plan, billed as a subscription, and no deletion countdown starts (R-PBX-9 is per user)
    assert pbx.model.family == "software_plan"
    assert Subscription.objects.get(pbx=pbx).product.code == "PSE-ENTERPRISE"
    assert pbx.zero_users_since is None
    # when the PBX presents its key (R-PBX-3)
    activate(Client(), pbx)
    # then it is active, with a signed licence at version 1
    pbx.refresh_from_db()
    assert pbx.status == PbxStatus.ACTIVE
    assert list(pbx.licence_versions.values_list("version", flat=True)) == [1]


def test_the_served_licence_verifies_with_the_published_key_and_one_changed_byte_fails(
    world: SoftwareWorld,
) -> None:
    # given an activated software PBX and the vendor's published public keys
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    credential = activate(client, pbx)
    keys = trusted_keys(client)
    # when it polls its licence
    response = poll(client, credential)
    wire = response.content
    # then the bytes verify and say the PBX's serial, plan capacity and expiry (R-LIC-1)
    document = licence.verify(wire, keys)
    assert document.pbx_serial == pbx.serial
    assert dict(document.capacity) == {"extensions": 50, "concurrent_calls": 25}
    assert document.services["plan"]["product"] == "PSE-ENTERPRISE"
    assert document.expires_on == pbx.expires_on is not None
    assert document.status == "active"
    assert response["ETag"] == licence.document_etag(wire)
    # and they are the stored bytes exactly
    assert wire == bytes(LicenceVersion.objects.get(pbx=pbx).wire)
    # when any one byte is changed, then verification fails
    for position in (0, len(wire) // 2, len(wire) - 2):
        altered = bytearray(wire)
        altered[position] = ord("A") if altered[position] != ord("A") else ord("B")
        with pytest.raises(licence.LicenceVerificationError):
            licence.verify(bytes(altered), keys)


def test_an_unchanged_licence_answers_304_and_a_change_a_new_version(
    world: SoftwareWorld, django_capture_on_commit_callbacks: Any
) -> None:
    # given an activated PBX that fetched its licence
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    credential = activate(client, pbx)
    first = poll(client, credential)
    # when it polls again with the ETag
    again = poll(client, credential, first["ETag"])
    # then 304, no body
    assert again.status_code == 304
    assert again.content == b""
    # when 10 extensions are added to the PBX (any PBX change re-signs the licence)
    with django_capture_on_commit_callbacks(execute=True):
        quantity_change(
            actor=world.actor, pbx=pbx, product=Product.objects.get(code="PSE-EXT"), quantity=10, today=START
        )
    # then the next poll gets version 2 with 60 extensions
    changed = poll(client, credential, first["ETag"])
    assert changed.status_code == 200
    document = licence.verify(changed.content, trusted_keys(client), min_version=1)
    assert document.version == 2
    assert document.capacity["extensions"] == 60


def test_one_pbx_credential_reads_only_its_own_licence(world: SoftwareWorld) -> None:
    # given two activated PBXs of the same partner
    client = Client()
    one, two = world.pbx(name="hotel-one", start=START), world.pbx(name="hotel-two", start=START)
    credential_one, credential_two = activate(client, one), activate(client, two)
    etag_two = poll(client, credential_two)["ETag"]
    # when PBX one polls, even presenting PBX two's ETag
    response = poll(client, credential_one, etag_two)
    # then it gets its own licence, never a 304 for the other's, never the other's serial
    assert response.status_code == 200
    assert licence.verify(response.content, trusted_keys(client)).pbx_serial == one.serial
    assert two.serial.encode() not in response.content
    # and PBX two's activation code cannot be redeemed by PBX one
    code_two = services.activation_code_reissue(actor=world.actor, pbx_id=two.pk).activation_code
    redeemed = client.post(
        f"{AGENT}/redeem",
        {"code": code_two},
        content_type="application/json",
        headers={"Authorization": f"Bearer {credential_one}"},
    )
    assert redeemed.status_code == 400
    assert redeemed.json()["error"]["code"] == "wrong_activation_code"


def test_partner_credentials_cannot_call_the_agent_api(world: SoftwareWorld) -> None:
    # given an activated PBX, a partner API token and a logged-in partner session
    pbx = world.pbx(name="hotel-one", start=START)
    activate(Client(), pbx)
    _, token = api_token_create(actor=world.actor, name="integration")
    session = Client()
    session.force_login(world.user)
    # when they call the agent API
    with_token = Client().get(f"{AGENT}/licence", headers={"Authorization": f"Bearer {token}"})
    with_session = session.get(f"{AGENT}/licence")
    firmware = session.post(f"{AGENT}/firmware", {"firmware_version": "9.9"}, content_type="application/json")
    # then all are refused as unauthenticated (R-LIC-3)
    for response in (with_token, with_session, firmware):
        assert response.status_code == 401
        assert response.json()["error"]["rule"] == "R-LIC-3"
    # and the partner token still works on the partner API, so it was a real token
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_wrong_pbx_key_is_refused_and_activating_again_replaces_the_credential(
    world: SoftwareWorld,
) -> None:
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    # when an unknown key is presented, then 404 naming R-PBX-3
    wrong = client.post(f"{AGENT}/activate", {"pbx_key": "nope"}, content_type="application/json")
    assert wrong.status_code == 404 and wrong.json()["error"]["rule"] == "R-PBX-3"
    # when the PBX activates twice (reinstalled), then only the newest credential works
    old, new = activate(client, pbx), activate(client, pbx)
    assert poll(client, old).status_code == 401
    assert poll(client, new).status_code == 200
    assert PbxCredential.objects.filter(pbx=pbx).count() == 1


def test_the_firmware_report_sets_the_pbx_version(world: SoftwareWorld) -> None:
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    credential = activate(client, pbx)
    auth = {"Authorization": f"Bearer {credential}"}
    # when the PBX reports 6.2.1, then the PBX row says so (used by R-CO-2)
    ok = client.post(
        f"{AGENT}/firmware", {"firmware_version": "6.2.1"}, content_type="application/json", headers=auth
    )
    assert ok.status_code == 200
    pbx.refresh_from_db()
    assert pbx.firmware_version == "6.2.1"
    # and nonsense is refused
    bad = client.post(
        f"{AGENT}/firmware", {"firmware_version": "beta"}, content_type="application/json", headers=auth
    )
    assert bad.status_code == 400


def redeem(client: Client, credential: str, code: str) -> Any:
    return client.post(
        f"{AGENT}/redeem",
        {"code": code},
        content_type="application/json",
        headers={"Authorization": f"Bearer {credential}"},
    )


def test_an_activation_code_works_once(world: SoftwareWorld) -> None:
    # given an activated PBX and a code for its current licence
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    credential = activate(client, pbx)
    code = services.activation_code_reissue(actor=world.actor, pbx_id=pbx.pk).activation_code
    assert code is not None
    # when it is typed in lower case without dashes, then it returns the signed licence
    first = redeem(client, credential, code.replace("-", "").lower())
    assert first.status_code == 200
    assert licence.verify(first.content, trusted_keys(client)).pbx_serial == pbx.serial
    # when it is used again, then it is refused: a code works once (R-LIC-2)
    second = redeem(client, credential, code)
    assert second.status_code == 409
    assert "used already" in second.json()["error"]["message"]


def test_a_mistyped_code_gets_a_clear_error(world: SoftwareWorld) -> None:
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    credential = activate(client, pbx)
    code = services.activation_code_reissue(actor=world.actor, pbx_id=pbx.pk).activation_code
    assert code is not None
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    # when a code with a typo is redeemed, then the error says what is wrong
    response = redeem(client, credential, typo)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_activation_code"
    assert "check character" in error["message"] and error["rule"] == "R-LIC-2"


def test_wrong_codes_are_slowed_down_then_locked_out(world: SoftwareWorld, settings: Any) -> None:
    settings.LICENCE_CODE_MAX_FAILURES = 3
    settings.LICENCE_CODE_LOCKOUT_MINUTES = 60
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    credential = activate(client, pbx)
    good = services.activation_code_reissue(actor=world.actor, pbx_id=pbx.pk).activation_code
    assert good is not None
    now = timezone.now()
    with time_machine.travel(now, tick=False) as clock:
        # when a well-formed but wrong code is tried
        assert redeem(client, credential, activation_code.new_code()).status_code == 400
        # then an immediate retry, even with the right code, must wait (backoff)
        slowed = redeem(client, credential, good)
        assert slowed.status_code == 429 and "wait" in slowed.json()["error"]["message"]
        # when two more wrong codes are tried, each after its wait
        clock.shift(timedelta(seconds=2))
        assert redeem(client, credential, activation_code.new_code()).status_code == 400
        clock.shift(timedelta(seconds=3))
        assert redeem(client, credential, activation_code.new_code()).status_code == 400
        # then the PBX is locked out, even for the right code, until the lock-out ends
        clock.shift(timedelta(minutes=30))
        locked = redeem(client, credential, good)
        assert locked.status_code == 429 and "locked out" in locked.json()["error"]["message"]
        clock.shift(timedelta(minutes=31))
        assert redeem(client, credential, good).status_code == 200


def test_after_a_key_rotation_the_next_sync_re_signs_with_the_new_key_and_publishes_both(
    world: SoftwareWorld, settings: Any, tmp_path: Any
) -> None:
    from pbxportal.licensing.keys import reset_key_cache, signing_key

    # given an activated PBX whose licence is signed with the current key
    client = Client()
    pbx = world.pbx(name="hotel-one", start=START)
    credential = activate(client, pbx)
    old_kid = signing_key().key_id
    old_public = licence.public_key_to_pem(signing_key().private_key.public_key())
    # when the signer switches to a new key and the old public key stays published
    new_key = tmp_path / "new.pem"
    new_key.write_bytes(licence.private_key_to_pem(licence.generate_key()))
    published = tmp_path / "published.pem"
    published.write_bytes(old_public)
    settings.LICENCE_SIGNING_KEY_FILE, settings.LICENCE_PUBLISHED_KEYS_FILE = str(new_key), str(published)
    reset_key_cache()
    try:
        keys = trusted_keys(client)
        # then both keys are published, the new one signing
        assert set(keys) == {old_kid, signing_key().key_id} and old_kid != signing_key().key_id
        # and the next sync re-signs the unchanged licence with the new key (version 2)
        services.licence_sync_all(day=START)
        response = poll(client, credential)
        assert json.loads(response.content)["kid"] == signing_key().key_id
        assert licence.verify(response.content, keys).version == 2
    finally:
        reset_key_cache()
