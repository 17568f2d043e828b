"""The ordering rules of the service family the PBX app sells itself: storage (R-PBX-1).

Registered with the service-family registry (``pbx.services.service_requirement``) when the app
starts (``PbxConfig.ready``), like the voice, hardware and expansions apps register theirs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pbxportal.catalog.models import Family, Product
from pbxportal.common.errors import RuleViolation
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import service_requirement


@service_requirement(Family.STORAGE)
def storage_cloud_only(
    pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
) -> None:
    if not pbx.is_cloud:
        raise RuleViolation(
            "Storage is for cloud PBXs only.", rule="R-PBX-1", fields={"product": "cloud only"}
        )
