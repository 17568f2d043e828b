"""Dialled numbers to E.164 (R-VT-7).

A call record carries the number as the user dialled it: national (``06 1234 5678``), with
the international dialling prefix (``0044 20 7946 0000``) or already international
(``+44 20 7946 0000``). ``normalise`` turns it into E.164 with phonenumbers, the PBX's
country resolving national dialling. Only *possible* numbers (right length for their country)
are accepted; whether a possible number is a rated destination is the rate table's business
(``RateTable.match``), so a new number range missing from phonenumbers' metadata is never
refused here.

Results are cached per (number, region): a month of call records repeats destinations a lot,
and phonenumbers costs about 16 microseconds a number.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

__all__ = ["InvalidNumber", "cached_count", "clear_cache", "normalise"]

_CACHE_SIZE = 1 << 19

_REASONS: dict[int, str] = {
    ValidationResult.INVALID_COUNTRY_CODE: "invalid country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "invalid length for its country",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without its area code",
}

_PARSE_REASONS: dict[int, str] = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid country code",
    NumberParseException.NOT_A_NUMBER: "not a number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class InvalidNumber(ValueError):
    """A dialled number that is not a possible E.164 number (R-VT-7); ``reason`` says why."""

    def __init__(self, number: str, reason: str) -> None:
        super().__init__(f"invalid number {number!r}: {reason}")
        self.number = number
        self.reason = reason


def normalise(number: str, default_region: str) -> str:
    """E.164 form (``+`` and digits) of ``number`` dialled from ``default_region`` (R-VT-7).

    ``default_region`` is the PBX's country (ISO 3166 alpha-2) and resolves national dialling.
    ``+`` and the region's international prefix are understood by phonenumbers; ``00`` is
    also read as the international prefix where the region's own prefix differs (``011`` in
    the US) and the national reading is not a possible number, because PBXs commonly accept
    ``00`` everywhere. Letters are refused rather than read as a vanity number: in a call
    record they name an internal target (``s``, ``h``, a SIP URI), not a dialled number.

    Raises ``InvalidNumber`` with the reason.
    """
    e164, reason = _normalise(number, default_region.upper())
    if e164 is None:
        raise InvalidNumber(number, reason)
    return e164


def normalise_checked(number: str, default_region: str) -> tuple[str | None, str]:
    """``normalise`` without the exception, for loops over many numbers: (E.164, "") or
    (None, the reason ``InvalidNumber`` would carry)."""
    return _normalise(number, default_region.upper())


def clear_cache() -> None:
    """Forget cached results (benchmarks measure a cold start with it)."""
    _normalise.cache_clear()


def cached_count() -> int:
    """How many (number, region) pairs the cache holds."""
    return _normalise.cache_info().currsize


@lru_cache(maxsize=_CACHE_SIZE)
def _normalise(number: str, region: str) -> tuple[str | None, str]:
    text = number.strip()
    if not text:
        return None, "empty"
    plain = text.isdigit() or (text[0] == "+" and text[1:].isdigit())
    if not plain and any(char.isalpha() for char in text):
        return None, "letters are not a dialled number"
    parsed, reason = _parse(text, region)
    if parsed is None and not text.startswith("+"):
        digits = text if plain else "".join(char for char in text if char.isdigit())
        if digits.startswith("00"):
            # phonenumbers only knows the region's own international prefix (011 in the US).
            parsed, _ = _parse("+" + digits[2:], region)
    if parsed is None:
        return None, reason
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164), ""


def _parse(text: str, region: str) -> tuple[phonenumbers.PhoneNumber | None, str]:
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return None, _PARSE_REASONS.get(exc.error_type, "not a number")
    result = phonenumbers.is_possible_number_with_reason(parsed)
    if result != ValidationResult.IS_POSSIBLE:
        return None, _REASONS.get(result, "not a possible number")
    return parsed, ""
