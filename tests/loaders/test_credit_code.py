"""Tests for the unified social credit code (GB 32100-2015)."""

from __future__ import annotations

import pytest

from loaders.identifiers import (
    CREDIT_CODE_ALPHABET,
    InvalidIdentifier,
    Reason,
    credit_code_check_char,
    normalize_credit_code,
)
from tests.loaders.identifier_samples import credit_code, wrong_last

PUBLISHED_CREDIT_CODE = "91350100M000100Y43"


def test_credit_code_published_example_passes() -> None:
    assert credit_code_check_char(PUBLISHED_CREDIT_CODE[:17]) == "3"
    assert normalize_credit_code(PUBLISHED_CREDIT_CODE) == PUBLISHED_CREDIT_CODE


@pytest.mark.parametrize(
    "valid",
    [
        credit_code("91110000MA01ABCD7"),
        credit_code("12100000400000624"),
        credit_code("52440300MJL000000"),
        credit_code("Y1440300000000000"),
        credit_code("93440101MA5CXYWUR"),
    ],
)
def test_valid_credit_codes_pass_unchanged(valid: str) -> None:
    assert normalize_credit_code(valid) == valid


def test_credit_code_check_char_takes_every_value_and_maps_31_to_zero() -> None:
    # The last weight (28) is invertible mod 31, so varying the 17th character alone reaches every value.
    seen = {credit_code_check_char(f"91110000MA01ABCD{char}") for char in CREDIT_CODE_ALPHABET}
    assert seen == set(CREDIT_CODE_ALPHABET)
    # A weighted sum divisible by 31 would give 31 - 0 = 31, which maps to '0'.
    assert credit_code_check_char("0" * 17) == "0"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91350100m000100y43", PUBLISHED_CREDIT_CODE),
        ("  9135 0100 M000 100Y 43 ", PUBLISHED_CREDIT_CODE),
        ("913501-00M000100-Y43", PUBLISHED_CREDIT_CODE),
        ("９１３５０１００Ｍ０００１００Ｙ４３", PUBLISHED_CREDIT_CODE),
        ("９１３５０１００ｍ０００１００ｙ４３", PUBLISHED_CREDIT_CODE),
    ],
)
def test_credit_code_normalisation(raw: str, expected: str) -> None:
    assert normalize_credit_code(raw) == expected


INVALID_CREDIT_CODES: list[tuple[str, Reason]] = [
    *[(PUBLISHED_CREDIT_CODE[:8] + bad + PUBLISHED_CREDIT_CODE[9:], Reason.BAD_CHARACTERS) for bad in "IOZSV"],
    ("91350100M000100Y4.", Reason.BAD_CHARACTERS),
    ("91350100M000100Y4张", Reason.BAD_CHARACTERS),
    ("", Reason.BAD_LENGTH),
    ("91350100M000100Y4", Reason.BAD_LENGTH),
    ("91350100M000100Y433", Reason.BAD_LENGTH),
    (wrong_last(PUBLISHED_CREDIT_CODE, CREDIT_CODE_ALPHABET), Reason.BAD_CHECK_DIGIT),
    (wrong_last(credit_code("91110000MA01ABCD7"), CREDIT_CODE_ALPHABET), Reason.BAD_CHECK_DIGIT),
    ("91350100M000010Y43", Reason.BAD_CHECK_DIGIT),  # transposed characters
]


@pytest.mark.parametrize(("raw", "reason"), INVALID_CREDIT_CODES)
def test_invalid_credit_codes_are_refused(raw: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_credit_code(raw)
    assert caught.value.reason is reason
    assert str(caught.value).startswith("credit code: ")


@pytest.mark.parametrize(
    ("first17", "reason"),
    [("9135010", Reason.BAD_LENGTH), ("91350100I000100Y4", Reason.BAD_CHARACTERS)],
)
def test_credit_code_check_char_rejects_bad_input(first17: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        credit_code_check_char(first17)
    assert caught.value.reason is reason
