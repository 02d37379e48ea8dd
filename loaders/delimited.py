"""Parsing delimited text (CSV, TSV) into raw records, so that every physical line is accounted for.

Fields are split as Python's ``csv`` module splits them (``strict=False``): a quote starts a quoted
value only at the start of a field, so ``Q1,张"三`` holds the literal value ``张"三``. A quoted value
may span lines. One that never closes must not swallow the rest of the file: while it is open, a line
that reads as a complete record on its own (the header's number of fields, no quote left open) ends it,
and the lines it held are quarantined one by one as ``unterminated_quote``. Every line is looked at
a bounded number of times, so the time is linear in the lines of the file.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast

from graph.errors import SourceError
from loaders.quarantine import QuarantineReason
from loaders.raw import RawRecord, Undecodable

Fields = tuple[list[str], bool]
"""The fields of a line and whether a quoted value is still open at its end."""


def parse_csv(
    lines: Iterable[tuple[int, str]], *, delimiter: str = ",", quotechar: str = '"'
) -> tuple[list[str], list[RawRecord]]:
    """Header and records of delimited text given as numbered physical lines.

    A record that spans lines carries the number of its first line. Blank lines are skipped. A record
    whose field count differs from the header's is kept as ``malformed_line``; see the module for quotes.
    """
    header, records = iter_csv(lines, delimiter=delimiter, quotechar=quotechar)
    return header, list(records)


def iter_csv(
    lines: Iterable[tuple[int, str]], *, delimiter: str = ",", quotechar: str = '"'
) -> tuple[list[str], Iterator[RawRecord]]:
    """As :func:`parse_csv`, with the records parsed lazily: only the header is read at once."""
    stream = _DelimitedParser(delimiter, quotechar).stream(lines)
    header = next(stream)
    assert isinstance(header, list)
    return header, cast(Iterator[RawRecord], stream)


def check_header(columns: list[str]) -> None:
    """Refuse a header with a control character in a name or a name given twice (one clear line): the
    later column would silently win."""
    seen: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        control = next((char for char in name if unicodedata.category(char) == "Cc"), None)
        if control is not None:
            raise SourceError(
                f"header column {position} ({name!r}) holds the control character {character_name(control)}"
            )
        if name in seen:
            raise SourceError(f"header names column {name!r} twice (columns {seen[name]} and {position})")
        if name:  # unnamed columns (a trailing delimiter, blank sheet cells) cannot be read by a mapping
            seen[name] = position


def character_name(char: str) -> str:
    """``U+0000 (NUL)``: a control character named for a message."""
    names = {"\x00": "NUL", "\t": "TAB", "\n": "LF", "\r": "CR", "\x1b": "ESC", "\x7f": "DEL"}
    code = f"U+{ord(char):04X}"
    return f"{code} ({names[char]})" if char in names else code


@dataclass
class _OpenRecord:
    """A record whose last quoted value is still open: its lines so far and its fields."""

    lines: list[tuple[int, str]]
    fields: list[str]  # the fields before the open one
    open_parts: list[str] = field(default_factory=list)  # the open value's text, one part per line

    def fields_with(self, continuation: list[str]) -> list[str]:
        """The fields once ``continuation`` (a line's fields read from inside the open value) is added."""
        joined = "\n".join([*self.open_parts, continuation[0]])
        return [*self.fields, joined, *continuation[1:]]

    def add(self, number: int, text: str, continuation: list[str]) -> None:
        self.lines.append((number, text))
        if len(continuation) == 1:
            self.open_parts.append(continuation[0])
        else:
            self.fields = self.fields_with(continuation[:-1])
            self.open_parts = [continuation[-1]]

    @property
    def first(self) -> int:
        return self.lines[0][0]

    def text_with(self, text: str) -> str:
        return "\n".join([*(line for _, line in self.lines), text])

    def unterminated(self, reason: str) -> Iterator[RawRecord]:
        """Its lines quarantined one by one (blank ones are skipped, as anywhere): the quote never closed."""
        first, text = self.lines[0]
        problem = QuarantineReason.UNTERMINATED_QUOTE
        yield RawRecord(first, text, problem=problem, message=f"quoted value {reason}")
        message = f"inside the quoted value opened on line {first}, which does not close"
        for number, text in self.lines[1:]:
            if text.strip():
                yield RawRecord(number, text, problem=problem, message=message)


class _DelimitedParser:
    """The state of one file's parse: its header, once read."""

    def __init__(self, delimiter: str, quotechar: str) -> None:
        self.delimiter = delimiter
        self.quotechar = quotechar
        self.header: list[str] | None = None

    def stream(self, lines: Iterable[tuple[int, str]]) -> Iterator[list[str] | RawRecord]:
        """The header first, then the records; raises ``SourceError`` when there is no header."""
        pending: _OpenRecord | None = None
        quotechar, delimiter = self.quotechar, self.delimiter
        for number, text in lines:
            plain = type(text) is str and quotechar not in text and "\r" not in text  # not Undecodable
            if plain and pending is None and self.header is not None:
                # Most lines: no quote, nothing open, so csv would split on the delimiter (done inline
                # for speed); a blank line or a wrong field count takes the general way below.
                cells = text.split(delimiter)
                if len(cells) == len(self.header) and (len(cells) > 1 or text.strip()):
                    yield RawRecord(number, text, dict(zip(self.header, cells, strict=True)))
                    continue
            if isinstance(text, Undecodable):
                if self.header is None:
                    raise SourceError("the header line does not decode with the source's encoding")
                if pending is not None:
                    yield from pending.unterminated(f"is cut by line {number}, which does not decode")
                    pending = None
                yield RawRecord(number, text, problem=QuarantineReason.BAD_ENCODING, message="line does not decode")
            elif pending is None:
                pending = yield from self.begin(number, text)
            else:
                pending = yield from self.extend(pending, number, text)
        if self.header is None:
            raise SourceError("the header's quoted value never closes" if pending else "the file is empty: no header")
        if pending is not None:
            yield from pending.unterminated("never closes")

    def begin(self, number: int, text: str) -> Generator[list[str] | RawRecord, None, _OpenRecord | None]:
        """Read a line that starts a record: yield it when complete, or return it while a quote is open."""
        if not text.strip():
            return None
        parsed = self.split(text)
        if parsed is None:
            yield self.malformed(number, text, "a carriage return inside an unquoted value", 1)
            return None
        fields, still_open = parsed
        if still_open:
            return _OpenRecord([(number, text)], fields[:-1], [fields[-1]])
        yield self.complete(number, text, fields, 1)
        return None

    def extend(
        self, pending: _OpenRecord, number: int, text: str
    ) -> Generator[list[str] | RawRecord, None, _OpenRecord | None]:
        """Read a line while a quoted value is open: it continues the value, closes it, or ends the wait."""
        continuation = self.split(text, inside_quote=True)
        closes_well = (
            continuation is not None and not continuation[1] and self.fits(pending.fields_with(continuation[0]))
        )
        if self.header is not None and not closes_well:
            alone = self.split(text)
            if alone is not None and not alone[1] and self.fits(alone[0]):
                yield from pending.unterminated(
                    f"does not close before line {number}, which reads as a record on its own"
                )
                yield self.complete(number, text, alone[0], 1)
                return None
        if continuation is None:
            yield from pending.unterminated(f"is cut by line {number}, which cannot be read")
            return (yield from self.begin(number, text))
        fields, still_open = continuation
        if still_open:
            pending.add(number, text, fields)
            return pending
        lines = len(pending.lines) + 1
        yield self.complete(pending.first, pending.text_with(text), pending.fields_with(fields), lines)
        return None

    def fits(self, fields: list[str]) -> bool:
        return self.header is None or len(fields) == len(self.header)

    def complete(self, number: int, text: str, fields: list[str], lines: int) -> list[str] | RawRecord:
        """A complete record: the header if none was read yet, else a record (or why it is refused)."""
        if self.header is None:
            self.header = [name.strip() for name in fields]
            check_header(self.header)
            return self.header
        if len(fields) != len(self.header):
            return self.malformed(number, text, f"{len(fields)} fields where the header has {len(self.header)}", lines)
        if self.stray_quote(text):
            return RawRecord(
                number,
                text,
                problem=QuarantineReason.STRAY_QUOTE,
                message="a quoted value is followed by more text before the next delimiter",
                lines=lines,
            )
        return RawRecord(number, text, dict(zip(self.header, fields, strict=True)), lines=lines)

    def malformed(self, number: int, text: str, message: str, lines: int) -> RawRecord:
        if self.header is None:
            raise SourceError(f"the header cannot be read: {message}")
        return RawRecord(number, text, problem=QuarantineReason.MALFORMED_LINE, message=message, lines=lines)

    def split(self, text: str, *, inside_quote: bool = False) -> Fields | None:
        """The fields of one line as csv reads them; None when csv refuses it (a lone carriage return).

        ``inside_quote``: the line continues an open quoted value; a quote put before it reads it so.
        """
        if not inside_quote and self.quotechar not in text and "\r" not in text:
            return text.split(self.delimiter), False  # what csv does with such a line, much faster
        line = self.quotechar + text if inside_quote else text
        # csv asks for another line only while a quoted value is open: the empty second line tells.
        reader = csv.reader((line + "\n", ""), delimiter=self.delimiter, quotechar=self.quotechar, strict=False)
        try:
            fields = next(reader, [])
        except csv.Error:
            return None
        still_open = reader.line_num > 1
        if still_open:
            fields[-1] = fields[-1].removesuffix("\n")
        return fields, still_open

    def stray_quote(self, text: str) -> bool:
        """Whether a quoted value is followed by more text before its delimiter (``"12"34``): ambiguous."""
        if self.quotechar not in text:
            return False
        parts = [part + "\n" for part in text.split("\n")]
        try:
            list(csv.reader(parts, delimiter=self.delimiter, quotechar=self.quotechar, strict=True))
        except csv.Error:
            return True
        return False
