"""Tests for loaders.identifiers: width and separators, and errors that never carry the value."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable

import pytest

from loaders.identifiers import (
    InvalidIdentifier,
    Reason,
    normalize_card_number,
    normalize_credit_code,
    normalize_identifier,
    normalize_mobile,
    normalize_resident_id,
    to_half_width,
)
from tests.loaders.identifier_samples import TODAY
from tests.loaders.test_card_and_mobile import INVALID_CARD_NUMBERS, INVALID_MOBILES
from tests.loaders.test_credit_code import INVALID_CREDIT_CODES
from tests.loaders.test_resident_id import INVALID_RESIDENT_IDS

# --------------------------------------------------------------------------------------------------
# Width and separators
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１２３", "123"),
        ("ＡＢＣｘｙｚ", "ABCxyz"),
        ("！～＋－", "!~+-"),
        ("\u3000a\u3000", " a "),
        ("plain ascii", "plain ascii"),
        ("张三", "张三"),
        ("", ""),
    ],
)
def test_to_half_width(text: str, expected: str) -> None:
    assert to_half_width(text) == expected


def test_to_half_width_covers_the_whole_full_width_block() -> None:
    block = "".join(chr(code) for code in range(0xFF01, 0xFF5F))
    assert to_half_width(block) == "".join(chr(code) for code in range(0x21, 0x7F))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  abc-def 123  ", "ABCDEF123"),
        ("\u3000１１０ １０５－ｘ\u3000", "110105X"),
        ("\t138-1234-5678\n", "13812345678"),
        ("", ""),
    ],
)
def test_normalize_identifier(text: str, expected: str) -> None:
    assert normalize_identifier(text) == expected


# --------------------------------------------------------------------------------------------------
# Errors never carry the value
# --------------------------------------------------------------------------------------------------

ALL_INVALID: list[tuple[Callable[[str], str], str]] = [
    *[(lambda raw: normalize_resident_id(raw, today=TODAY), raw) for raw, _ in INVALID_RESIDENT_IDS],
    *[(normalize_credit_code, raw) for raw, _ in INVALID_CREDIT_CODES],
    *[(normalize_card_number, raw) for raw, _ in INVALID_CARD_NUMBERS],
    *[(normalize_mobile, raw) for raw, _ in INVALID_MOBILES],
]


@pytest.mark.parametrize(("validate", "raw"), ALL_INVALID)
def test_error_messages_never_contain_the_value(validate: Callable[[str], str], raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate(raw)
    error = caught.value
    texts = [str(error), repr(error), error.message, *map(str, error.args)]
    clean = normalize_identifier(raw)
    for text in texts:
        if raw.strip():
            assert raw not in text
            assert raw.strip() not in text
        if clean:
            assert clean not in text
            assert clean.lower() not in text
        # No run of digits that could be a fragment of an identifier.
        assert re.search(r"\d{5,}", text) is None
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


def test_every_reason_code_is_produced_by_some_validator() -> None:
    produced = {
        reason
        for cases in (INVALID_RESIDENT_IDS, INVALID_CREDIT_CODES, INVALID_CARD_NUMBERS, INVALID_MOBILES)
        for _, reason in cases
    }
    assert produced == set(Reason)


def test_invalid_identifier_is_a_value_error_that_survives_pickling() -> None:
    error = InvalidIdentifier(Reason.BAD_REGION, "resident id: region code has no valid province prefix")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.reason is Reason.BAD_REGION
    assert str(copy) == str(error)


def test_reason_codes_are_plain_strings() -> None:
    assert isinstance(Reason.BAD_CHECK_DIGIT, str)
    assert Reason("bad_check_digit") is Reason.BAD_CHECK_DIGIT
    assert {str(reason) for reason in Reason} == {
        "bad_check_digit",
        "bad_length",
        "bad_birth_date",
        "bad_region",
        "bad_characters",
        "bad_prefix",
    }
