"""Signed licence documents (R-LIC-1): canonical JSON, Ed25519 signing, verification, rotation."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from pbxportal.core.licence import (
    LicenceDocument,
    LicenceVerificationError,
    SignedLicence,
    canonical_json,
    document_etag,
    etag_matches,
    generate_key,
    parse_canonical_json,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_pem,
    public_key_id,
    public_key_to_pem,
    sign,
    to_wire,
    verify,
)

# One key for the whole module: generating keys is cheap, but hypothesis runs many examples.
KEY = generate_key()
KID = public_key_id(KEY.public_key())
TRUSTED: dict[str, Ed25519PublicKey] = {KID: KEY.public_key()}


def make_doc(**overrides: Any) -> LicenceDocument:
    fields: dict[str, Any] = {
        "pbx_serial": "WPBX-0001-ABCD",
        "version": 3,
        "issued_at": datetime(2025, 5, 15, 10, 0, tzinfo=UTC),
        "expires_on": date(2026, 5, 15),
        "status": "active",
        "capacity": {"UC-Business": 4, "extensions": 50, "concurrent_calls": 10},
        "services": {
            "hot_standby": {"quantity": 1, "expires_on": "2026-05-15"},
            "voice_trunk": {"bundle": "CTA1", "auto_renew": True, "note": None},
        },
        "reasons": (),
    }
    fields.update(overrides)
    return LicenceDocument(**fields)


def signed_wire(doc: LicenceDocument | None = None, key: Ed25519PrivateKey = KEY, kid: str = KID) -> bytes:
    return to_wire(sign(doc or make_doc(), key, kid))


def rewrap(wire: bytes, **changes: Any) -> bytes:
    """The envelope of ``wire`` with some members replaced, re-serialised canonically."""
    envelope = json.loads(wire)
    envelope.update(changes)
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------


def test_sign_then_verify_returns_the_same_document() -> None:
    # given a licence document signed with the vendor key
    doc = make_doc()
    wire = signed_wire(doc)

    # when a PBX verifies it with the public key
    verified = verify(wire, TRUSTED)

    # then it gets the very same document back
    assert verified == doc
    assert verified.capacity["UC-Business"] == 4
    assert verified.services["hot_standby"]["quantity"] == 1


def test_wire_form_is_the_documented_envelope() -> None:
    # given a signed licence
    signed = sign(make_doc(), KEY, KID)

    # when it is put on the wire
    wire = to_wire(signed)

    # then it is the compact, sorted four-member envelope over the canonical payload
    envelope = json.loads(wire)
    assert list(envelope) == ["alg", "kid", "payload", "sig"]
    assert envelope["alg"] == "Ed25519"
    assert envelope["kid"] == KID
    assert envelope["payload"] == b64(canonical_json(signed.document))
    assert envelope["sig"] == b64(signed.signature)
    assert b" " not in wire and b"=" not in wire
    KEY.public_key().verify(signed.signature, canonical_json(signed.document))  # raw Ed25519 over payload


@pytest.mark.parametrize(
    ("expires_on", "status", "reasons"),
    [
        pytest.param(None, "active", (), id="lifetime"),
        pytest.param(date(2026, 2, 28), "suspended", ("overdue:suspended",), id="suspended-by-overdue"),
        pytest.param(date(2026, 2, 28), "stopped", ("deletion:countdown",), id="stopped"),
    ],
)
def test_round_trip_keeps_expiry_status_and_reasons(
    expires_on: date | None, status: str, reasons: tuple[str, ...]
) -> None:
    # given a document with this expiry and status
    doc = make_doc(expires_on=expires_on, status=status, reasons=reasons)

    # when signed and verified
    verified = verify(signed_wire(doc), TRUSTED)

    # then expiry, status and reasons survive
    assert (verified.expires_on, verified.status, verified.reasons) == (expires_on, status, reasons)


_keys = st.text(min_size=1, max_size=12)
_json_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)
documents = st.builds(
    LicenceDocument,
    pbx_serial=st.text(min_size=1, max_size=20).filter(str.strip),
    version=st.integers(1, 2**40),
    # hypothesis wants naive bounds and adds the timezone itself
    issued_at=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    expires_on=st.none() | st.dates(),
    status=st.sampled_from(["active", "suspended", "stopped"]),
    capacity=st.dictionaries(_keys, st.integers(0, 100_000), max_size=5),
    services=st.dictionaries(_keys, st.dictionaries(_keys, _json_values, max_size=3), max_size=3),
    reasons=st.lists(st.text(max_size=20), max_size=3).map(tuple),
)


@settings(max_examples=200)
@given(doc=documents)
def test_any_document_round_trips_through_canonical_json_and_the_wire(doc: LicenceDocument) -> None:
    # given any valid document (unicode text, nested attributes, microsecond instants)
    # when serialised and parsed back, or signed and verified
    # then nothing is lost
    assert parse_canonical_json(canonical_json(doc)) == doc
    assert verify(signed_wire(doc), TRUSTED) == doc


# --------------------------------------------------------------------------------------
# Canonical JSON
# --------------------------------------------------------------------------------------


def test_canonical_json_is_compact_sorted_and_versioned() -> None:
    # given a document whose mappings were built out of order
    doc = make_doc(capacity={"b": 2, "a": 1}, services={"z": {"y": 1, "x": date(2026, 1, 31)}})

    # when canonicalised
    text = canonical_json(doc).decode("utf-8")

    # then keys are sorted at every level, there is no whitespace, dates are ISO
    assert text == (
        '{"capacity":{"a":1,"b":2},"expires_on":"2026-05-15","issued_at":"2025-05-15T10:00:00Z",'
        '"pbx_serial":"WPBX-0001-ABCD","reasons":[],"services":{"z":{"x":"2026-01-31","y":1}},'
        '"status":"active","v":1,"version":3}'
    )


@given(
    capacity=st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 999), max_size=6),
    services=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 9), max_size=4),
        max_size=4,
    ),
)
def test_canonical_json_does_not_depend_on_dict_ordering(
    capacity: dict[str, int], services: dict[str, dict[str, int]]
) -> None:
    # given the same content inserted in two different orders
    def reversed_dict(mapping: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: reversed_dict(v) if isinstance(v, Mapping) else v for k, v in reversed(list(mapping.items()))
        }

    one = make_doc(capacity=capacity, services=services)
    other = make_doc(capacity=reversed_dict(capacity), services=reversed_dict(services))

    # when canonicalised
    # then the bytes, the documents, their hashes and the ETags of the signed forms agree
    assert canonical_json(one) == canonical_json(other)
    assert one == other and hash(one) == hash(other)
    assert document_etag(signed_wire(one)) == document_etag(signed_wire(other))


def test_canonical_json_keeps_non_ascii_as_utf8() -> None:
    # given a serial with non-ASCII text
    doc = make_doc(pbx_serial="Zürich-Ω")

    # when canonicalised
    # then it is raw UTF-8, not \\u escapes
    assert "Zürich-Ω".encode() in canonical_json(doc)


def test_issued_at_is_normalised_to_utc() -> None:
    # given the same instant expressed in UTC+2
    local = datetime(2025, 5, 15, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    # when used as issued_at
    doc = make_doc(issued_at=local)

    # then it is stored and serialised in UTC
    assert doc.issued_at.tzinfo is UTC and doc == make_doc()
    assert b'"issued_at":"2025-05-15T10:00:00Z"' in canonical_json(doc)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"issued_at": datetime(2025, 5, 15, 10, 0)}, ValueError, id="naive-issued-at"),  # noqa: DTZ001
        pytest.param({"expires_on": datetime(2026, 5, 15, tzinfo=UTC)}, TypeError, id="datetime-expiry"),
        pytest.param({"version": 0}, ValueError, id="version-zero"),
        pytest.param({"version": True}, TypeError, id="bool-version"),
        pytest.param({"pbx_serial": " "}, ValueError, id="blank-serial"),
        pytest.param({"status": "Active!"}, ValueError, id="bad-status"),
        pytest.param({"capacity": {"extensions": -1}}, ValueError, id="negative-capacity"),
        pytest.param({"capacity": {"extensions": 1.5}}, TypeError, id="float-capacity"),
        pytest.param({"capacity": {"extensions": 2**60}}, ValueError, id="unsafe-integer"),
        pytest.param({"services": {"trunk": {"price": 9.99}}}, TypeError, id="float-attribute"),
        pytest.param({"services": {"trunk": 1}}, TypeError, id="attributes-not-a-mapping"),
        pytest.param({"reasons": "overdue"}, TypeError, id="reasons-a-string"),
        pytest.param({"pbx_serial": "\ud800"}, ValueError, id="lone-surrogate"),
    ],
)
def test_invalid_documents_are_refused_at_construction(
    overrides: dict[str, Any], error: type[Exception]
) -> None:
    # given a field value no licence may carry
    # when a document is built with it
    # then construction fails, before anything gets signed
    with pytest.raises(error):
        make_doc(**overrides)


def test_document_is_immutable() -> None:
    # given a document
    doc = make_doc()

    # when something tries to change its capacity or services
    # then it cannot: the mappings are read-only copies
    with pytest.raises(TypeError):
        doc.capacity["extensions"] = 999  # type: ignore[index]
    with pytest.raises(TypeError):
        doc.services["hot_standby"]["quantity"] = 2  # type: ignore[index]
    with pytest.raises(AttributeError):
        doc.version = 4  # type: ignore[misc]


def test_document_does_not_alias_the_callers_dicts() -> None:
    # given a document built from a mutable dict
    capacity = {"extensions": 50}
    doc = make_doc(capacity=capacity)

    # when the caller changes its dict afterwards
    capacity["extensions"] = 999

    # then the document is unaffected
    assert doc.capacity["extensions"] == 50


# --------------------------------------------------------------------------------------
# Tampering
# --------------------------------------------------------------------------------------

WIRE = signed_wire()


def test_every_single_bit_flip_anywhere_in_the_wire_is_rejected() -> None:
    # given a valid wire licence
    assert verify(WIRE, TRUSTED)

    # when any one bit of any byte is flipped (exhaustively: envelope, payload, signature)
    # then verification fails every time
    for position in range(len(WIRE)):
        for bit in range(8):
            tampered = bytearray(WIRE)
            tampered[position] ^= 1 << bit
            with pytest.raises(LicenceVerificationError):
                verify(bytes(tampered), TRUSTED)


@settings(max_examples=500)
@given(data=st.data())
def test_any_byte_replaced_anywhere_in_the_wire_is_rejected(data: st.DataObject) -> None:
    # given a valid wire licence, a position and a different byte value
    position = data.draw(st.integers(0, len(WIRE) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != WIRE[position]), label="value")

    # when that byte is replaced
    tampered = WIRE[:position] + bytes([value]) + WIRE[position + 1 :]

    # then verification fails
    with pytest.raises(LicenceVerificationError):
        verify(tampered, TRUSTED)


@settings(max_examples=300)
@given(data=st.data())
def test_any_byte_changed_in_decoded_payload_or_signature_is_rejected(data: st.DataObject) -> None:
    # given the decoded payload and signature of a valid licence
    signed = sign(make_doc(), KEY, KID)
    field = data.draw(st.sampled_from(["payload", "sig"]), label="field")
    raw = bytearray(signed.payload if field == "payload" else signed.signature)
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    raw[position] ^= data.draw(st.integers(1, 255), label="mask")

    # when one byte is changed and the envelope re-encoded properly (an attacker's best try)
    tampered = rewrap(to_wire(signed), **{field: b64(bytes(raw))})

    # then the signature no longer verifies
    with pytest.raises(LicenceVerificationError):
        verify(tampered, TRUSTED)


def test_changed_capacity_with_the_original_signature_is_rejected() -> None:
    # given a licence for 4 users, re-written by someone to say 400
    signed = sign(make_doc(), KEY, KID)
    forged = canonical_json(make_doc(capacity={"UC-Business": 400, "extensions": 50, "concurrent_calls": 10}))

    # when the forged payload is sent with the original signature
    # then it is refused as altered
    with pytest.raises(LicenceVerificationError, match="altered"):
        verify(rewrap(to_wire(signed), payload=b64(forged)), TRUSTED)


def test_signature_by_another_key_under_the_trusted_kid_is_rejected() -> None:
    # given a licence signed by an attacker's key but labelled with the vendor's key id
    wire = signed_wire(key=generate_key(), kid=KID)

    # when verified
    # then it fails
    with pytest.raises(LicenceVerificationError, match="altered"):
        verify(wire, TRUSTED)


def test_unknown_kid_is_rejected() -> None:
    # given a licence signed with a key the PBX does not trust
    other = generate_key()
    wire = signed_wire(key=other, kid=public_key_id(other.public_key()))

    # when verified against the vendor's keys
    # then it fails naming the key id
    with pytest.raises(LicenceVerificationError, match="unknown key id"):
        verify(wire, TRUSTED)


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        pytest.param(b"", "not valid JSON", id="empty"),
        pytest.param(b"not json", "not valid JSON", id="not-json"),
        pytest.param(b"\xff\xfe", "not valid JSON", id="not-utf8"),
        pytest.param(b"[]", "exactly alg, kid, payload and sig", id="array"),
        pytest.param(rewrap(WIRE, alg="EdDSA"), "unsupported algorithm", id="other-alg"),
        pytest.param(rewrap(WIRE, alg="none"), "unsupported algorithm", id="alg-none"),
        pytest.param(rewrap(WIRE, kid=7), "malformed key id", id="kid-not-a-string"),
        pytest.param(rewrap(WIRE, extra=1), "exactly alg, kid, payload and sig", id="extra-member"),
        pytest.param(rewrap(WIRE, sig=json.loads(WIRE)["sig"] + "=="), "base64url", id="padded-sig"),
        pytest.param(rewrap(WIRE, sig=""), "wrong length", id="empty-sig"),
        pytest.param(WIRE + b"\n", "not valid JSON|canonical", id="trailing-newline"),
        pytest.param(WIRE.replace(b",", b", ", 1), "canonical", id="extra-whitespace"),
        pytest.param(WIRE[:-1] + b',"alg":"Ed25519"}', "duplicate key", id="duplicate-member"),
    ],
)
def test_malformed_wire_is_rejected(wire: bytes, message: str) -> None:
    # given a wire licence that is not the canonical envelope
    # when verified
    # then it fails with a message saying what is wrong
    with pytest.raises(LicenceVerificationError, match=message):
        verify(wire, TRUSTED)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(b'{"v":2}', "schema version", id="future-schema"),
        pytest.param(b'{"v":true}', "schema version", id="bool-schema"),
        pytest.param(b'{"v":1.0}', "non-integer", id="float"),
        pytest.param(b'{"v":1}', "missing", id="missing-fields"),
        pytest.param(b"[1]", "not a JSON object", id="not-an-object"),
    ],
)
def test_signed_but_invalid_payload_is_rejected(payload: bytes, message: str) -> None:
    # given a payload that is correctly signed but is not a version-1 document
    wire = rewrap(WIRE, payload=b64(payload), sig=b64(KEY.sign(payload)))

    # when verified
    # then it still fails: a signature vouches for bytes, the schema for their meaning
    with pytest.raises(LicenceVerificationError, match=message):
        verify(wire, TRUSTED)


def test_older_version_than_already_accepted_is_rejected() -> None:
    # given a PBX that already accepted version 3 and is offered version 2 again
    stale = signed_wire(make_doc(version=2))

    # when verified with min_version 3
    # then the replay is refused, while version 3 itself is still accepted
    with pytest.raises(LicenceVerificationError, match="older"):
        verify(stale, TRUSTED, min_version=3)
    assert verify(signed_wire(make_doc(version=3)), TRUSTED, min_version=3).version == 3


def test_empty_trust_map_verifies_nothing() -> None:
    with pytest.raises(LicenceVerificationError, match="unknown key id"):
        verify(WIRE, {})


# --------------------------------------------------------------------------------------
# Key rotation
# --------------------------------------------------------------------------------------


def test_rotation_old_licences_still_verify_and_new_ones_use_the_new_key() -> None:
    # given a licence signed with the old key before a rotation
    old_key, new_key = generate_key(), generate_key()
    old_kid, new_kid = public_key_id(old_key.public_key()), public_key_id(new_key.public_key())
    old_wire = signed_wire(make_doc(version=1), key=old_key, kid=old_kid)

    # when the vendor starts signing with the new key and PBXs trust both
    new_wire = signed_wire(make_doc(version=2), key=new_key, kid=new_kid)
    both = {old_kid: old_key.public_key(), new_kid: new_key.public_key()}

    # then both licences verify, and the new one names the new key
    assert verify(old_wire, both).version == 1
    assert verify(new_wire, both).version == 2
    assert json.loads(new_wire)["kid"] == new_kid != old_kid

    # and once the old key is retired, only its licences stop verifying
    retired = {new_kid: new_key.public_key()}
    assert verify(new_wire, retired).version == 2
    with pytest.raises(LicenceVerificationError, match="unknown key id"):
        verify(old_wire, retired)


def test_a_kid_cannot_borrow_another_trusted_key() -> None:
    # given two trusted keys and a licence signed with the old one but labelled with the new kid
    old_key, new_key = generate_key(), generate_key()
    both = {"old": old_key.public_key(), "new": new_key.public_key()}
    wire = signed_wire(key=old_key, kid="new")

    # when verified
    # then it fails: the kid selects the one key that must have signed
    with pytest.raises(LicenceVerificationError):
        verify(wire, both)


# --------------------------------------------------------------------------------------
# Keys, ETags
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [None, b"correct horse battery staple"])
def test_private_key_pem_round_trip(password: bytes | None) -> None:
    # given a signing key saved as PEM, optionally encrypted
    pem = private_key_to_pem(KEY, password)

    # when loaded again
    loaded = private_key_from_pem(pem.decode(), password)

    # then it signs licences the original public key verifies
    assert pem.startswith(b"-----BEGIN " + (b"ENCRYPTED " if password else b"") + b"PRIVATE KEY-----")
    assert verify(signed_wire(key=loaded), TRUSTED) == make_doc()


def test_public_key_pem_round_trip_keeps_the_key_id() -> None:
    # given the vendor's public key as served at /api/v1/licensing/public-key
    pem = public_key_to_pem(KEY.public_key())

    # when a PBX loads it
    loaded = public_key_from_pem(pem)

    # then it verifies licences and has the same 16-hex-digit key id
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert public_key_id(loaded) == KID and len(KID) == 16 and int(KID, 16) >= 0
    assert verify(WIRE, {public_key_id(loaded): loaded}) == make_doc()


def test_key_ids_differ_between_keys() -> None:
    assert public_key_id(generate_key().public_key()) != public_key_id(generate_key().public_key())


def test_loading_a_non_ed25519_key_is_refused() -> None:
    # given an EC key in PEM
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_key = ec.generate_private_key(ec.SECP256R1())
    private_pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    # when loaded as a licence key
    # then it is refused
    with pytest.raises(ValueError, match="Ed25519"):
        private_key_from_pem(private_pem)
    with pytest.raises(ValueError, match="Ed25519"):
        public_key_from_pem(public_pem)


@pytest.mark.parametrize("kid", ["", "has space", "x" * 65, 'quote"'])
def test_sign_refuses_a_malformed_key_id(kid: str) -> None:
    with pytest.raises(ValueError, match="key_id"):
        sign(make_doc(), KEY, kid)


def test_etag_is_strong_stable_and_changes_with_the_licence() -> None:
    # given two signings of the same document (Ed25519 is deterministic) and one of a newer version
    first, again = signed_wire(), signed_wire()
    newer = signed_wire(make_doc(version=4))

    # when their ETags are computed
    etag = document_etag(first)

    # then the ETag is a quoted, strong (no W/) sha256, equal for equal licences only
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 66
    assert etag == document_etag(again)
    assert etag != document_etag(newer)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, False, id="no-header"),
        pytest.param("", False, id="empty"),
        pytest.param('"abc"', True, id="same"),
        pytest.param('W/"abc"', True, id="weak-form"),
        pytest.param('"xyz", "abc"', True, id="in-list"),
        pytest.param("*", True, id="star"),
        pytest.param('"abd"', False, id="other"),
    ],
)
def test_etag_matches_if_none_match(header: str | None, expected: bool) -> None:
    assert etag_matches(header, '"abc"') is expected


def test_signed_licence_holds_document_kid_payload_and_signature() -> None:
    signed = sign(make_doc(), KEY, KID)
    assert isinstance(signed, SignedLicence)
    assert (signed.document, signed.key_id, signed.payload) == (make_doc(), KID, canonical_json(make_doc()))
    assert len(signed.signature) == 64


# --------------------------------------------------------------------------------------
# Purity
# --------------------------------------------------------------------------------------


def test_licence_core_imports_no_django() -> None:
    # given a fresh interpreter
    # when the pure licence modules are imported
    code = (
        "import sys, pbxportal.core.licence, pbxportal.core.activation_code; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    # then Django was not loaded: a PBX can embed the verifier
    assert result.stdout.strip() == "[]"
