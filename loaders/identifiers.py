"""Validating, normalising, masking and hashing personal financial identifiers.

Covers the Chinese resident identity number (GB 11643-1999), the unified social credit code
(GB 32100-2015), bank card numbers (Luhn), mainland mobile numbers, display masks and keyed hashes.

Every function is pure (the only clock read is the default ``today`` of :func:`normalize_resident_id`).
Errors are :class:`InvalidIdentifier` with a :class:`Reason` code; their messages never contain the
offending value, because it is personal data and messages end up in logs and quarantine files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from graph.errors import CrmGraphError

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "PROVINCE_CODES",
    "InvalidIdentifier",
    "Reason",
    "birth_date_from_resident_id",
    "credit_code_check_char",
    "gender_from_resident_id",
    "keyed_hash",
    "keyed_hashes",
    "luhn_check_digit",
    "mask_card",
    "mask_name",
    "mask_phone",
    "mask_resident_id",
    "normalize_card_number",
    "normalize_credit_code",
    "normalize_identifier",
    "normalize_mobile",
    "normalize_resident_id",
    "resident_id_check_digit",
    "to_half_width",
]


class Reason(StrEnum):
    """Why an identifier was refused; stable codes that loaders use as quarantine reasons."""

    BAD_CHARACTERS = "bad_characters"
    BAD_LENGTH = "bad_length"
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_BIRTH_DATE = "bad_birth_date"
    BAD_REGION = "bad_region"
    BAD_PREFIX = "bad_prefix"


class InvalidIdentifier(CrmGraphError, ValueError):
    """An identifier failed validation. ``reason`` is a :class:`Reason`; the message omits the value."""

    def __init__(self, reason: Reason, message: str) -> None:
        self.reason: Reason = reason
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[type[InvalidIdentifier], tuple[Reason, str]]:
        # The default reduce would call cls(message) and fail; loaders may pass errors between processes.
        return (type(self), (self.reason, self.message))


# ---------------------------------------------------------------------------------------------------
# Width and separators
# ---------------------------------------------------------------------------------------------------

_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH[0x3000] = 0x20


def to_half_width(text: str) -> str:
    """Map full-width ASCII forms (U+FF01..U+FF5E) to ASCII and the ideographic space to a space."""
    # isascii() reads a flag CPython keeps on the string; translate() looks up every character.
    return text if text.isascii() else text.translate(_HALF_WIDTH)


def normalize_identifier(text: str) -> str:
    """Half-width, stripped, without spaces or hyphens, upper-cased: the common first step for ids."""
    return to_half_width(text).strip().replace(" ", "").replace("-", "").upper()


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() accepts other scripts' digits (e.g. Arabic-Indic), which int() would then accept too.
    return text.isascii() and text.isdigit()


# ---------------------------------------------------------------------------------------------------
# Resident identity number (GB 11643-1999)
# ---------------------------------------------------------------------------------------------------

# First two digits of the address code. 71 Taiwan, 81 Hong Kong, 82 Macao, 91 foreigners' permanent
# residence (2023 format, which reuses the resident-id layout).
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(code) for code in range(11, 16)]
    + [str(code) for code in range(21, 24)]
    + [str(code) for code in range(31, 38)]
    + [str(code) for code in range(41, 47)]
    + [str(code) for code in range(50, 55)]
    + [str(code) for code in range(61, 66)]
    + ["71", "81", "82", "91"]
)

_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1900
_RID = "resident id"


def resident_id_check_digit(first17: str) -> str:
    """The GB 11643 check character ('0'-'9' or 'X') for the first 17 digits of a resident id."""
    if len(first17) != 17:
        raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_RID}: check digit needs exactly 17 digits")
    if not _is_ascii_digits(first17):
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_RID}: check digit needs digits only")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def normalize_resident_id(raw: str, *, today: date | None = None) -> str:
    """The canonical 18-character resident id for ``raw`` (18 or legacy 15 digits).

    Raises :class:`InvalidIdentifier` on bad characters, length, region, birth date or check digit.
    ``today`` bounds the birth date; it defaults to the current date.
    """
    value = normalize_identifier(raw)
    if not all(char.isascii() and (char.isdigit() or char == "X") for char in value):
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_RID}: only digits and a final X are allowed")
    if len(value) == 15:
        if not value.isdigit():
            raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_RID}: a 15-digit id has digits only")
        # Legacy ids were issued to people born in the 1900s and carry no check digit.
        first17 = value[:6] + "19" + value[6:]
        value = first17 + resident_id_check_digit(first17)
    elif len(value) == 18:
        if not value[:17].isdigit():
            raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_RID}: X is allowed only as the last character")
    else:
        raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_RID}: expected 15 or 18 characters")

    if value[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(Reason.BAD_REGION, f"{_RID}: region code has no valid province prefix")
    born = _birth_date(value)
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidIdentifier(Reason.BAD_BIRTH_DATE, f"{_RID}: birth date is before 1900")
    if born > (today if today is not None else date.today()):
        raise InvalidIdentifier(Reason.BAD_BIRTH_DATE, f"{_RID}: birth date is in the future")
    if resident_id_check_digit(value[:17]) != value[17]:
        raise InvalidIdentifier(Reason.BAD_CHECK_DIGIT, f"{_RID}: check digit does not match")
    return value


def _require_id18_shape(id18: str) -> None:
    if len(id18) != 18:
        raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_RID}: expected a canonical 18-character id")
    if not _is_ascii_digits(id18[:17]):
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_RID}: expected a canonical 18-character id")


def _birth_date(id18: str) -> date:
    try:
        return date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        # from None: the calendar error adds nothing and should not travel with the record.
        raise InvalidIdentifier(Reason.BAD_BIRTH_DATE, f"{_RID}: birth date is not a real date") from None


def birth_date_from_resident_id(id18: str) -> date:
    """The birth date encoded in a canonical 18-character resident id."""
    _require_id18_shape(id18)
    return _birth_date(id18)


def gender_from_resident_id(id18: str) -> str:
    """'M' if the 17th digit (the sequence number's last) of a canonical id is odd, else 'F'."""
    _require_id18_shape(id18)
    return "M" if int(id18[16]) % 2 == 1 else "F"


# ---------------------------------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015)
# ---------------------------------------------------------------------------------------------------

# No I, O, Z, S, V: they are too easily confused with 1, 0, 2, 5 and U.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_VALUES = {char: index for index, char in enumerate(CREDIT_CODE_ALPHABET)}
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CC = "credit code"


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17:
        raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_CC}: check character needs exactly 17 characters")
    if not all(char in _CREDIT_CODE_VALUES for char in first17):
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_CC}: character outside the code alphabet")
    total = sum(_CREDIT_CODE_VALUES[char] * weight for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(raw: str) -> str:
    """The canonical 18-character unified social credit code for ``raw``; raises InvalidIdentifier."""
    value = normalize_identifier(raw)
    if not all(char in _CREDIT_CODE_VALUES for char in value):
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_CC}: character outside the code alphabet")
    if len(value) != 18:
        raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_CC}: expected 18 characters")
    if credit_code_check_char(value[:17]) != value[17]:
        raise InvalidIdentifier(Reason.BAD_CHECK_DIGIT, f"{_CC}: check character does not match")
    return value


# ---------------------------------------------------------------------------------------------------
# Bank card numbers
# ---------------------------------------------------------------------------------------------------

_CARD = "card number"
_CARD_MIN_LENGTH = 13
_CARD_MAX_LENGTH = 19


def luhn_check_digit(partial: str) -> str:
    """The Luhn digit that makes ``partial`` + digit a valid number."""
    if not partial:
        raise InvalidIdentifier(Reason.BAD_LENGTH, "luhn: needs at least one digit")
    if not _is_ascii_digits(partial):
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, "luhn: digits only")
    total = 0
    # Counting from the right of the partial number: the check digit will sit to its right, so the
    # partial's last digit is the first one doubled.
    for position, char in enumerate(reversed(partial)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def normalize_card_number(raw: str) -> str:
    """The card number's 13-19 digits, separators removed; raises InvalidIdentifier."""
    value = normalize_identifier(raw)
    if not _is_ascii_digits(value):
        if not value:
            raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_CARD}: expected 13 to 19 digits")
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_CARD}: digits only")
    if not _CARD_MIN_LENGTH <= len(value) <= _CARD_MAX_LENGTH:
        raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_CARD}: expected 13 to 19 digits")
    if luhn_check_digit(value[:-1]) != value[-1]:
        raise InvalidIdentifier(Reason.BAD_CHECK_DIGIT, f"{_CARD}: check digit does not match")
    return value


# ---------------------------------------------------------------------------------------------------
# Mainland mobile numbers
# ---------------------------------------------------------------------------------------------------

_MOBILE = "mobile number"


def normalize_mobile(raw: str) -> str:
    """The 11 digits of a mainland mobile number, without +86/86/0086 or separators."""
    value = normalize_identifier(raw)
    if value.startswith("+"):
        if not value.startswith("+86"):
            raise InvalidIdentifier(Reason.BAD_PREFIX, f"{_MOBILE}: only the +86 country code is accepted")
        value = value[3:]
    # Strip a bare country code only when what remains has the length of a mobile number, so that a
    # malformed number is reported as such instead of being shortened into something plausible.
    elif len(value) == 15 and value.startswith("0086"):
        value = value[4:]
    elif len(value) == 13 and value.startswith("86"):
        value = value[2:]
    if not _is_ascii_digits(value):
        if not value:
            raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_MOBILE}: expected 11 digits")
        raise InvalidIdentifier(Reason.BAD_CHARACTERS, f"{_MOBILE}: digits only")
    if len(value) != 11:
        raise InvalidIdentifier(Reason.BAD_LENGTH, f"{_MOBILE}: expected 11 digits")
    if value[0] != "1" or value[1] not in "3456789":
        raise InvalidIdentifier(Reason.BAD_PREFIX, f"{_MOBILE}: must start with 13 to 19")
    return value


# ---------------------------------------------------------------------------------------------------
# Display masks
# ---------------------------------------------------------------------------------------------------


def _mask_middle(value: str, head: int, tail: int) -> str:
    # Too short to show both ends and still hide something: hide it all rather than show it all.
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_phone(phone: str) -> str:
    """Keep the first 3 and last 4 digits: '13812345678' -> '138****5678'."""
    return _mask_middle(phone, 3, 4)


def mask_card(number: str) -> str:
    """Keep the first 6 (issuer) and last 4 digits of a card number."""
    return _mask_middle(number, 6, 4)


def mask_resident_id(id18: str) -> str:
    """Keep the first 6 (region) and the last (check) character: '110105***********X'.

    The birth date and the 3-digit sequence stay hidden: shown beside birth year and sex, the sequence
    would leave only about 34 candidate numbers. Without it at least 365 x 500 / 11 (about 16,600)
    remain; README "Security model" states the rule and tests/api/test_masking.py computes the bound.
    The mask of a mask is the same mask, so masks stored by an earlier rule can be masked again.
    """
    return _mask_middle(id18, 6, 1)


_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_WORD = re.compile(r"\S+")


def mask_name(name: str) -> str:
    """A Chinese name keeps its first character ('张三丰' -> '张**'); other names keep each word's initial."""
    stripped = name.strip()
    if _CJK.search(stripped):
        return stripped[:1] + "*" * (len(stripped) - 1)
    return _WORD.sub(lambda word: word.group()[0] + "*" * (len(word.group()) - 1), stripped)


# ---------------------------------------------------------------------------------------------------
# Keyed hashes
# ---------------------------------------------------------------------------------------------------


def keyed_hash(value: str, key: bytes, *, purpose: str) -> str:
    """HMAC-SHA256 of ``purpose:value`` under ``key``, as 32 hex characters; normalise ``value`` first.

    The purpose is mixed in so that hashes made for different purposes never join: the same phone
    number hashed for customer matching and for, say, a fraud watch list gives unrelated values, and
    one table cannot be linked to the other without the key. A plain hash would not do: identifiers
    have so few possible values that an unkeyed hash is reversed by trying them all.
    """
    return keyed_hashes([value], key, purpose=purpose)[0]


def keyed_hashes(values: Iterable[str], key: bytes, *, purpose: str) -> list[str]:
    """:func:`keyed_hash` of each value, with the key and purpose checked once (a column's worth at a time)."""
    if not key:
        raise ValueError("keyed_hash: the key must not be empty")
    # A colon in the purpose would make "a:b" + "c" collide with "a" + "b:c".
    if not purpose or ":" in purpose:
        raise ValueError("keyed_hash: the purpose must be non-empty and contain no ':'")
    # HMAC (RFC 2104) from the two SHA-256 states of the padded key, made once and copied per value:
    # ``hmac.digest`` makes them again for every value (2.5x the time on 100,000 resident ids).
    padded = (hashlib.sha256(key).digest() if len(key) > _SHA256_BLOCK else key).ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(padded.translate(_INNER_PAD))
    outer = hashlib.sha256(padded.translate(_OUTER_PAD))
    inner.update(f"{purpose}:".encode())
    hashes = []
    for value in values:
        message = inner.copy()
        message.update(value.encode())
        keyed = outer.copy()
        keyed.update(message.digest())
        hashes.append(keyed.hexdigest()[:32])
    return hashes


_SHA256_BLOCK = 64
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))
