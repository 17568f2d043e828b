"""Upper bounds on quantities, as catalog data (R-CAT-1): each product names the most units one
PBX may hold or one order may name (``Product.max_quantity``, ``max_quantity`` in catalog.yaml).

One function, called by every path that sets a quantity (PBX creation and its preview, licence
changes and their preview, service orders, HWaaS carts), so a quantity the catalog does not allow
never reaches an invoice.
"""

from __future__ import annotations

from pbxportal.catalog.models import Product
from pbxportal.common.errors import RuleViolation


def ensure_quantity_allowed(product: Product, quantity: int, *, field: str = "quantity") -> None:
    if quantity > product.max_quantity:
        unit = product.unit or "unit"
        raise RuleViolation(
            f"{field}: at most {product.max_quantity:,} {unit}s of {product.name} "
            f"(the catalog's maximum), not {quantity:,}.",
            rule="R-CAT-1",
            fields={field: f"at most {product.max_quantity}"},
        )
