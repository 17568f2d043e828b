"""The voice trunk's ordering rules, registered with the PBX app's service-family registry when the
app starts (``VoiceConfig.ready``), in this order: a recurring term and a per-user PBX with firmware
6.0 or later (R-CO-2), one bundle at a time and the CTA2 bundle's DID (R-VT-5)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pbxportal.catalog.models import Family, PricingModel, Product
from pbxportal.common.errors import RuleViolation
from pbxportal.pbx.models import Pbx, SubscriptionStatus
from pbxportal.pbx.services import recurring_term_only, service_requirement

voice_recurring_term = service_requirement(Family.VOICE)(recurring_term_only("R-CO-2"))


def _firmware_at_least(version: str, minimum: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", v)[:3]) or (0,)

    return bool(version) and parts(version) >= parts(minimum)


@service_requirement(Family.VOICE)
def per_user_pbx_with_firmware(
    pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date
) -> None:
    """R-CO-2: the voice trunk needs a per-user PBX reporting firmware ``min_firmware`` (6.0) or later."""
    if pbx.model.family != Family.PBX:
        raise RuleViolation(
            "The voice trunk needs a per-user PBX.",
            rule="R-CO-2",
            fields={"product": "per-user PBX only"},
        )
    minimum = str(product.attributes.get("min_firmware", "6.0"))
    if not _firmware_at_least(pbx.firmware_version, minimum):
        raise RuleViolation(
            f"The voice trunk needs firmware {minimum} or later; the PBX reports "
            f"{pbx.firmware_version or 'no version yet'}.",
            rule="R-CO-2",
            fields={"product": "firmware"},
        )


@service_requirement(Family.VOICE)
def one_bundle(pbx: Pbx, product: Product, quantity: int, attributes: dict[str, Any], today: date) -> None:
    """R-VT-5: CTA1 and CTA2 bundles exclude each other."""
    if pbx.subscriptions.filter(
        status=SubscriptionStatus.ACTIVE,
        product__family=Family.VOICE,
        product__pricing_model__in=[PricingModel.BANDED, PricingModel.FLAT],
    ).exists() and product.pricing_model in (PricingModel.BANDED, PricingModel.FLAT):
        raise RuleViolation(
            "The PBX has a voice bundle already: CTA1 and CTA2 bundles exclude each other; "
            "switching is a customer-care ticket.",
            rule="R-VT-5",
            fields={"product": "bundle"},
        )


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
