"""Tests for loaders.identifiers: validation, normalisation, masking and keyed hashing of identifiers."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import re
from collections.abc import Callable
from datetime import date

import pytest

from loaders.identifiers import (
    CREDIT_CODE_ALPHABET,
    PROVINCE_CODES,
    InvalidIdentifier,
    Reason,
    birth_date_from_resident_id,
    credit_code_check_char,
    gender_from_resident_id,
    keyed_hash,
    luhn_check_digit,
    mask_card,
    mask_name,
    mask_phone,
    mask_resident_id,
    normalize_card_number,
    normalize_credit_code,
    normalize_identifier,
    normalize_mobile,
    normalize_resident_id,
    resident_id_check_digit,
    to_half_width,
)

TODAY = date(2024, 6, 15)


def resident_id(region: str, birth: str, sequence: str) -> str:
    first17 = region + birth + sequence
    return first17 + resident_id_check_digit(first17)


def credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


def card(partial: str) -> str:
    return partial + luhn_check_digit(partial)


def wrong_last(value: str, alphabet: str) -> str:
    """``value`` with its last character replaced by a different one from ``alphabet``."""
    replacement = next(char for char in alphabet if char != value[-1])
    return value[:-1] + replacement


def full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


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
# Resident identity number
# --------------------------------------------------------------------------------------------------

GB11643_EXAMPLE = "11010519491231002X"


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


# --------------------------------------------------------------------------------------------------
# Unified social credit code
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("19900000001", "199****0001"), ("1234567", "*******"), ("", "")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("4111111111111111", "411111******1111"),
        ("4222222222222", "422222***2222"),
        ("6222021001123456789", "622202*********6789"),
        ("1234567890", "**********"),
    ],
)
def test_mask_card(number: str, masked: str) -> None:
    assert mask_card(number) == masked


@pytest.mark.parametrize(
    ("id18", "masked"),
    [(GB11643_EXAMPLE, "110105***********X"), ("440305200002291234", "440305***********4")],
)
def test_mask_resident_id(id18: str, masked: str) -> None:
    assert mask_resident_id(id18) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("张", "张"),
        (" 李四 ", "李*"),
        ("John Smith", "J*** S****"),
        ("Mary Anne O'Neil", "M*** A*** O*****"),
        ("Li", "L*"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_masks_keep_length() -> None:
    for value, mask in [
        ("13812345678", mask_phone),
        ("6222021001123456789", mask_card),
        (GB11643_EXAMPLE, mask_resident_id),
    ]:
        assert len(mask(value)) == len(value)


# --------------------------------------------------------------------------------------------------
# Keyed hashes
# --------------------------------------------------------------------------------------------------

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"


def test_keyed_hash_is_deterministic_and_32_hex_chars() -> None:
    first = keyed_hash("13812345678", KEY, purpose="customer-match")
    assert first == keyed_hash("13812345678", KEY, purpose="customer-match")
    assert re.fullmatch(r"[0-9a-f]{32}", first)


def test_keyed_hash_matches_hmac_sha256_of_purpose_and_value() -> None:
    expected = hmac.new(KEY, b"customer-match:13812345678", hashlib.sha256).hexdigest()[:32]
    assert keyed_hash("13812345678", KEY, purpose="customer-match") == expected


def test_keyed_hash_depends_on_the_key() -> None:
    assert keyed_hash("13812345678", KEY, purpose="customer-match") != keyed_hash(
        "13812345678", OTHER_KEY, purpose="customer-match"
    )


def test_keyed_hash_depends_on_the_purpose() -> None:
    assert keyed_hash("13812345678", KEY, purpose="customer-match") != keyed_hash(
        "13812345678", KEY, purpose="watch-list"
    )


def test_keyed_hash_depends_on_the_value() -> None:
    assert keyed_hash("13812345678", KEY, purpose="customer-match") != keyed_hash(
        "13812345679", KEY, purpose="customer-match"
    )


def test_keyed_hash_does_not_contain_the_value() -> None:
    assert "13812345678" not in keyed_hash("13812345678", KEY, purpose="customer-match")


@pytest.mark.parametrize(
    ("key", "purpose"),
    [(b"", "customer-match"), (KEY, ""), (KEY, "customer:match")],
)
def test_keyed_hash_rejects_empty_key_and_ambiguous_purpose(key: bytes, purpose: str) -> None:
    with pytest.raises(ValueError):
        keyed_hash("13812345678", key, purpose=purpose)
