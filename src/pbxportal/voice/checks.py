"""Requirements of the voice trunk added to the co-termination checks of pbx.services (R-VT-5)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pbxportal.catalog.models import Family, Product
from pbxportal.common.errors import RuleViolation
from pbxportal.pbx.models import Pbx, SubscriptionStatus
from pbxportal.pbx.services import service_requirement


def did_countries(pbx: Pbx) -> set[str]:
    """Countries of the numbers (DIDs) the PBX holds now."""
    codes = pbx.subscriptions.filter(
        status=SubscriptionStatus.ACTIVE, product__family=Family.NUMBER
    ).values_list("product__attributes", flat=True)
    return {str(attributes.get("country", "")).upper() for attributes in codes if attributes}


def require_bundle_dids(pbx: Pbx, product: Product) -> None:
    """R-VT-5: the CTA2 bundle only for a PBX holding a DID of a required country (UAE, Saudi Arabia)."""
    required = {str(code).upper() for code in product.attributes.get("requires_did_countries") or []}
    if required and not required & did_countries(pbx):
        raise RuleViolation(
            f"{product.name} needs a number (DID) of {' or '.join(sorted(required))} on the PBX; order the "
            "number first.",
            rule="R-VT-5",
            fields={"product": "needs a DID of " + "/".join(sorted(required))},
        )


@service_requirement(Family.VOICE)
def cta2_needs_did(
    pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
) -> None:
    require_bundle_dids(pbx, product)
