"""PBX keys (R-PBX-3): what a partner types into a VM/HW PBX to activate it.

The key is a credential: only its SHA-256 digest is stored (looked up through a unique index when
a PBX presents it) with a short prefix to recognise it; the key in clear is shown once, when the
PBX is created or a new key is generated (which invalidates the old one). A plain digest suffices
because the key is 192 random bits: nothing can be guessed from it (docs/licensing.md).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

PREFIX_LENGTH = 6


@dataclass(frozen=True)
class NewPbxKey:
    clear: str
    digest: str
    prefix: str


def pbx_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_pbx_key() -> NewPbxKey:
    clear = secrets.token_urlsafe(24)
    return NewPbxKey(clear=clear, digest=pbx_key_digest(clear), prefix=clear[:PREFIX_LENGTH])
