"""HWaaS joins the service checks of pbx.services (R-HW-2): a device ordered as a PBX service
(``POST /api/v1/pbx/pbxs/{id}/services``, its preview, an expansion checkout) is refused without
the customer's accepted agreement, by the same function the HWaaS cart checks."""

from __future__ import annotations

from datetime import date
from typing import Any

from pbxportal.catalog.models import Family, Product
from pbxportal.hardware.services import require_agreement
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import service_requirement


@service_requirement(Family.HWAAS)
def hwaas_agreement_accepted(
    pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
) -> None:
    require_agreement(pbx.customer_id)
