"""Reading source files into raw records: every value a string, every record with its physical line.

Pure parsing (:func:`parse_csv`, :func:`parse_jsonl`) is kept apart from file I/O (:func:`read_source`).
Line numbers are 1-based physical lines of the file with the header as line 1 (xlsx: the sheet row;
parquet: row index + 2, as if the header were line 1). Values are never converted here: ids can exceed
2^53 and must not pass through a float, so numbers in parquet or JSON come back as their exact text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from graph.errors import SourceError
from loaders.mapping import Source, SourceFormat
from loaders.quarantine import QuarantineReason


@dataclass(frozen=True)
class RawRecord:
    """One record as read: its values by column, or the reason it could not be parsed."""

    line: int
    text: str
    values: dict[str, str] = field(default_factory=dict)
    problem: QuarantineReason | None = None
    message: str = ""


@dataclass(frozen=True)
class RawSource:
    """A whole source file as read."""

    path: Path
    columns: list[str]
    records: list[RawRecord]


def decode_lines(data: bytes, encoding: str) -> Iterator[tuple[int, str | None]]:
    """Physical lines of ``data`` decoded strictly, numbered from 1; a line that does not decode is None.

    Splitting on the newline byte is safe for UTF-8, GBK and GB18030: none uses 0x0A inside a character.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        pass
    else:
        # The whole file decodes (the usual case): its lines are the lines decoded one by one, as the
        # newline byte never sits inside a character, so decode once instead of once per line.
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        yield from enumerate((line.rstrip("\r") for line in lines), start=1)
        return
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    for number, chunk in enumerate(chunks, start=1):
        try:
            yield number, chunk.decode(encoding).rstrip("\r")
        except UnicodeDecodeError:
            yield number, None


def parse_csv(
    lines: Iterable[tuple[int, str | None]], *, delimiter: str = ",", quotechar: str = '"'
) -> tuple[list[str], list[RawRecord]]:
    """Header and records of delimited text given as numbered lines (None = a line that did not decode).

    A quoted value may span lines; the record then carries the number of its first line. Blank lines
    are skipped. A record whose field count differs from the header's is kept as ``malformed_line``.
    """
    records: list[RawRecord] = []
    pending: list[tuple[int, str]] = []
    header: list[str] | None = None
    for number, text in lines:
        if text is None:
            if header is None:
                raise SourceError("the header line does not decode with the source's encoding")
            records.append(RawRecord(number, "", problem=QuarantineReason.BAD_ENCODING, message="line does not decode"))
            continue
        if not pending:
            if not text.strip():
                continue
            if quotechar not in text and "\r" not in text:
                # No quote and no carriage return: the csv module would split on the delimiter, and
                # nothing can continue on the next line. Most lines take this path.
                cells = text.split(delimiter)
                if header is None:
                    header = [name.strip() for name in cells]
                elif len(cells) != len(header):
                    records.append(_malformed(number, text, len(cells), len(header)))
                else:
                    records.append(RawRecord(number, text, dict(zip(header, cells, strict=True))))
                continue
        pending.append((number, text))
        joined = "\n".join(part for _, part in pending)
        fields = _split_complete(joined, delimiter, quotechar)
        if fields is None:
            continue
        first_line = pending[0][0]
        pending = []
        if header is None:
            header = [name.strip() for name in fields]
            continue
        if len(fields) != len(header):
            records.append(_malformed(first_line, joined, len(fields), len(header)))
            continue
        records.append(RawRecord(first_line, joined, dict(zip(header, fields, strict=True))))
    if pending:
        text = "\n".join(part for _, part in pending)
        records.append(
            RawRecord(pending[0][0], text, problem=QuarantineReason.MALFORMED_LINE, message="unterminated quote")
        )
    if header is None:
        raise SourceError("the file is empty: no header line")
    return header, records


def _malformed(line: int, text: str, fields: int, expected: int) -> RawRecord:
    return RawRecord(
        line, text, problem=QuarantineReason.MALFORMED_LINE, message=f"{fields} fields where the header has {expected}"
    )


def _split_complete(text: str, delimiter: str, quotechar: str) -> list[str] | None:
    """Fields of one record, or None while a quoted value is still open at the end of ``text``."""
    if text.count(quotechar) % 2 == 1:
        return None
    parts = [part + "\n" for part in text.split("\n")]
    rows = list(csv.reader(parts, delimiter=delimiter, quotechar=quotechar, strict=False))
    return rows[0] if rows else []


def parse_jsonl(lines: Iterable[tuple[int, str | None]]) -> tuple[list[str], list[RawRecord]]:
    """Records of JSON lines; columns are the keys in order of first appearance. Line 1 is a record here."""
    records: list[RawRecord] = []
    columns: dict[str, None] = {}
    for number, text in lines:
        if text is None:
            records.append(RawRecord(number, "", problem=QuarantineReason.BAD_ENCODING, message="line does not decode"))
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_float=str, parse_int=str)
        except json.JSONDecodeError as error:
            records.append(
                RawRecord(number, text, problem=QuarantineReason.MALFORMED_LINE, message=f"not JSON: {error.msg}")
            )
            continue
        if not isinstance(value, dict):
            records.append(
                RawRecord(number, text, problem=QuarantineReason.MALFORMED_LINE, message="not a JSON object")
            )
            continue
        for key in value:
            columns.setdefault(str(key), None)
        records.append(RawRecord(number, text, {str(k): cell_text(v) for k, v in value.items()}))
    return list(columns), records


def cell_text(value: Any) -> str:
    """A cell as text: empty for None, exact digits for integers, ISO for dates, JSON for lists."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def source_files(source: Source, base_dir: Path) -> list[Path]:
    """The files a source names (a path or a glob, relative to ``base_dir``), sorted; raises when none."""
    pattern = source.path
    if any(char in pattern for char in "*?["):
        found = sorted(base_dir.glob(pattern))
        if not found:
            raise SourceError(f"source {source.name}: no file matches {pattern!r} in {base_dir}")
        return found
    path = base_dir / pattern
    if not path.is_file():
        raise SourceError(f"source {source.name}: file {path} does not exist")
    return [path]


def read_source(source: Source, path: Path) -> RawSource:
    """Read one file of a source; raises ``SourceError`` naming the file when it cannot be read at all."""
    try:
        if source.format in (SourceFormat.CSV, SourceFormat.TSV, SourceFormat.JSONL):
            data = path.read_bytes()
            lines = decode_lines(data, source.encoding.value)
            if source.format is SourceFormat.JSONL:
                columns, records = parse_jsonl(lines)
            else:
                columns, records = parse_csv(lines, delimiter=source.separator, quotechar=source.quotechar)
            return RawSource(path, columns, records)
        if source.format is SourceFormat.XLSX:
            return _read_xlsx(source, path)
        return _read_parquet(path)
    except SourceError as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {error}") from None
    except Exception as error:  # any library's failure to open a file means the same to the user
        raise SourceError(f"source {source.name}: cannot read {path}: {type(error).__name__}: {error}") from None


def read_columns(source: Source, path: Path) -> list[str]:
    """Only the column names of a file (cheap for csv/tsv and parquet), for checks before a load."""
    try:
        if source.format in (SourceFormat.CSV, SourceFormat.TSV):
            with path.open("rb") as handle:
                first = handle.readline()
            header, _ = parse_csv(decode_lines(first, source.encoding.value), delimiter=source.separator)
            return header
        if source.format is SourceFormat.PARQUET:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
    except SourceError as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {error}") from None
    except Exception as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {type(error).__name__}: {error}") from None
    return read_source(source, path).columns


def _read_xlsx(source: Source, path: Path) -> RawSource:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book[source.sheet] if isinstance(source.sheet, str) else book.worksheets[source.sheet]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise SourceError("the sheet is empty: no header row")
        columns = [cell_text(value).strip() for value in header_row]
        records: list[RawRecord] = []
        for number, row in enumerate(rows, start=2):
            cells = [cell_text(value) for value in row]
            if not any(cell.strip() for cell in cells):
                continue
            cells = (cells + [""] * len(columns))[: len(columns)]
            records.append(RawRecord(number, "\t".join(cells), dict(zip(columns, cells, strict=True))))
        return RawSource(path, columns, records)
    finally:
        book.close()


def _read_parquet(path: Path) -> RawSource:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = list(table.column_names)
    records: list[RawRecord] = []
    number = 2
    for batch in table.to_batches():
        for row in batch.to_pylist():
            cells = {name: cell_text(row.get(name)) for name in columns}
            records.append(RawRecord(number, json.dumps(cells, ensure_ascii=False), cells))
            number += 1
    return RawSource(path, columns, records)
