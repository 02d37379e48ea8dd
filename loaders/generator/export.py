"""Writing source files: delimited text in the system's encoding, or a minimal xlsx workbook.

Bad rows are inserted between clean rows while writing; the writer reports the physical line (1-based,
the header is line 1) of each, and of clean rows that were deliberately reformatted. Output is
byte-identical for equal input: the xlsx zip carries a fixed timestamp, unlike openpyxl's files.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

Row = list[str]


@dataclass
class BadRow:
    """A row that a loader must refuse: placed before clean row ``position``; ``reasons`` maps each source
    reading the file to its expected quarantine reason (the first is the row's primary fault)."""

    position: int
    row: Row
    field: str
    reasons: dict[str, str]
    note: str


@dataclass
class Normalised:
    """A clean row written in an odd but valid form (e.g. full-width digits) that must load."""

    position: int
    source: str
    field: str
    note: str


@dataclass
class SourceFile:
    """One exported file and the mapping sources that read it."""

    path: str
    header: Row
    rows: Iterable[Sequence[str]]  # clean rows, in file order
    count: int
    sources: list[dict[str, Any]]
    format: str = "csv"
    encoding: str = "utf-8"
    bad: list[BadRow] = field(default_factory=list)
    normalised: list[Normalised] = field(default_factory=list)
    sheet: str = "Sheet1"

    @property
    def delimiter(self) -> str:
        return "\t" if self.format == "tsv" else ","


def _ordered(file: SourceFile) -> Iterator[Sequence[str]]:
    """Clean rows with the bad rows slotted in before their positions."""
    bad = sorted(file.bad, key=lambda item: item.position)
    next_bad = 0
    for index, row in enumerate(file.rows):
        while next_bad < len(bad) and bad[next_bad].position <= index:
            yield bad[next_bad].row
            next_bad += 1
        yield row
    for item in bad[next_bad:]:
        yield item.row


def line_numbers(file: SourceFile) -> tuple[list[int], list[int]]:
    """Physical lines of the bad rows (in ``file.bad`` order) and of the normalised clean rows."""
    positions = np.array(sorted(item.position for item in file.bad), dtype=np.int64)
    order = sorted(range(len(file.bad)), key=lambda i: file.bad[i].position)
    bad_lines = [0] * len(file.bad)
    for rank, i in enumerate(order):
        # header line, then ``position`` clean rows and ``rank`` earlier bad rows come before it
        bad_lines[i] = 2 + min(file.bad[i].position, file.count) + rank
    clean = [item.position for item in file.normalised]
    before = np.searchsorted(positions, np.array(clean, dtype=np.int64), side="right")
    return bad_lines, [2 + p + int(b) for p, b in zip(clean, before.tolist(), strict=True)]


def write(out: Path, file: SourceFile) -> int:
    """Write ``file`` under ``out``; returns the number of data rows written."""
    path = out / file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if file.format == "xlsx":
        return _write_xlsx(path, file)
    written = 0
    with path.open("w", encoding=file.encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=file.delimiter, lineterminator="\n")
        writer.writerow(file.header)
        for row in _ordered(file):
            writer.writerow(row)
            written += 1
    return written


_FIXED_TIME = (2025, 1, 1, 0, 0, 0)
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _column_letters(count: int) -> list[str]:
    letters = []
    for index in range(count):
        name, number = "", index + 1
        while number:
            number, remainder = divmod(number - 1, 26)
            name = chr(65 + remainder) + name
        letters.append(name)
    return letters


def _write_xlsx(path: Path, file: SourceFile) -> int:
    """A one-sheet workbook of inline text cells: every value stays text, as keys must."""

    def entry(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    letters = _column_letters(len(file.header))
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<sheets><sheet name="{escape(file.sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    written = 0
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(entry("[Content_Types].xml"), _CONTENT_TYPES)
        archive.writestr(entry("_rels/.rels"), _RELS)
        archive.writestr(entry("xl/workbook.xml"), workbook)
        archive.writestr(entry("xl/_rels/workbook.xml.rels"), _WORKBOOK_RELS)
        with archive.open(entry("xl/worksheets/sheet1.xml"), "w") as sheet:
            opening = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}">'
            sheet.write(f"{opening}<sheetData>".encode())
            for number, row in enumerate(_with_header(file), start=1):
                cells = "".join(
                    f'<c r="{letter}{number}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
                    for letter, value in zip(letters, row, strict=True)
                    if value != ""
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
                written += 1
            sheet.write(b"</sheetData></worksheet>")
    return written - 1


def _with_header(file: SourceFile) -> Iterator[Sequence[str]]:
    yield file.header
    yield from _ordered(file)
