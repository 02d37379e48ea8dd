"""Injected bad rows: copies of clean rows with exactly one fault, each with the reason a loader must give.

Bad rows are *extra* rows with fresh keys, never edits of clean rows, so that refusing them removes
nothing the rest of the data depends on. Full-width digits are the exception: they are edits of clean
rows, valid after half-width normalisation, and must load (``Normalised``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from loaders.generator.export import BadRow, Row
from loaders.identifiers import Reason

BAD_SHARE = 0.006  # share of rows in each faulty source that are bad


class Fault(StrEnum):
    """Quarantine reasons beyond the identifier reasons of :class:`loaders.identifiers.Reason`."""

    ORPHAN = "orphan"  # a key that points at no record (owner, tie end)
    SELF_TIE = "self_tie"  # a tie from a customer to itself
    UNKNOWN_CODE = "unknown_code"  # a code missing from the column's map
    BAD_DATE = "bad_date"  # a date that does not parse or does not exist
    BAD_NUMBER = "bad_number"  # a number (or list element) that does not parse
    MISSING_VALUE = "missing_value"  # a required cell is empty


REASON_CODES: dict[str, str] = {
    Reason.BAD_CHECK_DIGIT: "identifier check digit/character wrong (resident id, credit code, card Luhn)",
    Reason.BAD_PREFIX: "mobile number not starting 13-19 (or a foreign country code)",
    Reason.BAD_LENGTH: "identifier or mobile number of the wrong length",
    Reason.BAD_CHARACTERS: "identifier with characters outside its alphabet",
    Reason.BAD_BIRTH_DATE: "resident id whose birth date is impossible",
    Reason.BAD_REGION: "resident id without a valid province prefix",
    Fault.ORPHAN: "the row refers to a customer/account/node that does not exist (or was quarantined)",
    Fault.SELF_TIE: "a tie whose two ends are the same customer",
    Fault.UNKNOWN_CODE: "a coded value missing from the mapping's code map",
    Fault.BAD_DATE: "a date that cannot be parsed or does not exist (e.g. 30 February)",
    Fault.BAD_NUMBER: "a number or float-list element that cannot be parsed",
    Fault.MISSING_VALUE: "a required cell is empty",
}

_FULL_WIDTH = str.maketrans("0123456789Xx+", "０１２３４５６７８９Ｘｘ＋")


def full_width(text: str) -> str:
    return text.translate(_FULL_WIDTH)


@dataclass(frozen=True)
class Defect:
    """One kind of bad row: which column it spoils, how, and what each source must say about it."""

    field: str
    spoil: Callable[[Row, int], None]  # edits the copied row in place; gets a running number
    reasons: dict[str, str]
    note: str


class KeyMaker:
    """Fresh keys that no clean record uses: bad rows get them, orphans point at them."""

    def __init__(self, start: int, width: int = 12, prefix: str = "") -> None:
        self.next = start
        self.width = width
        self.prefix = prefix

    def __call__(self) -> str:
        self.next += 1
        return f"{self.prefix}{self.next:0{self.width}d}"


def inject(
    rng: np.random.Generator,
    count: int,
    template: Callable[[int], Row],
    defects: Sequence[Defect],
    share: float = BAD_SHARE,
) -> list[BadRow]:
    """Bad rows for a file of ``count`` clean rows, about ``share`` of it, spread over ``defects``."""
    if count == 0:
        return []
    per_defect = max(1, round(share * count / len(defects)))
    bad: list[BadRow] = []
    number = 0
    for defect in defects:
        for position, source_row in zip(
            rng.integers(0, count + 1, per_defect).tolist(), rng.integers(0, count, per_defect).tolist(), strict=True
        ):
            row = list(template(source_row))
            defect.spoil(row, number)
            number += 1
            bad.append(BadRow(position, row, defect.field, dict(defect.reasons), defect.note))
    return bad


def with_fresh_keys(defects: Sequence[Defect], column: int, keys: KeyMaker) -> list[Defect]:
    """The defects, each also giving the row a fresh key so it duplicates no clean record."""
    return [replace(d, spoil=both(set_cell(column, lambda _k: keys()), d.spoil)) for d in defects]


def set_cell(column: int, value: str | Callable[[int], str]) -> Callable[[Row, int], None]:
    """A spoiler that writes a fixed value (or one made from the running number) into a column."""

    def spoil(row: Row, number: int) -> None:
        row[column] = value(number) if callable(value) else value

    return spoil


def both(*spoilers: Callable[[Row, int], None]) -> Callable[[Row, int], None]:
    def spoil(row: Row, number: int) -> None:
        for spoiler in spoilers:
            spoiler(row, number)

    return spoil


def wrong_check(text: str) -> str:
    """The identifier with its last character changed to another valid-looking character."""
    last = text[-1]
    replacement = "0123456789"[("0123456789".index(last) + 3) % 10] if last.isdigit() else "1"
    return text[:-1] + replacement
