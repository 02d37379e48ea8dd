"""What the readers give: records of raw text, each with the physical line it came from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import pyarrow as pa

from loaders.quarantine import QuarantineReason


@dataclass(frozen=True)
class RawRecord:
    """One record as read: its values by column, or the reason it could not be parsed.

    ``line`` is its first physical line and ``lines`` how many physical lines it spans (a quoted value
    may hold newlines), so that the records and the skipped blank lines of a file add up to its lines.
    """

    line: int
    text: str
    values: dict[str, str] = field(default_factory=dict)
    problem: QuarantineReason | None = None
    message: str = ""
    lines: int = 1
    file: str = ""  # the file it came from, when not the source's file (a line a query source's reader refused)


@dataclass(frozen=True)
class RawSource:
    """A whole source file as read."""

    path: Path
    columns: list[str]
    records: Sequence[RawRecord]
    cells: Mapping[str, Sequence[str] | pa.Array] | None = None
    """The records' values by column (each named column once), when the reader had them as columns."""


class SheetRecords(Sequence[RawRecord]):
    """The records of a sheet's rows, each made when it is asked for: the column-wise path reads the sheet's
    columns and asks only for the rows it hands to the row path (a record object costs a few microseconds)."""

    def __init__(self, columns: list[str], lines: list[int], rows: Sequence[list[str]]) -> None:
        self.columns, self.lines, self.rows = columns, lines, rows
        """The header, and per record its sheet line and its cells (one per column)."""

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, index: int) -> RawRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[RawRecord]: ...

    def __getitem__(self, index: int | slice) -> RawRecord | list[RawRecord]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        cells = self.rows[index]
        return RawRecord(self.lines[index], "\t".join(cells), dict(zip(self.columns, cells, strict=True)))

    def __iter__(self) -> Iterator[RawRecord]:
        columns = self.columns
        return (
            RawRecord(line, "\t".join(cells), dict(zip(columns, cells, strict=True)))
            for line, cells in zip(self.lines, self.rows, strict=True)
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class Undecodable(str):
    """A line that does not decode strictly: its bytes with the undecodable ones backslash-escaped.

    It is never read as data; it is kept so that the quarantine shows what the line held.
    """
