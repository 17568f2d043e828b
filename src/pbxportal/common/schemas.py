"""Input validation shared by every API schema (R-API-1): a bad value is a 422 naming the field,
never a database error.

``Schema`` is the base of every API schema. On input (never on the answers the API builds) it
refuses, in any string field, control characters (NUL and the C0/C1 ranges except tab, newline and
carriage return) and lone surrogates, which no database column can hold; integers beyond
``INT_MAX`` (a 32-bit column, the narrowest integer column of the models); and, when the schema
names the model it writes (``length_model``), text longer than that model field's ``max_length``.
Limits come from the models, so a schema never repeats a number the model already holds.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

import ninja
from django.db import models
from pydantic import ValidationInfo, field_validator

INT_MAX = 2**31 - 1
# Amounts: at most 12 integer digits and 6 decimals (the widest amount column is 18,6); beyond
# that a value is refused before any arithmetic (R-CAT-6).
DECIMAL_MAX_DIGITS = 18
DECIMAL_MAX_PLACES = 6
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    match = _FORBIDDEN.search(value)
    if match is None:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "contains a lone surrogate (not valid Unicode)"
    return f"contains a control character (U+{ord(char):04X})"


def _check(value: Any, max_length: int | None) -> Any:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
        if max_length is not None and len(value) > max_length:
            raise ValueError(f"at most {max_length} characters")
    elif isinstance(value, bool):
        return value
    elif isinstance(value, int):
        if not -INT_MAX <= value <= INT_MAX:
            raise ValueError(f"must be between {-INT_MAX} and {INT_MAX}")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number")
        _sign, digits, exponent = value.normalize().as_tuple()
        places = -int(exponent) if int(exponent) < 0 else 0
        whole = len(digits) - places if int(exponent) < 0 else len(digits) + int(exponent)
        if places > DECIMAL_MAX_PLACES or whole > DECIMAL_MAX_DIGITS - DECIMAL_MAX_PLACES:
            raise ValueError(
                f"at most {DECIMAL_MAX_DIGITS - DECIMAL_MAX_PLACES} digits before and "
                f"{DECIMAL_MAX_PLACES} after the decimal point"
            )
    elif isinstance(value, list | tuple | set):
        for item in value:
            _check(item, max_length)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, None)
            _check(item, None)
    return value


def model_max_length(model: type[models.Model] | None, field_name: str | None) -> int | None:
    if model is None or field_name is None:
        return None
    try:
        field = model._meta.get_field(field_name)
    except Exception:
        return None
    return getattr(field, "max_length", None)


class Schema(ninja.Schema):
    """The base of every API schema; see the module docstring."""

    length_model: ClassVar[type[models.Model] | None] = None

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        context = info.context or {}
        if "response_status" in context:  # an answer the API builds, not input
            return value
        return _check(value, model_max_length(cls.length_model, info.field_name))
