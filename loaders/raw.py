"""What the readers give: records of raw text, each with the physical line it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
    records: list[RawRecord]


class Undecodable(str):
    """A line that does not decode strictly: its bytes with the undecodable ones backslash-escaped.

    It is never read as data; it is kept so that the quarantine shows what the line held.
    """
