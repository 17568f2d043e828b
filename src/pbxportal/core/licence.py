"""Signed licence documents delivered to PBXs (R-LIC-1, R-EX-3, R-INV-5).

A PBX's licence is a small document -- PBX serial, capacity per licence profile and
capacity item, services, expiry, status -- serialised as canonical JSON and signed with
the vendor's Ed25519 key. The PBX checks it offline with the vendor's public key(s).

This module is pure: standard library plus ``cryptography``; no Django (a test enforces
it), so the portal, the command line tools, the agent simulator and a real PBX all share it.

Wire format
===========

The wire form, what the licence API serves and what a PBX stores, is one ASCII JSON object
with exactly four members, sorted keys, no whitespace::

    {"alg":"Ed25519","kid":"<key id>","payload":"<base64url>","sig":"<base64url>"}

* ``payload`` is the base64url (RFC 4648 section 5, no ``=`` padding) of the canonical JSON
  of the document (see :func:`canonical_json`): UTF-8, sorted keys, no whitespace, dates as
  ISO 8601 (``2025-05-15``), instants as RFC 3339 UTC (``2025-05-15T10:00:00Z``), integers
  only (no floats), schema version ``"v": 1``.
* ``sig`` is the base64url of the 64-byte Ed25519 signature (RFC 8032) of the *payload
  bytes*, i.e. of the canonical JSON, not of its base64 text.
* ``kid`` names the signing key: :func:`public_key_id`, the first 16 hex digits of the
  SHA-256 of the 32 raw public key bytes.

Embedding the verifier in a PBX
===============================

:func:`verify` is deliberately small and self-contained: the "verifier" section of this
module plus :class:`LicenceDocument`, using only ``json``, ``base64``, ``re`` and one Ed25519
verify call, so it can be copied into PBX firmware as is, or re-implemented in a few dozen
lines of C with libsodium's ``crypto_sign_verify_detached``. A re-implementation must:

1. reject anything that is not exactly the canonical envelope above (so one byte changed
   anywhere in the wire form fails: there is no second spelling of the same licence);
2. look the key up by ``kid`` in its *own* list of trusted public keys (never a key sent
   along with the licence);
3. verify the signature over the decoded payload bytes, *then* parse those same bytes; it
   never re-serialises the document to check it, so the verifier does not need the
   canonicaliser;
4. refuse a licence whose ``version`` is lower than the highest version it has already
   accepted (``min_version``), otherwise an old, validly signed licence -- one from
   before a suspension for an overdue invoice, say -- could be replayed to it.

Whether the licence is expired or suspended is the PBX's business logic, not the
verifier's: :func:`verify` answers "did the vendor issue exactly this?".

Key rotation
============

The verifier takes a *map* of key ids to public keys, so several vendor keys can be trusted
at once:

1. Generate the new key pair (:func:`generate_key`) and store the private key where the
   signer can reach it (:func:`private_key_to_pem`, encrypted with a passphrase).
2. Publish the new public key next to the old one (``/api/v1/licensing/public-key`` lists
   every trusted key with its ``kid``) and ship it to PBXs in their trust list (firmware
   or configuration update) *before* signing anything with it.
3. Switch the signer to the new key. New licence versions carry the new ``kid``; licences
   already issued keep verifying because their ``kid`` still resolves to the old key.
4. Re-issue every PBX's licence with the new key (a new version), so no PBX depends on the
   old key any more, then, after a grace period long enough for offline PBXs, drop the old
   key from the published list and the PBX trust lists.

A compromised key skips the grace period: remove it from every trust map at once and
re-issue all licences with the new key; anything signed with the removed ``kid`` then fails
with "unknown key id".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALGORITHM",
    "SCHEMA_VERSION",
    "STATUS_ACTIVE",
    "STATUS_STOPPED",
    "STATUS_SUSPENDED",
    "LicenceDocument",
    "LicenceVerificationError",
    "SignedLicence",
    "canonical_json",
    "document_etag",
    "etag_matches",
    "generate_key",
    "parse_canonical_json",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_from_pem",
    "public_key_id",
    "public_key_to_pem",
    "sign",
    "to_wire",
    "verify",
]

ALGORITHM: Final = "Ed25519"
SCHEMA_VERSION: Final = 1

STATUS_ACTIVE: Final = "active"
STATUS_SUSPENDED: Final = "suspended"  # R-INV-5: overdue day 35, "licences delivered to PBXs say so"
STATUS_STOPPED: Final = "stopped"  # R-PBX-9: day 5 of the deletion countdown

# A wire licence is a few hundred bytes; refusing anything huge before parsing keeps a
# hostile or broken server from making an embedded verifier allocate without bound.
MAX_WIRE_BYTES: Final = 256 * 1024

# The largest integer every JSON consumer (JavaScript, doubles in C) reads exactly.
_MAX_SAFE_INT: Final = 2**53 - 1

_KID_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_STATUS_RE: Final = re.compile(r"[a-z][a-z0-9_-]*")
_B64URL_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
_ENVELOPE_KEYS: Final = frozenset({"alg", "kid", "payload", "sig"})
_PAYLOAD_KEYS: Final = frozenset(
    {"v", "pbx_serial", "version", "issued_at", "expires_on", "status", "capacity", "services", "reasons"}
)
_SIGNATURE_BYTES: Final = 64


class LicenceVerificationError(Exception):
    """A wire licence is not exactly what a trusted vendor key signed (R-LIC-1).

    Raised for every failure -- malformed envelope, unknown key id, unsupported algorithm,
    bad signature, a payload that is not a valid version-1 document, a rolled-back
    version -- so a PBX has one thing to catch; the message says which.
    """


# --------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: no UTF-8, so no canonical JSON
        raise ValueError(f"{what} is not valid Unicode text: {exc.reason}") from None
    return value


def _check_int(value: object, what: str, *, minimum: int = -_MAX_SAFE_INT) -> int:
    # bool is an int subclass; True as a capacity is a bug, not a 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, not {type(value).__name__}")
    if not minimum <= value <= _MAX_SAFE_INT:
        raise ValueError(f"{what} must be between {minimum} and {_MAX_SAFE_INT}, not {value}")
    return value


def _format_instant(value: datetime) -> str:
    text = (
        value.astimezone(UTC)
        .replace(tzinfo=None)
        .isoformat(timespec="microseconds" if value.microsecond else "seconds")
    )
    return text + "Z"


def _freeze_json(value: object, what: str) -> Any:
    """Validate one service attribute and turn it into its immutable canonical form.

    Only what survives a JSON round trip unchanged is stored: str, int, bool, None, tuples
    and read-only mappings of those. Dates become ISO strings here, at construction, so a
    document equals the one parsed back from its own canonical JSON. Floats are refused:
    their text form differs between languages, and money is never a float (R-CAT-6).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _check_int(value, what)
    if isinstance(value, str):
        return _check_text(value, what)
    if isinstance(value, datetime):  # before date: datetime is a date subclass
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{what} must be a timezone-aware datetime")
        return _format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return MappingProxyType(
            {_check_text(k, f"key in {what}"): _freeze_json(v, f"{what}.{k}") for k, v in value.items()}
        )
    if isinstance(value, Sequence):  # str was handled above
        return tuple(_freeze_json(v, f"{what}[{i}]") for i, v in enumerate(value))
    raise TypeError(f"{what}: {type(value).__name__} cannot go into a licence (use str, int, bool, None)")


def _thaw_json(value: Any) -> Any:
    """The plain dict/list form of a frozen value, for ``json.dumps``."""
    if isinstance(value, Mapping):
        return {k: _thaw_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw_json(v) for v in value]
    return value


@dataclass(frozen=True)
class LicenceDocument:
    """The licence of one PBX at one version (R-LIC-1).

    ``capacity`` maps licence profiles and capacity items to quantities
    (``{"UC-Business": 4, "extensions": 50, "concurrent_calls": 10}``); ``services`` maps
    service codes to their attributes (``{"hot_standby": {"quantity": 1, "expires_on":
    "2026-05-15"}}``); ``expires_on`` is ``None`` for a lifetime licence (R-CAT-3);
    ``status`` is ``"active"``, ``"suspended"`` (overdue, R-INV-5), ``"stopped"``
    (R-PBX-9) or another lower-case token, and ``reasons`` says why
    (``("overdue:suspended",)``).

    Construction validates and normalises: ``issued_at`` must be timezone-aware and is
    stored in UTC; mappings are copied into read-only views, lists into tuples, dates in
    service attributes into ISO strings. Hence ``parse_canonical_json(canonical_json(d))
    == d`` for every document ``d``.
    """

    pbx_serial: str
    version: int
    issued_at: datetime
    expires_on: date | None
    status: str
    capacity: Mapping[str, int]
    services: Mapping[str, Mapping[str, Any]]
    reasons: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # object.__setattr__: the documented way to normalise fields of a frozen dataclass.
        if not _check_text(self.pbx_serial, "pbx_serial").strip():
            raise ValueError("pbx_serial must not be empty")
        _check_int(self.version, "version", minimum=1)
        if not isinstance(self.issued_at, datetime):
            raise TypeError(f"issued_at must be a datetime, not {type(self.issued_at).__name__}")
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware (UTC)")
        object.__setattr__(self, "issued_at", self.issued_at.astimezone(UTC))
        if self.expires_on is not None and (
            not isinstance(self.expires_on, date) or isinstance(self.expires_on, datetime)
        ):
            raise TypeError("expires_on must be a date (not a datetime) or None for a lifetime licence")
        if not _STATUS_RE.fullmatch(_check_text(self.status, "status")):
            raise ValueError(f"status must be a lower-case token such as 'active', not {self.status!r}")
        if not isinstance(self.capacity, Mapping):
            raise TypeError("capacity must be a mapping of profile or item to quantity")
        object.__setattr__(
            self,
            "capacity",
            MappingProxyType(
                {
                    _check_text(k, "capacity key"): _check_int(v, f"capacity[{k!r}]", minimum=0)
                    for k, v in self.capacity.items()
                }
            ),
        )
        if not isinstance(self.services, Mapping):
            raise TypeError("services must be a mapping of service code to attributes")
        services: dict[str, Any] = {}
        for code, attributes in self.services.items():
            _check_text(code, "service code")
            if not isinstance(attributes, Mapping):
                raise TypeError(f"services[{code!r}] must be a mapping of attributes")
            services[code] = _freeze_json(attributes, f"services[{code!r}]")
        object.__setattr__(self, "services", MappingProxyType(services))
        if isinstance(self.reasons, str) or not isinstance(self.reasons, Sequence):
            raise TypeError("reasons must be a sequence of strings")
        object.__setattr__(self, "reasons", tuple(_check_text(r, "reason") for r in self.reasons))

    # Mappings are unhashable, so the generated field-tuple hash would raise; the canonical
    # bytes identify a document exactly, and equal documents have equal bytes.
    def __hash__(self) -> int:
        return hash(canonical_json(self))


def _document_to_json(doc: LicenceDocument) -> dict[str, Any]:
    return {
        "v": SCHEMA_VERSION,
        "pbx_serial": doc.pbx_serial,
        "version": doc.version,
        "issued_at": _format_instant(doc.issued_at),
        "expires_on": doc.expires_on.isoformat() if doc.expires_on is not None else None,
        "status": doc.status,
        "capacity": dict(doc.capacity),
        "services": _thaw_json(doc.services),
        "reasons": list(doc.reasons),
    }


def canonical_json(doc: LicenceDocument) -> bytes:
    """The canonical serialisation of a licence document, the bytes that get signed (R-LIC-1).

    Deterministic: keys sorted (by code point) at every level, no whitespace, UTF-8 (non-ASCII
    kept as is, not ``\\u`` escaped), dates ISO 8601, instants RFC 3339 UTC with ``Z``, a
    schema version ``"v": 1``. The same document gives the same bytes whatever order its
    mappings were built in, so the signature and the ETag change only when the licence does.
    """
    return json.dumps(
        _document_to_json(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


# --------------------------------------------------------------------------------------
# The verifier (R-LIC-1) -- self-contained on purpose, see the module docstring.
# --------------------------------------------------------------------------------------


def _b64url_decode(text: object, what: str) -> bytes:
    # Strict: unpadded alphabet only, and the text must be the one canonical encoding of
    # the bytes. base64 leaves up to 4 unused bits in the last character; a lenient
    # decoder would accept a changed last character and return the same bytes.
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise LicenceVerificationError(f"{what} is not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LicenceVerificationError(f"{what} is not unpadded base64url") from None
    if _b64url_encode(raw) != text:
        raise LicenceVerificationError(f"{what} is not canonical base64url")
    return raw


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # json would silently keep the last one
        raise LicenceVerificationError("duplicate key in JSON object")
    return obj


def _strict_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_reject_duplicate_keys,
            parse_float=_refuse_float,
            parse_constant=_refuse_float,
        )
    except LicenceVerificationError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LicenceVerificationError(f"{what} is not valid JSON: {exc}") from None


def _refuse_float(text: str) -> Any:
    raise LicenceVerificationError(f"non-integer number {text!r} in licence JSON")


def _parse_date(value: object, what: str) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise LicenceVerificationError(f"{what} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LicenceVerificationError(f"{what} is not a valid date") from None


def _parse_instant(value: object, what: str) -> datetime:
    if not isinstance(value, str) or not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z", value
    ):
        raise LicenceVerificationError(f"{what} is not an RFC 3339 UTC instant")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise LicenceVerificationError(f"{what} is not a valid instant") from None


def parse_canonical_json(payload: bytes) -> LicenceDocument:
    """Parse a version-1 licence payload into a :class:`LicenceDocument`.

    This does *not* check any signature: use :func:`verify` on anything that came over the
    network. Raises :class:`LicenceVerificationError` for anything that is not a valid
    document.
    """
    obj = _strict_json(payload, "licence payload")
    if not isinstance(obj, dict):
        raise LicenceVerificationError("licence payload is not a JSON object")
    if obj.get("v") != SCHEMA_VERSION or isinstance(obj.get("v"), bool):
        raise LicenceVerificationError(f"unsupported licence schema version {obj.get('v')!r}")
    if obj.keys() != _PAYLOAD_KEYS:
        missing, extra = sorted(_PAYLOAD_KEYS - obj.keys()), sorted(obj.keys() - _PAYLOAD_KEYS)
        raise LicenceVerificationError(f"licence payload fields wrong: missing {missing}, unexpected {extra}")
    expires = obj["expires_on"]
    try:
        return LicenceDocument(
            pbx_serial=obj["pbx_serial"],
            version=obj["version"],
            issued_at=_parse_instant(obj["issued_at"], "issued_at"),
            expires_on=None if expires is None else _parse_date(expires, "expires_on"),
            status=obj["status"],
            capacity=obj["capacity"],
            services=obj["services"],
            reasons=obj["reasons"],
        )
    except (TypeError, ValueError) as exc:
        raise LicenceVerificationError(f"invalid licence document: {exc}") from None


def verify(
    wire: bytes, public_keys: Mapping[str, Ed25519PublicKey], *, min_version: int = 0
) -> LicenceDocument:
    """Check a wire licence against the trusted public keys and return its document (R-LIC-1).

    ``public_keys`` maps key ids to the vendor keys this verifier trusts (several during a
    key rotation, see the module docstring). ``min_version`` is the highest licence version
    already accepted: an older one is refused, so a stale licence cannot be replayed.

    Raises :class:`LicenceVerificationError` if the wire form is not byte for byte the
    canonical envelope, names an algorithm other than Ed25519 or a key id not in
    ``public_keys``, if the signature does not verify, or if the signed payload is not a
    valid version-1 document.
    """
    if not isinstance(wire, bytes | bytearray | memoryview):
        raise LicenceVerificationError("a wire licence is bytes")
    wire = bytes(wire)
    if len(wire) > MAX_WIRE_BYTES:
        raise LicenceVerificationError(f"wire licence larger than {MAX_WIRE_BYTES} bytes")
    envelope = _strict_json(wire, "licence envelope")
    if not isinstance(envelope, dict) or envelope.keys() != _ENVELOPE_KEYS:
        raise LicenceVerificationError("licence envelope must have exactly alg, kid, payload and sig")
    if envelope["alg"] != ALGORITHM:
        raise LicenceVerificationError(f"unsupported algorithm {envelope['alg']!r}, expected {ALGORITHM!r}")
    kid = envelope["kid"]
    if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
        raise LicenceVerificationError("malformed key id")
    public_key = public_keys.get(kid)
    if public_key is None:
        raise LicenceVerificationError(f"unknown key id {kid!r}: not one of the trusted vendor keys")
    if not isinstance(public_key, Ed25519PublicKey):
        raise LicenceVerificationError(f"trusted key {kid!r} is not an Ed25519 public key")
    payload = _b64url_decode(envelope["payload"], "payload")
    signature = _b64url_decode(envelope["sig"], "sig")
    # The one spelling of these values: anything else (whitespace, escapes, key order) is
    # refused, so changing any byte of a licence can never leave it valid.
    if wire != _envelope_bytes(kid, payload, signature):
        raise LicenceVerificationError("licence envelope is not in canonical form")
    if len(signature) != _SIGNATURE_BYTES:
        raise LicenceVerificationError("signature has the wrong length")
    try:
        public_key.verify(signature, payload)
    except InvalidSignature:
        raise LicenceVerificationError("signature does not match: the licence was altered") from None
    document = parse_canonical_json(payload)
    if document.version < min_version:
        raise LicenceVerificationError(
            f"licence version {document.version} is older than version {min_version} already accepted"
        )
    return document


def _envelope_bytes(kid: str, payload: bytes, signature: bytes) -> bytes:
    envelope = {
        "alg": ALGORITHM,
        "kid": kid,
        "payload": _b64url_encode(payload),
        "sig": _b64url_encode(signature),
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode("ascii")


# --------------------------------------------------------------------------------------
# Signing (vendor side)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedLicence:
    """A document with its canonical payload and the vendor's signature over it (R-LIC-1)."""

    document: LicenceDocument
    key_id: str
    payload: bytes
    signature: bytes


def sign(doc: LicenceDocument, private_key: Ed25519PrivateKey, key_id: str) -> SignedLicence:
    """Sign ``doc`` with the vendor key ``private_key`` known to verifiers as ``key_id`` (R-LIC-1).

    ``key_id`` is normally ``public_key_id(private_key.public_key())``; any short token
    (letters, digits, ``._-``, at most 64) is accepted so keys can also be named by hand.
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("licences are signed with an Ed25519 private key")
    if not isinstance(key_id, str) or not _KID_RE.fullmatch(key_id):
        raise ValueError("key_id must be 1-64 characters of letters, digits, '.', '_' or '-'")
    payload = canonical_json(doc)
    return SignedLicence(document=doc, key_id=key_id, payload=payload, signature=private_key.sign(payload))


def to_wire(signed: SignedLicence) -> bytes:
    """The wire form of a signed licence: the canonical JSON envelope (R-LIC-1)."""
    return _envelope_bytes(signed.key_id, signed.payload, signed.signature)


def document_etag(wire: bytes) -> str:
    """A strong HTTP ETag for a wire licence (R-EX-3 polling): the quoted SHA-256 of its bytes.

    The wire form is canonical, so the same licence always has the same ETag and a PBX
    polling with ``If-None-Match`` gets a 304 until its licence actually changes.
    """
    return '"' + hashlib.sha256(wire).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header value matches ``etag`` (RFC 9110 section 13.1.2).

    Uses the weak comparison that If-None-Match calls for (a ``W/`` prefix is ignored),
    understands lists (``"a", "b"``) and ``*``. ``None`` or an empty header never matches.
    """
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


# --------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------


def generate_key() -> Ed25519PrivateKey:
    """A new vendor signing key (R-LIC-1)."""
    return Ed25519PrivateKey.generate()


def private_key_to_pem(private_key: Ed25519PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS #8 PEM of a signing key, encrypted with ``password`` when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def private_key_from_pem(pem: bytes | str, password: bytes | None = None) -> Ed25519PrivateKey:
    """Load a signing key from PKCS #8 PEM; ``ValueError`` if it is not an Ed25519 key."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def public_key_to_pem(public_key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of a vendor public key, what ``/api/v1/licensing/public-key`` serves."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(pem: bytes | str) -> Ed25519PublicKey:
    """Load a vendor public key from PEM; ``ValueError`` if it is not an Ed25519 key."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


def public_key_id(public_key: Ed25519PublicKey) -> str:
    """The key id (``kid``) of a public key: first 16 hex digits of SHA-256 of its raw 32 bytes.

    Derived from the key itself, so signer and verifier agree on it without a registry, and
    a PBX can recompute it from the PEM it was given.
    """
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]
