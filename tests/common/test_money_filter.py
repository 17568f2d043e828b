from decimal import Decimal

import pytest

from pbxportal.common.templatetags.money import money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("4.800000"), "EUR", "4.80 EUR"),
        (Decimal("1234.5"), "EUR", "1,234.50 EUR"),
        (Decimal("0.011250"), "EUR", "0.01125 EUR"),
        (Decimal("7.000000"), "JPY", "7 JPY"),
        (Decimal("-240.00"), "EUR", "-240.00 EUR"),
    ],
)
def test_money_shows_minor_units_and_keeps_rate_decimals(amount: Decimal, currency: str, shown: str) -> None:
    assert money(amount, currency) == shown
