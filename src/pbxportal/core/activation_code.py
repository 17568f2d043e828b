"""Activation codes: the short, typeable form of one licence version (R-LIC-2, R-EX-3).

An offline PBX cannot poll its licence, so the partner types an activation code into it
(R-EX-3); the code is mailed after payment and identifies exactly one licence version.

Format
======

``K7Q2-9XMD-4HPA-T3VW-J``: 16 random data characters in groups of four, then one check
character on its own, all from Crockford's base 32 alphabet ``0123456789ABCDEFGHJKMNPQRSTVWXYZ``
(no I, L, O or U: nothing to confuse with 1, 0 or each other, and no accidental words).

* Randomness: 16 x 5 = 80 bits from :mod:`secrets` (less 0.21 bits, see below). That much
  is needed because the database stores only the SHA-256 of a code (:func:`code_digest`,
  codes are secrets): unsalted and fast, which is safe only because 2**80 guesses are out
  of reach even for someone holding a leaked table. Online guessing is already hopeless and
  is also throttled by the licence API.
* Check character: Crockford's mod-37 check symbol of the 80-bit value. 37 is prime and
  does not divide any difference the two common typing errors make, so *every* single
  substituted character and *every* swap of two adjacent different characters (check
  character included, across a dash included) changes the check. Crockford's check symbols
  for the remainders 32-36 are ``*~$=U``, awkward to type and read out; :func:`new_code`
  simply draws again when the remainder would be one of those (5 draws in 37), so every
  issued code uses the 32 plain symbols and is still a valid Crockford check.

Typing
======

:func:`normalise` is forgiving in the ways Crockford recommends: case is ignored, dashes
and spaces may be missing, doubled or misplaced, ``O`` reads as ``0`` and ``I`` / ``L`` as
``1``. Anything else (a wrong length, another character, a check that does not match)
is an :class:`InvalidActivationCode` with a message a partner can act on.

Pure: standard library only, no Django.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "DATA_LENGTH",
    "GROUP_SIZE",
    "InvalidActivationCode",
    "code_digest",
    "is_well_formed",
    "new_code",
    "normalise",
    "validate",
]

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_LENGTH: Final = 16  # 80 bits
CODE_LENGTH: Final = DATA_LENGTH + 1  # plus the check character, dashes not counted
GROUP_SIZE: Final = 4
_CHECK_MODULUS: Final = 37

_VALUES: Final = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford's decoding aliases: the letters people type for the digits they look like.
_ALIASES: Final = {"O": "0", "I": "1", "L": "1"}
# Separators people type or paste from mail: ASCII and typographic dashes, any whitespace.
_SEPARATORS: Final = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212")


class InvalidActivationCode(ValueError):
    """A string that cannot be an activation code (R-LIC-2); the message says why."""


def _check_value(data: str) -> int:
    """Crockford's check: the value of the base-32 number ``data`` modulo 37."""
    value = 0
    for symbol in data:
        value = (value * 32 + _VALUES[symbol]) % _CHECK_MODULUS
    return value


def _group(compact: str) -> str:
    return "-".join(compact[i : i + GROUP_SIZE] for i in range(0, len(compact), GROUP_SIZE))


def new_code() -> str:
    """A new random activation code, e.g. ``K7Q2-9XMD-4HPA-T3VW-J`` (R-LIC-2)."""
    while True:
        data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
        check = _check_value(data)
        if check < len(ALPHABET):  # skip the awkward check symbols *~$=U (module docstring)
            return _group(data + ALPHABET[check])


def _compact(code: str) -> str:
    """Uppercase symbols of ``code`` without separators, aliases applied, shape checked."""
    if not isinstance(code, str):
        raise InvalidActivationCode(f"an activation code is text, not {type(code).__name__}")
    symbols = []
    for char in code:
        if char.isspace() or char in _SEPARATORS:
            continue
        # ASCII-only upper-casing: str.upper() maps e.g. the Turkish dotless i (U+0131) to "I".
        upper = char.upper() if char.isascii() else char
        upper = _ALIASES.get(upper, upper)
        if upper not in _VALUES:
            raise InvalidActivationCode(
                f"{char!r} is not used in activation codes (letters and digits only, no U)"
            )
        symbols.append(upper)
    if len(symbols) != CODE_LENGTH:
        raise InvalidActivationCode(
            f"an activation code has {CODE_LENGTH} letters and digits, this one has {len(symbols)}"
        )
    return "".join(symbols)


def normalise(code: str) -> str:
    """The canonical spelling of a typed code: upper case, aliases resolved, grouped by 4 (R-LIC-2).

    ``"k7q2 9xmd-4hpa-t3vw j"`` becomes ``"K7Q2-9XMD-4HPA-T3VW-J"``. Raises
    :class:`InvalidActivationCode` for a foreign character or the wrong number of
    characters; the check character is *not* verified here (see :func:`validate`).
    """
    return _group(_compact(code))


def validate(code: str) -> str:
    """:func:`normalise` ``code`` and verify its check character (R-LIC-2).

    Returns the canonical spelling; raises :class:`InvalidActivationCode` with a message
    fit to show a partner if the code is malformed or mistyped.
    """
    compact = _compact(code)
    if _check_value(compact[:-1]) != _VALUES[compact[-1]]:
        raise InvalidActivationCode("check character does not match: a typo? Please check the code")
    return _group(compact)


def is_well_formed(code: str) -> bool:
    """Whether ``code`` normalises and its check character verifies (R-LIC-2).

    Well formed is not valid: whether the code belongs to a licence, and is still unused,
    is for the database to say (by :func:`code_digest`).
    """
    try:
        validate(code)
    except InvalidActivationCode:
        return False
    return True


def code_digest(code: str) -> str:
    """SHA-256 hex of the canonical spelling of ``code``: what the database stores (R-LIC-2).

    Codes are secrets, so they are stored hashed; every spelling a partner may type of the
    same code has the same digest. Raises :class:`InvalidActivationCode` for a code that is
    not well formed, so a typo is reported as one rather than looked up.
    """
    return hashlib.sha256(validate(code).encode("ascii")).hexdigest()
