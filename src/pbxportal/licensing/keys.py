"""The vendor's licence signing key and the published public keys (R-LIC-1).

Where the signing key comes from, first match wins:

1. ``LICENCE_SIGNING_KEY_PEM``: the PKCS #8 PEM itself (an environment variable, e.g. from a
   secret store);
2. ``LICENCE_SIGNING_KEY_FILE``: a path to that PEM;
3. the embedded default: ``DATA_DIR/licence-signing-key.pem``, generated (mode 0600) on first use.

``LICENCE_SIGNING_KEY_PASSWORD`` decrypts an encrypted PEM. ``LICENCE_PUBLISHED_KEYS_FILE``
names a file of further public keys (PEM blocks, concatenated) that are published next to the
signing key's: the old key during a rotation, the next one before switching (docs/licensing.md).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from pbxportal.core import licence

_lock = threading.Lock()
_PEM_END = "-----END PUBLIC KEY-----"


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    key_id: str


def _password() -> bytes | None:
    password = settings.LICENCE_SIGNING_KEY_PASSWORD
    return password.encode() if password else None


def _default_key_file() -> Path:
    return Path(settings.DATA_DIR) / "licence-signing-key.pem"


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = licence.generate_key()
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(licence.private_key_to_pem(key, _password()))
            return key
    return licence.private_key_from_pem(path.read_bytes(), _password())


@cache
def signing_key() -> SigningKey:
    """The key new licence versions are signed with (cached for the process)."""
    if settings.LICENCE_SIGNING_KEY_PEM:
        private_key = licence.private_key_from_pem(settings.LICENCE_SIGNING_KEY_PEM, _password())
    elif settings.LICENCE_SIGNING_KEY_FILE:
        private_key = licence.private_key_from_pem(
            Path(settings.LICENCE_SIGNING_KEY_FILE).read_bytes(), _password()
        )
    else:
        private_key = _load_or_create(_default_key_file())
    return SigningKey(private_key, licence.public_key_id(private_key.public_key()))


def _split_pem(text: str) -> list[str]:
    return [block.strip() + "\n" + _PEM_END + "\n" for block in text.split(_PEM_END) if block.strip()]


@cache
def published_keys() -> dict[str, Ed25519PublicKey]:
    """Every public key a PBX should trust, by key id: the signing key's and the extra ones."""
    keys = {signing_key().key_id: signing_key().private_key.public_key()}
    if settings.LICENCE_PUBLISHED_KEYS_FILE:
        for pem in _split_pem(Path(settings.LICENCE_PUBLISHED_KEYS_FILE).read_text()):
            public_key = licence.public_key_from_pem(pem)
            keys[licence.public_key_id(public_key)] = public_key
    return keys


def reset_key_cache() -> None:
    """Forget the loaded keys (tests and key rotation without a restart)."""
    signing_key.cache_clear()
    published_keys.cache_clear()
