"""The ordering rules of hardware as a service, registered with the PBX app's service-family
registry when the app starts (``HardwareConfig.ready``): HWaaS needs a recurring term (R-HW-1) and
the customer's accepted agreement (R-HW-2) — the same function the HWaaS cart checks, so a device
ordered as a PBX service (``POST /api/v1/pbx/pbxs/{id}/services``, its preview, an expansion
checkout) is refused without it."""

from __future__ import annotations

from datetime import date
from typing import Any

from pbxportal.catalog.models import Family, Product
from pbxportal.hardware.services import require_agreement
from pbxportal.pbx.models import Pbx
from pbxportal.pbx.services import recurring_term_only, service_requirement

hwaas_recurring_term = service_requirement(Family.HWAAS)(recurring_term_only("R-HW-1"))


@service_requirement(Family.HWAAS)
def hwaas_agreement_accepted(
    pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
) -> None:
    require_agreement(pbx.customer_id)
