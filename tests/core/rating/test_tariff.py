"""The rate table: longest prefix, overlapping prefixes, unknown destinations (R-VT-7)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pbxportal.core.rating.tariff import RateTable, TariffRow, UnknownDestination
from tests.core.rating.builders import TABLE, TABLE_ROWS


@pytest.mark.parametrize(
    ("e164", "prefix", "area", "kind"),
    [
        ("+442079460000", "44", "CTA1", "fixed"),
        ("+447700900123", "447", "CTA1", "mobile"),  # 447 beats 44
        ("+447911123456", "4479", "CTA3", "mobile"),  # 4479 beats 447 and 44
        ("+4479", "4479", "CTA3", "mobile"),  # the prefix itself
        ("+447", "447", "CTA1", "mobile"),
        ("+390612345678", "39", "CTA1", "fixed"),
        ("+393471234567", "393", "CTA1", "mobile"),
        ("+971501234567", "9715", "CTA2", "mobile"),
        ("+97142345678", "971", "CTA2", "fixed"),
        ("+12125550123", "1", "CTA1", "any"),
        ("442079460000", "44", "CTA1", "fixed"),  # '+' optional
    ],
)
def test_match_takes_the_longest_prefix(e164: str, prefix: str, area: str, kind: str) -> None:
    row = TABLE.match(e164)
    assert (row.prefix, row.area, row.kind) == (prefix, area, kind)


@pytest.mark.parametrize("row_order", [TABLE_ROWS, tuple(reversed(TABLE_ROWS))])
def test_match_does_not_depend_on_row_order(row_order: tuple[TariffRow, ...]) -> None:
    assert RateTable(row_order).match("+447911123456").prefix == "4479"


@pytest.mark.parametrize("number", ["+3545512345", "+", "", "+44x", "+٤٤1234"])
def test_unknown_destination_names_the_number(number: str) -> None:
    with pytest.raises(UnknownDestination) as raised:
        TABLE.match(number)
    assert raised.value.number == number
    assert isinstance(raised.value, LookupError)
    assert str(raised.value) == f"unknown destination {number}"


def test_a_prefix_twice_is_refused() -> None:
    row = TABLE_ROWS[0]
    with pytest.raises(ValueError, match="appears twice"):
        RateTable([row, row])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prefix": "+44"}, "prefix"),
        ({"prefix": "044"}, "prefix"),
        ({"prefix": "1234567890123456"}, "prefix"),
        ({"area": "CTA7"}, "area"),
        ({"kind": "satellite"}, "kind"),
        ({"country": "gb"}, "country"),
        ({"currency": "eur"}, "currency"),
        ({"rate_per_minute": Decimal("-0.01")}, "rate_per_minute"),
        ({"rate_per_minute": Decimal("0.0000001")}, "more than 6 decimals"),
        ({"rate_per_minute": 0.01}, "rate_per_minute"),
        ({"rate_per_sms": Decimal("NaN")}, "rate_per_sms"),
    ],
)
def test_rows_are_validated(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "prefix": "44",
        "area": "CTA1",
        "kind": "fixed",
        "country": "GB",
        "rate_per_minute": Decimal("0.01"),
        "currency": "EUR",
    }
    with pytest.raises(ValueError, match=message):
        TariffRow(**{**fields, **changes})  # type: ignore[arg-type]


def test_rows_are_listed_by_prefix() -> None:
    prefixes = [row.prefix for row in TABLE.rows]
    assert prefixes == sorted(prefixes)
    assert len(TABLE) == len(TABLE_ROWS) == len(list(TABLE))
