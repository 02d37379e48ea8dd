"""Tests for bank card numbers (Luhn) and mainland mobile numbers."""

from __future__ import annotations

import pytest

from loaders.identifiers import (
    InvalidIdentifier,
    Reason,
    luhn_check_digit,
    normalize_card_number,
    normalize_mobile,
)
from tests.loaders.identifier_samples import card, wrong_last

# --------------------------------------------------------------------------------------------------
# Bank card numbers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partial", "check"),
    [("7992739871", "3"), ("411111111111111", "1"), ("0", "0"), ("1", "8"), ("5", "9")],
)
def test_luhn_check_digit_known_values(partial: str, check: str) -> None:
    assert luhn_check_digit(partial) == check


@pytest.mark.parametrize(("partial", "reason"), [("", Reason.BAD_LENGTH), ("41x1", Reason.BAD_CHARACTERS)])
def test_luhn_check_digit_rejects_bad_input(partial: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        luhn_check_digit(partial)
    assert caught.value.reason is reason


@pytest.mark.parametrize(
    "valid",
    [
        "4111111111111111",  # the well-known Visa test number
        "4222222222222",  # 13-digit Visa test number
        card("622202100112345678"),  # 19 digits, UnionPay prefix
        card("62148302123456"),  # 15 digits
        card("622848001234567"),  # 16 digits
        card("123456789012"),  # 13 digits
        card("0" * 18),  # 19 digits
    ],
)
def test_valid_card_numbers_pass_unchanged(valid: str) -> None:
    assert normalize_card_number(valid) == valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4111 1111 1111 1111", "4111111111111111"),
        ("4111-1111-1111-1111", "4111111111111111"),
        ("  4111111111111111\t", "4111111111111111"),
        ("４１１１\u3000１１１１\u3000１１１１\u3000１１１１", "4111111111111111"),
    ],
)
def test_card_number_normalisation(raw: str, expected: str) -> None:
    assert normalize_card_number(raw) == expected


INVALID_CARD_NUMBERS: list[tuple[str, Reason]] = [
    ("4111 1111 1111 111A", Reason.BAD_CHARACTERS),
    ("4111.1111.1111.1111", Reason.BAD_CHARACTERS),
    ("4111/1111/1111/1111", Reason.BAD_CHARACTERS),
    ("", Reason.BAD_LENGTH),
    ("   ", Reason.BAD_LENGTH),
    (card("12345678901"), Reason.BAD_LENGTH),  # 12 digits, Luhn-valid
    (card("1234567890123456789"), Reason.BAD_LENGTH),  # 20 digits, Luhn-valid
    ("4111111111111112", Reason.BAD_CHECK_DIGIT),
    ("4111111111111121", Reason.BAD_CHECK_DIGIT),  # transposed digits
    (wrong_last(card("622202100112345678"), "0123456789"), Reason.BAD_CHECK_DIGIT),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID_CARD_NUMBERS)
def test_invalid_card_numbers_are_refused(raw: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_card_number(raw)
    assert caught.value.reason is reason
    assert str(caught.value).startswith("card number: ")


# --------------------------------------------------------------------------------------------------
# Mainland mobile numbers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("14700000000", "14700000000"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("86 13812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("＋８６\u3000１３８\u3000１２３４\u3000５６７８", "13812345678"),
    ],
)
def test_mobile_normalisation(raw: str, expected: str) -> None:
    assert normalize_mobile(raw) == expected


INVALID_MOBILES: list[tuple[str, Reason]] = [
    ("12345678901", Reason.BAD_PREFIX),
    ("10012345678", Reason.BAD_PREFIX),
    ("23812345678", Reason.BAD_PREFIX),
    ("+1 415 555 2671", Reason.BAD_PREFIX),
    ("+852 9123 4567", Reason.BAD_PREFIX),
    ("+8612345678901", Reason.BAD_PREFIX),
    ("138a2345678", Reason.BAD_CHARACTERS),
    ("138.1234.5678", Reason.BAD_CHARACTERS),
    ("(+86)13812345678", Reason.BAD_CHARACTERS),
    ("138+12345678", Reason.BAD_CHARACTERS),
    ("", Reason.BAD_LENGTH),
    ("+86", Reason.BAD_LENGTH),
    ("1381234567", Reason.BAD_LENGTH),
    ("138123456789", Reason.BAD_LENGTH),
    ("+86 1381234567", Reason.BAD_LENGTH),
    ("86138123456", Reason.BAD_PREFIX),  # 11 digits: "86" is not taken for a country code
    ("0086138123456", Reason.BAD_LENGTH),
    ("010-12345678", Reason.BAD_PREFIX),  # a Beijing landline
]


@pytest.mark.parametrize(("raw", "reason"), INVALID_MOBILES)
def test_invalid_mobiles_are_refused(raw: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_mobile(raw)
    assert caught.value.reason is reason
    assert str(caught.value).startswith("mobile number: ")
