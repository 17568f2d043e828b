"""Activation codes (R-LIC-2): format, normalisation, check character, digest."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbxportal.core.activation_code import (
    ALPHABET,
    CODE_LENGTH,
    DATA_LENGTH,
    InvalidActivationCode,
    code_digest,
    is_well_formed,
    new_code,
    normalise,
    validate,
)

CODE_SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z]")


def _check(data: str) -> int:
    """Reference Crockford check, written independently: int(data, base 32) mod 37."""
    return int(sum(ALPHABET.index(c) * 32**i for i, c in enumerate(reversed(data))) % 37)


@st.composite
def codes(draw: st.DrawFn) -> str:
    """Well-formed codes in compact form (issued ones only ever have a check below 32)."""
    data = draw(
        st.text(alphabet=ALPHABET, min_size=DATA_LENGTH, max_size=DATA_LENGTH).filter(
            lambda d: _check(d) < 32
        )
    )
    return data + ALPHABET[_check(data)]


def test_new_code_has_the_documented_shape() -> None:
    # given / when a new code is drawn
    code = new_code()

    # then it is 4 groups of 4 Crockford symbols and a lone check character
    assert CODE_SHAPE.fullmatch(code), code
    assert len(code.replace("-", "")) == CODE_LENGTH == 17
    assert is_well_formed(code)


def test_new_codes_are_random_and_carry_a_true_crockford_check() -> None:
    # given many new codes
    drawn = [new_code() for _ in range(2000)]

    # then they do not repeat, every check is the mod-37 check, every symbol gets used
    assert len(set(drawn)) == len(drawn)
    for code in drawn:
        compact = code.replace("-", "")
        assert ALPHABET.index(compact[-1]) == _check(compact[:-1])
    assert set("".join(drawn).replace("-", "")) == set(ALPHABET)


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == 32 and not set("ILOU") & set(ALPHABET)


@given(code=codes())
def test_normalise_round_trips_and_is_idempotent(code: str) -> None:
    # given a well-formed code
    # when normalised
    canonical = normalise(code)

    # then it is the grouped form of the same symbols, and normalising again changes nothing
    assert canonical.replace("-", "") == code
    assert CODE_SHAPE.fullmatch(canonical)
    assert normalise(canonical) == canonical == validate(canonical)


@given(code=codes(), data=st.data())
def test_sloppy_typing_normalises_to_the_same_code(code: str, data: st.DataObject) -> None:
    # given a code typed in mixed case, with O/I/L for 0/1 and random dashes and spaces
    canonical = normalise(code)
    typed = ""
    for char in code:
        if char == "0":
            char = data.draw(st.sampled_from("0Oo"))
        elif char == "1":
            char = data.draw(st.sampled_from("1IiLl"))
        elif data.draw(st.booleans()):
            char = char.lower()
        typed += char + data.draw(st.sampled_from(["", "", "-", " ", "--", "\t", "\u2013"]))

    # when normalised, validated and digested
    # then it is the same code
    assert normalise(typed) == canonical
    assert validate(typed) == canonical
    assert code_digest(typed) == code_digest(canonical)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        pytest.param("k7q2 9xmd 4hpa t3vw j", "K7Q2-9XMD-4HPA-T3VW-J", id="lower-case-spaces"),
        pytest.param("K7Q29XMD4HPAT3VWJ", "K7Q2-9XMD-4HPA-T3VW-J", id="no-dashes"),
        pytest.param("  K7Q-29XMD--4HPA-T3VWJ  ", "K7Q2-9XMD-4HPA-T3VW-J", id="misplaced-dashes"),
        pytest.param("OIL0-1111-0000-1111-0", "0110-1111-0000-1111-0", id="aliases"),
    ],
)
def test_normalise_examples(typed: str, expected: str) -> None:
    assert normalise(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param("", "has 17 letters and digits, this one has 0", id="empty"),
        pytest.param("K7Q2-9XMD-4HPA-T3VW", "this one has 16", id="too-short"),
        pytest.param("K7Q2-9XMD-4HPA-T3VW-JJ", "this one has 18", id="too-long"),
        pytest.param("K7Q2-9XMD-4HPA-T3VW-U", "'U' is not used", id="letter-u"),
        pytest.param("K7Q2-9XMD-4HPA-T3VW-*", "'\\*' is not used", id="check-symbol-star"),
        pytest.param("K7Q2_9XMD_4HPA_T3VW_R", "'_' is not used", id="underscores"),
        pytest.param("K7Q2-9XMD-4HPA-T3VW-\u0131", "is not used", id="dotless-i"),
    ],
)
def test_normalise_rejects_what_cannot_be_a_code(typed: str, message: str) -> None:
    with pytest.raises(InvalidActivationCode, match=message):
        normalise(typed)
    assert not is_well_formed(typed)


def test_wrong_check_character_gives_a_clear_message() -> None:
    # given a code whose last character was mistyped
    code = new_code()
    wrong = code[:-1] + ALPHABET[(ALPHABET.index(code[-1]) + 1) % 32]

    # when validated
    # then the partner is told it is probably a typo
    with pytest.raises(InvalidActivationCode, match="check character does not match: a typo"):
        validate(wrong)
    with pytest.raises(InvalidActivationCode, match="typo"):
        code_digest(wrong)
    assert normalise(wrong)  # the shape is fine; only the check fails


def test_invalid_activation_code_is_a_value_error() -> None:
    assert issubclass(InvalidActivationCode, ValueError)


@given(code=codes(), data=st.data())
def test_any_single_character_typo_is_detected(code: str, data: st.DataObject) -> None:
    # given a well-formed code and one position, data or check character
    position = data.draw(st.integers(0, CODE_LENGTH - 1), label="position")
    replacement = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != code[position]), label="typed")

    # when that character is mistyped as another symbol
    typo = code[:position] + replacement + code[position + 1 :]

    # then the check character catches it (37 is prime, so no substitution goes unnoticed)
    assert not is_well_formed(typo)


@given(code=codes(), data=st.data())
def test_any_adjacent_transposition_is_detected(code: str, data: st.DataObject) -> None:
    # given a well-formed code and two neighbouring, different characters (check included)
    position = data.draw(
        st.integers(0, CODE_LENGTH - 2).filter(lambda i: code[i] != code[i + 1]), label="position"
    )

    # when they are swapped
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]

    # then the mod-37 check catches it: (a - b) * 31 * 32**k is never 0 mod 37
    assert not is_well_formed(swapped)
    assert not is_well_formed(normalise(swapped))  # also across the dash of the grouped form


def test_adjacent_transpositions_are_detected_exhaustively_for_one_code() -> None:
    # given one code, every adjacent swap of different characters
    code = new_code().replace("-", "")
    swaps = [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(CODE_LENGTH - 1)
        if code[i] != code[i + 1]
    ]

    # then none of them passes
    assert swaps and not any(is_well_formed(s) for s in swaps)


@given(code=codes())
def test_code_digest_is_sha256_of_the_canonical_spelling(code: str) -> None:
    # given a code
    # when digested
    digest = code_digest(code.lower())

    # then it is the sha256 hex of the normalised code, never the code itself
    assert digest == hashlib.sha256(normalise(code).encode()).hexdigest()
    assert len(digest) == 64 and code not in digest


def test_different_codes_have_different_digests() -> None:
    assert code_digest(new_code()) != code_digest(new_code())
