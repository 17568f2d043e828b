"""Refusals of a service order that do not depend on the PBX's state, run before the preview
returns so the preview and the real order refuse alike (issue 13 item 7, R-CO-4)."""

from __future__ import annotations

from pbxportal.catalog.models import Product
from pbxportal.common.errors import RuleViolation


def refuse_auto_renew_off(product: Product, auto_renew: bool) -> None:
    """R-EX-4: only a product whose auto-renew is optional may be ordered without it."""
    if not auto_renew and not product.auto_renew_optional:
        raise RuleViolation(
            f"{product.name} renews with its PBX; auto-renew cannot be switched off.",
            rule="R-EX-4",
            fields={"auto_renew": "not optional"},
        )
