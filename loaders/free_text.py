"""Identifiers hidden in free text: phone, resident-ID and card numbers in what people type.

People write numbers the way they read them out: ``138 1234 5678``, ``6222-0212-3456-7890``, or in
full-width digits from a Chinese input method (``１３８１２３４５６７８``). So a number here is a run of
decimal digits of any script, where up to three spaces or dashes may sit between two digits; a resident
ID may end in ``X``. Any such run of 11 digits or more is taken for an identifier: masking a long case
number by mistake costs little, leaving a phone number in clear does not.

:func:`mask_identifiers` masks them (interaction summaries are stored masked) and says which kinds it
found; :func:`identifier_kinds` only finds them (an unmasking reason that carries one is refused).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from loaders.identifiers import InvalidIdentifier, mask_phone, mask_resident_id, normalize_resident_id

SHORTEST_IDENTIFIER = 11  # digits of a mobile number, the shortest identifier looked for
MOST_SEPARATORS = 3  # spaces or dashes allowed between two digits of one number
DASHES = frozenset("-‐‑‒–—−－﹣")
CHECK_CHARACTERS = frozenset("XxＸｘ")


class IdentifierKind(StrEnum):
    PHONE = "phone"
    RESIDENT_ID = "resident_id"
    CARD = "card"
    NUMBER = "number"  # long enough to identify someone, of no shape we know


@dataclass(frozen=True)
class FoundNumber:
    start: int
    end: int  # one past the last character of the run, in the original text
    digits: str  # ASCII digits, with a final X for a resident ID
    kind: IdentifierKind


@dataclass(frozen=True)
class MaskedText:
    text: str
    kinds: list[IdentifierKind]  # what was masked, each kind once, in a fixed order


def _digit(char: str) -> str | None:
    value = unicodedata.decimal(char, None)
    return None if value is None else str(value)


def _mobile_part(digits: str) -> str | None:
    """The 11-digit mobile number ``digits`` is, with or without the country code (86 or 0086)."""
    for prefix in ("", "86", "0086"):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) == 11 and rest[0] == "1":
            return rest
    return None


def _classify(digits: str) -> IdentifierKind:
    if len(digits) in (15, 18):
        try:
            normalize_resident_id(digits)
        except InvalidIdentifier:
            pass
        else:
            return IdentifierKind.RESIDENT_ID
    if digits.endswith("X"):
        return IdentifierKind.RESIDENT_ID
    if _mobile_part(digits):
        return IdentifierKind.PHONE
    if 13 <= len(digits) <= 19:
        return IdentifierKind.CARD
    return IdentifierKind.NUMBER


_SEPARATOR = "[\\s" + "".join(re.escape(dash) for dash in sorted(DASHES)) + "]"
r"""A space (``\s`` on text is what ``str.isspace`` reads) or a dash between two digits of one number."""
_RUN = re.compile(rf"\d+(?:{_SEPARATOR}{{1,{MOST_SEPARATORS}}}\d+)*")
r"""A run of decimal digits of any script (``\d`` on text matches what ``unicodedata.decimal`` reads), up to
:data:`MOST_SEPARATORS` separators between two of them."""
_LONG_RUN = re.compile(rf"\d(?:{_SEPARATOR}{{0,{MOST_SEPARATORS}}}\d){{{SHORTEST_IDENTIFIER - 1}}}")
"""Somewhere a run holds at least :data:`SHORTEST_IDENTIFIER` digits: most texts hold none, told in one search."""
_CHECK_AFTER = re.compile(rf"{_SEPARATOR}{{0,{MOST_SEPARATORS}}}[{''.join(sorted(CHECK_CHARACTERS))}]")
"""A resident ID's check character after its 17 digits."""
_NOT_DIGIT = re.compile(r"\D")


def find_numbers(text: str) -> list[FoundNumber]:
    """Every run of at least 11 digits in ``text`` (any digit script, spaces or dashes between digits)."""
    # Runs are found by the regular expression engine, not character by character in Python: quarantined
    # lines are redacted with this and are mostly digits and delimiters, with no number long enough.
    if _LONG_RUN.search(text) is None:
        return []
    found: list[FoundNumber] = []
    for run in _RUN.finditer(text):
        start, end = run.span()
        if end - start < SHORTEST_IDENTIFIER:
            continue
        digits = _NOT_DIGIT.sub("", run.group())
        if len(digits) == 17 and (check := _CHECK_AFTER.match(text, end)) is not None:
            digits, end = digits + "X", check.end()
        if len(digits) >= SHORTEST_IDENTIFIER:
            number = _ascii_digits(digits)
            found.append(FoundNumber(start, end, number, _classify(number)))
    return found


def _ascii_digits(text: str) -> str:
    """Digits of any script as ASCII digits (a final ``X`` kept)."""
    if text.isascii():
        return text
    return "".join(_digit(char) or char for char in text)


def identifier_kinds(text: str) -> list[IdentifierKind]:
    """The kinds of identifier ``text`` carries (none: an empty list)."""
    return _ordered({number.kind for number in find_numbers(text)})


def _ordered(kinds: set[IdentifierKind]) -> list[IdentifierKind]:
    return [kind for kind in IdentifierKind if kind in kinds]


def _masked(number: FoundNumber) -> str:
    # Phones and resident IDs take the masks of the structured fields. Cards and other numbers keep only
    # their last four digits: the structured card mask also keeps the first six, which in a 13-digit run
    # (a number that only looks like a card) would leave three digits to guess.
    mobile = _mobile_part(number.digits)
    if number.kind is IdentifierKind.PHONE and mobile is not None:
        return number.digits[: -len(mobile)] + mask_phone(mobile)
    if number.kind is IdentifierKind.RESIDENT_ID:
        return mask_resident_id(number.digits)
    return "*" * (len(number.digits) - 4) + number.digits[-4:]


def mask_identifiers(text: str) -> MaskedText:
    """``text`` with every identifier masked like the structured fields are, and the kinds masked."""
    numbers = find_numbers(text)
    pieces: list[str] = []
    previous = 0
    for number in numbers:
        pieces.extend([text[previous : number.start], _masked(number)])
        previous = number.end
    pieces.append(text[previous:])
    return MaskedText("".join(pieces), _ordered({number.kind for number in numbers}))
