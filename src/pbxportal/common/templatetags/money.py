"""``{{ amount|money:currency }}``: an amount with the currency's minor units, keeping the extra
decimals of per-minute rates (R-CAT-6: rates keep at least 6 decimals, lines are rounded).

The separators follow the page's language (docs/ui.md "Languages"): ``1,234.56 EUR`` in English,
``1.234,56 EUR`` in Italian; the ISO currency code always follows the amount."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import translation

from pbxportal.core.money import CurrencyError, minor_units

register = template.Library()

# Languages that write 1.234,56 (thousands dot, decimal comma).
COMMA_DECIMALS = frozenset({"it"})
_SWAP = str.maketrans(",.", ".,")


@register.filter
def money(amount: object, currency: str = "") -> str:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    try:
        places = minor_units(currency) if currency else 2
    except CurrencyError:
        places = 2
    exponent = value.normalize().as_tuple().exponent
    digits = max(places, -exponent if isinstance(exponent, int) else places)
    text = f"{value:,.{digits}f}"
    if translation.get_language() in COMMA_DECIMALS:
        text = text.translate(_SWAP)
    return f"{text} {currency}".strip()
