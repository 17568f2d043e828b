"""Licensing API: the vendor's public keys (no auth) and the PBX agent API under
/api/v1/pbx-agent/ (R-LIC-1, R-LIC-3, R-PBX-3, R-EX-3).

The agent router has its own authentication: ``Authorization: Bearer pbxa_...``, the credential
a PBX receives when it activates with its PBX key. It overrides the global partner auth (API
tokens, portal sessions), so a partner's credentials cannot call it, and every operation acts on
the authenticated PBX only: there is no PBX id in any path.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from pbxportal.common.schemas import Schema
from pbxportal.core import licence
from pbxportal.licensing.keys import published_keys, signing_key

API_PREFIX = ""

router = Router()
public = Router(tags=["licensing"])
LICENCE_CONTENT_TYPE = "application/json"


# --- Public keys ------------------------------------------------------------------------------


class PublicKeyOut(Schema):
    kid: str
    algorithm: str
    pem: str
    signing: bool


class PublicKeysOut(Schema):
    signing_kid: str
    keys: list[PublicKeyOut]


@public.get("/public-key", response=PublicKeysOut, auth=None, summary="The vendor's licence public keys")
def public_key(request: HttpRequest) -> dict[str, Any]:
    """Every Ed25519 public key a PBX should trust, by key id (``kid`` of the licence envelope);
    more than one during a key rotation (docs/licensing.md). No authentication."""
    current = signing_key().key_id
    return {
        "signing_kid": current,
        "keys": [
            {
                "kid": kid,
                "algorithm": licence.ALGORITHM,
                "pem": licence.public_key_to_pem(key).decode("ascii"),
                "signing": kid == current,
            }
            for kid, key in sorted(published_keys().items())
        ],
    }


router.add_router("licensing", public)
