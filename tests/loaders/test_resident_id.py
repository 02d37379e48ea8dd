"""Tests for the resident identity number (GB 11643-1999): check digit, normalisation, birth date and sex."""

from __future__ import annotations

from datetime import date

import pytest

from loaders.identifiers import (
    PROVINCE_CODES,
    InvalidIdentifier,
    Reason,
    birth_date_from_resident_id,
    gender_from_resident_id,
    normalize_resident_id,
    resident_id_check_digit,
)
from tests.loaders.identifier_samples import GB11643_EXAMPLE, TODAY, resident_id, wrong_last


def test_resident_id_published_example_passes() -> None:
    assert resident_id_check_digit(GB11643_EXAMPLE[:17]) == "X"
    assert normalize_resident_id(GB11643_EXAMPLE, today=TODAY) == GB11643_EXAMPLE


@pytest.mark.parametrize(
    "valid",
    [
        resident_id("110105", "19491231", "002"),
        resident_id("440305", "20000229", "123"),  # leap day
        resident_id("310101", "19000101", "001"),  # earliest accepted year
        resident_id("650102", "20240615", "998"),  # born today
        resident_id("710000", "19800101", "011"),
        resident_id("810000", "19991231", "024"),
        resident_id("820000", "19751010", "033"),
        resident_id("910000", "19850505", "047"),
    ],
)
def test_valid_resident_ids_pass_unchanged(valid: str) -> None:
    assert normalize_resident_id(valid, today=TODAY) == valid


def test_resident_id_check_digit_takes_every_value() -> None:
    seen = {resident_id_check_digit(f"11010519800101{sequence:03d}") for sequence in range(200)}
    assert seen == set("0123456789X")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", GB11643_EXAMPLE),
        (f"  {GB11643_EXAMPLE}  ", GB11643_EXAMPLE),
        ("110105 19491231 002X", GB11643_EXAMPLE),
        ("110105-19491231-002X", GB11643_EXAMPLE),
        ("１１０１０５１９４９１２３１００２Ｘ", GB11643_EXAMPLE),
        ("１１０１０５１９４９１２３１００２ｘ", GB11643_EXAMPLE),
        ("\u3000１１０１０５\u3000１９４９１２３１\u3000００２Ｘ\u3000", GB11643_EXAMPLE),
    ],
)
def test_resident_id_normalisation(raw: str, expected: str) -> None:
    assert normalize_resident_id(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("legacy", "region", "birth", "sequence"),
    [
        ("110105491231002", "110105", "19491231", "002"),
        ("440305800229123", "440305", "19800229", "123"),
        ("310101000101001", "310101", "19000101", "001"),
    ],
)
def test_fifteen_digit_ids_become_eighteen(legacy: str, region: str, birth: str, sequence: str) -> None:
    assert normalize_resident_id(legacy, today=TODAY) == resident_id(region, birth, sequence)


def test_fifteen_digit_full_width_id_is_converted() -> None:
    assert normalize_resident_id("１１０１０５４９１２３１００２", today=TODAY) == GB11643_EXAMPLE


def test_resident_id_today_defaults_to_the_current_date() -> None:
    assert normalize_resident_id(GB11643_EXAMPLE) == GB11643_EXAMPLE
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_resident_id(resident_id("110105", f"{date.today().year + 1}0101", "001"))
    assert caught.value.reason is Reason.BAD_BIRTH_DATE


INVALID_RESIDENT_IDS: list[tuple[str, Reason]] = [
    ("11010519491231002Y", Reason.BAD_CHARACTERS),
    ("110105X9491231002X", Reason.BAD_CHARACTERS),  # X not in last place
    ("11010549123100X", Reason.BAD_CHARACTERS),  # a 15-digit id has no check character
    ("110105.19491231.002X", Reason.BAD_CHARACTERS),
    ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", Reason.BAD_CHARACTERS),  # Arabic-Indic digits
    ("", Reason.BAD_LENGTH),
    ("1101051949123100", Reason.BAD_LENGTH),
    ("11010519491231002", Reason.BAD_LENGTH),
    ("11010519491231002XX", Reason.BAD_LENGTH),
    ("1101051949123100211", Reason.BAD_LENGTH),
    (resident_id("000000", "19800101", "001"), Reason.BAD_REGION),
    (resident_id("160101", "19800101", "001"), Reason.BAD_REGION),
    (resident_id("990101", "19800101", "001"), Reason.BAD_REGION),
    ("000000800101001", Reason.BAD_REGION),
    (resident_id("110105", "19000229", "001"), Reason.BAD_BIRTH_DATE),  # 1900 is not a leap year
    (resident_id("110105", "19811301", "001"), Reason.BAD_BIRTH_DATE),
    (resident_id("110105", "19810000", "001"), Reason.BAD_BIRTH_DATE),
    (resident_id("110105", "18991231", "001"), Reason.BAD_BIRTH_DATE),
    (resident_id("110105", "20240616", "001"), Reason.BAD_BIRTH_DATE),  # the day after TODAY
    ("110105810230001", Reason.BAD_BIRTH_DATE),  # 15 digits, 30 February
    (wrong_last(GB11643_EXAMPLE, "0123456789X"), Reason.BAD_CHECK_DIGIT),
    (wrong_last(resident_id("440305", "20000229", "123"), "0123456789X"), Reason.BAD_CHECK_DIGIT),
    ("11010519491231003X", Reason.BAD_CHECK_DIGIT),  # transposed digit in the sequence number
]


@pytest.mark.parametrize(("raw", "reason"), INVALID_RESIDENT_IDS)
def test_invalid_resident_ids_are_refused(raw: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_resident_id(raw, today=TODAY)
    assert caught.value.reason is reason
    assert str(caught.value).startswith("resident id: ")


def test_every_province_code_is_accepted() -> None:
    for province in sorted(PROVINCE_CODES):
        valid = resident_id(province + "0000", "19800101", "001")
        assert normalize_resident_id(valid, today=TODAY) == valid


@pytest.mark.parametrize(
    ("first17", "reason"),
    [
        ("1101051949123100", Reason.BAD_LENGTH),
        ("11010519491231002X", Reason.BAD_LENGTH),
        ("1101051949123100A", Reason.BAD_CHARACTERS),
        ("１１０１０５１９４９１２３１００２", Reason.BAD_CHARACTERS),
    ],
)
def test_resident_id_check_digit_rejects_bad_input(first17: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        resident_id_check_digit(first17)
    assert caught.value.reason is reason


@pytest.mark.parametrize(
    ("id18", "born", "gender"),
    [
        (GB11643_EXAMPLE, date(1949, 12, 31), "F"),
        (resident_id("440305", "20000229", "124"), date(2000, 2, 29), "F"),
        (resident_id("440305", "20000229", "120"), date(2000, 2, 29), "F"),
        (resident_id("310101", "19751010", "011"), date(1975, 10, 10), "M"),
        (resident_id("310101", "19751010", "019"), date(1975, 10, 10), "M"),
    ],
)
def test_birth_date_and_gender(id18: str, born: date, gender: str) -> None:
    assert birth_date_from_resident_id(id18) == born
    assert gender_from_resident_id(id18) == gender


@pytest.mark.parametrize(
    ("id18", "reason"),
    [
        ("110105491231002", Reason.BAD_LENGTH),
        ("1101051949123100AX", Reason.BAD_CHARACTERS),
        ("11010519491331002X", Reason.BAD_BIRTH_DATE),
    ],
)
def test_birth_date_from_resident_id_rejects_non_canonical_ids(id18: str, reason: Reason) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        birth_date_from_resident_id(id18)
    assert caught.value.reason is reason


@pytest.mark.parametrize("id18", ["110105491231002", "1101051949123100AX"])
def test_gender_from_resident_id_rejects_non_canonical_ids(id18: str) -> None:
    with pytest.raises(InvalidIdentifier):
        gender_from_resident_id(id18)
