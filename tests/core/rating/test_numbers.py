"""Dialled numbers to E.164 with the PBX's country (R-VT-7)."""

from __future__ import annotations

import pytest

from pbxportal.core.rating.numbers import InvalidNumber, cached_count, clear_cache, normalise


@pytest.mark.parametrize(
    ("dialled", "region", "e164"),
    [
        ("020 7946 0000", "GB", "+442079460000"),  # national, the PBX's country
        ("06 1234 5678", "IT", "+390612345678"),  # Italian leading zero kept
        ("3471234567", "IT", "+393471234567"),  # Italian mobile, no trunk prefix
        ("050 123 4567", "AE", "+971501234567"),
        ("(212) 555-0123", "US", "+12125550123"),
        ("212-555-0123", "us", "+12125550123"),  # region in any case
        ("0044 20 7946 0000", "IT", "+442079460000"),  # 00 international prefix
        ("00971501234567", "IT", "+971501234567"),
        ("011 44 20 7946 0000", "US", "+442079460000"),  # the region's own prefix
        ("0011 44 20 7946 0000", "AU", "+442079460000"),
        ("00 44 20 7946 0000", "US", "+442079460000"),  # 00 where the region's prefix is 011
        ("+44 20 7946 0000", "US", "+442079460000"),
        ("+44 (0)20 7946 0000", "US", "+442079460000"),
        ("+4407911123456", "GB", "+447911123456"),  # trunk 0 after the country code dropped
        ("  +12125550123 ", "IT", "+12125550123"),
    ],
)
def test_normalise_gives_e164(dialled: str, region: str, e164: str) -> None:
    assert normalise(dialled, region) == e164


@pytest.mark.parametrize(
    ("dialled", "region", "reason"),
    [
        ("", "GB", "empty"),
        ("   ", "GB", "empty"),
        ("s", "GB", "letters are not a dialled number"),  # Asterisk's start extension
        ("1-800-FLOWERS", "US", "letters are not a dialled number"),
        ("1001", "GB", "local number without its area code"),  # an internal extension
        ("+999 1234567", "GB", "invalid country code"),
        ("00999123", "IT", "invalid country code"),
        ("+44 20 7946 0000 0000 000", "GB", "too long"),
        ("+44 1", "GB", "too short"),
    ],
)
def test_normalise_refuses_impossible_numbers_with_a_reason(dialled: str, region: str, reason: str) -> None:
    # when / then
    with pytest.raises(InvalidNumber) as raised:
        normalise(dialled, region)
    assert raised.value.reason == reason
    assert raised.value.number == dialled
    assert isinstance(raised.value, ValueError)
    assert repr(dialled) in str(raised.value)


def test_normalise_caches_per_number_and_region() -> None:
    # given an empty cache
    clear_cache()
    # when the same number is normalised twice from one country and once from another
    normalise("020 7946 0000", "GB")
    normalise("020 7946 0000", "GB")
    normalise("+442079460000", "IT")
    # then two results are cached
    assert cached_count() == 2
