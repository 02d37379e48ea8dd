"""Quarantine: the rows a load refused, each with a stable reason code and a message free of personal data.

The file ``quarantine.csv`` holds source name, file, line, the original line text, the reason code and a
message. Messages name columns, never values. The original line keeps what an engineer needs to find and
fix the row, but the values of the source's personal columns (resident ID, mobile, card number) are
masked in it (:func:`redact_line`): the file and line number lead to the source itself.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Self

from loaders.free_text import mask_identifiers
from loaders.identifiers import Reason


class QuarantineReason(StrEnum):
    """Why a row was refused. Identifier codes are the values of :class:`loaders.identifiers.Reason`."""

    BAD_CHARACTERS = Reason.BAD_CHARACTERS.value
    BAD_LENGTH = Reason.BAD_LENGTH.value
    BAD_CHECK_DIGIT = Reason.BAD_CHECK_DIGIT.value
    BAD_BIRTH_DATE = Reason.BAD_BIRTH_DATE.value
    BAD_REGION = Reason.BAD_REGION.value
    BAD_PREFIX = Reason.BAD_PREFIX.value
    BAD_ENCODING = "bad_encoding"  # the line does not decode: its bytes are kept backslash-escaped
    MALFORMED_LINE = "malformed_line"  # wrong number of fields, a stray carriage return, not a JSON object
    UNTERMINATED_QUOTE = "unterminated_quote"  # a quoted value that never closes, and each line it held
    STRAY_QUOTE = "stray_quote"  # a quoted value followed by more text in the same field ("12"34)
    CONTROL_CHARACTER = "control_character"  # a NUL or other control character in a key
    MISSING_VALUE = "missing_value"  # a key or required column is empty
    UNKNOWN_CODE = "unknown_code"  # a code not in the column's (or the tie type's) map
    BAD_DATE = "bad_date"
    BAD_NUMBER = "bad_number"
    BAD_BOOLEAN = "bad_boolean"
    DUPLICATE_KEY = "duplicate_key"  # the same key twice in one source: the later row is refused
    ORPHAN = "orphan"  # a tie (or link) whose other end does not exist
    SELF_TIE = "self_tie"  # a tie from a node to itself


@dataclass(frozen=True)
class QuarantinedRow:
    source: str
    file: str
    line: int
    text: str
    reason: QuarantineReason
    message: str


QUARANTINE_COLUMNS = ("source", "file", "line", "reason", "message", "original_line")


class QuarantineFile:
    """Appends quarantined rows to ``quarantine.csv`` as they come (UTF-8, one header line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(QUARANTINE_COLUMNS)

    def add(self, row: QuarantinedRow) -> None:
        self._writer.writerow((row.source, row.file, row.line, row.reason.value, row.message, row.text))

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def read_quarantine(path: Path) -> list[dict[str, str]]:
    """The rows of a quarantine file, as dicts keyed by :data:`QUARANTINE_COLUMNS`."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


KEPT_CHARACTERS = 2
"""Characters a masked personal value keeps at its end, so that an engineer can tell rows apart."""


def redact_line(text: str, personal_values: Iterable[str]) -> str:
    """``text`` with each personal value in it masked but for its last :data:`KEPT_CHARACTERS`, and every
    other number long enough to be a phone, ID or card number masked too: a line refused for its shape has
    no values by column, and a valid number may sit in a column the mapping does not call personal."""
    for value in sorted({value.strip() for value in personal_values}, key=len, reverse=True):
        if len(value) > KEPT_CHARACTERS:
            text = text.replace(value, "*" * (len(value) - KEPT_CHARACTERS) + value[-KEPT_CHARACTERS:])
    return mask_identifiers(text).text
