"""Reading source files into raw records: every value a string, every record with its physical line.

Pure parsing (:func:`parse_csv`, :func:`parse_jsonl`, and their lazy forms :func:`iter_csv`,
:func:`iter_jsonl`) is kept apart from file I/O (:func:`read_source`, all records at once;
:func:`stream_source`, records parsed as they are taken, so a large file is never held as records).
Line numbers are 1-based physical lines of the file with the header as line 1 (xlsx: the sheet row;
parquet: row index + 2, as if the header were line 1). Values are never converted here: ids can exceed
2^53 and must not pass through a float, so numbers in parquet or JSON come back as their exact text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

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


BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 1 << 20
"""Files are decoded in chunks of about this many bytes, each ending at a newline."""


def decode_lines(data: bytes, encoding: str) -> Iterator[tuple[int, str | None]]:
    """Physical lines of ``data`` decoded strictly, numbered from 1; a line that does not decode is None."""
    return decode_stream(lambda: io.BytesIO(data), encoding)


def decode_file(path: Path, encoding: str) -> Iterator[tuple[int, str | None]]:
    """The lines of a file as :func:`decode_lines` gives them, read a chunk at a time (lazily)."""
    return decode_stream(lambda: path.open("rb"), encoding)


def decode_stream(open_: Callable[[], BinaryIO], encoding: str) -> Iterator[tuple[int, str | None]]:
    """Physical lines of a byte stream decoded strictly, numbered from 1; a line that does not decode is None.

    When the whole stream decodes (the usual case) its lines are the decoded text split on newlines;
    otherwise every line is decoded on its own. Splitting on the newline byte is safe for UTF-8, GBK and
    GB18030: none uses 0x0A inside a character, so chunks cut after a newline decode as the whole does.
    A first pass checks that the whole stream decodes without keeping it; only one chunk is held at a time.
    """
    with open_() as handle:
        whole = _decodes(handle, encoding)
    number = 0
    with open_() as handle:
        for index, chunk in enumerate(_line_chunks(handle)):
            if whole:
                # A stateless codec per chunk, except that utf-8-sig drops a BOM only at the very start.
                codec = "utf-8" if index and encoding == "utf-8-sig" else encoding
                lines: list[str | None] = [line.rstrip("\r") for line in chunk.decode(codec).split("\n")]
            else:
                lines = [_decode_line(line, encoding) for line in chunk.split(b"\n")]
            if chunk.endswith(b"\n"):
                lines.pop()
            for line in lines:
                number += 1
                yield number, line


def _decode_line(chunk: bytes, encoding: str) -> str | None:
    try:
        return chunk.decode(encoding).rstrip("\r")
    except UnicodeDecodeError:
        return None


def _line_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """The stream without a leading BOM, in non-empty chunks that end with a newline (the last may not)."""
    rest = handle.read(len(BOM))
    if rest == BOM:
        rest = b""
    while True:
        block = handle.read(CHUNK_BYTES)
        if not block:
            break
        data = rest + block
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


def _decodes(handle: BinaryIO, encoding: str) -> bool:
    """Whether the whole stream (after a leading BOM) decodes strictly."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for chunk in _line_chunks(handle):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def count_lines(path: Path) -> int:
    """The number of physical lines of a file: an upper bound of its records, for progress."""
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def parse_csv(
    lines: Iterable[tuple[int, str | None]], *, delimiter: str = ",", quotechar: str = '"'
) -> tuple[list[str], list[RawRecord]]:
    """Header and records of delimited text given as numbered lines (None = a line that did not decode).

    A quoted value may span lines; the record then carries the number of its first line. Blank lines
    are skipped. A record whose field count differs from the header's is kept as ``malformed_line``.
    """
    header, records = iter_csv(lines, delimiter=delimiter, quotechar=quotechar)
    return header, list(records)


def iter_csv(
    lines: Iterable[tuple[int, str | None]], *, delimiter: str = ",", quotechar: str = '"'
) -> tuple[list[str], Iterator[RawRecord]]:
    """As :func:`parse_csv`, with the records parsed lazily: only the header is read at once."""
    stream = _csv_stream(lines, delimiter, quotechar)
    header = next(stream)
    assert isinstance(header, list)
    return header, cast(Iterator[RawRecord], stream)


def _csv_stream(
    lines: Iterable[tuple[int, str | None]], delimiter: str, quotechar: str
) -> Iterator[list[str] | RawRecord]:
    """The header first, then the records; raises ``SourceError`` when there is no header."""
    pending: list[tuple[int, str]] = []
    header: list[str] | None = None
    for number, text in lines:
        if text is None:
            if header is None:
                raise SourceError("the header line does not decode with the source's encoding")
            yield RawRecord(number, "", problem=QuarantineReason.BAD_ENCODING, message="line does not decode")
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
                    yield header
                elif len(cells) != len(header):
                    yield _malformed(number, text, len(cells), len(header))
                else:
                    yield RawRecord(number, text, dict(zip(header, cells, strict=True)))
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
            yield header
            continue
        if len(fields) != len(header):
            yield _malformed(first_line, joined, len(fields), len(header))
            continue
        yield RawRecord(first_line, joined, dict(zip(header, fields, strict=True)))
    if header is None:
        raise SourceError("the file is empty: no header line")
    if pending:
        text = "\n".join(part for _, part in pending)
        yield RawRecord(pending[0][0], text, problem=QuarantineReason.MALFORMED_LINE, message="unterminated quote")


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
    records = list(iter_jsonl(lines))
    columns: dict[str, None] = {}
    for record in records:
        for key in record.values:
            columns.setdefault(key, None)
    return list(columns), records


def iter_jsonl(lines: Iterable[tuple[int, str | None]]) -> Iterator[RawRecord]:
    """The records of :func:`parse_jsonl`, parsed lazily."""
    for number, text in lines:
        if text is None:
            yield RawRecord(number, "", problem=QuarantineReason.BAD_ENCODING, message="line does not decode")
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_float=str, parse_int=str)
        except json.JSONDecodeError as error:
            yield RawRecord(number, text, problem=QuarantineReason.MALFORMED_LINE, message=f"not JSON: {error.msg}")
            continue
        if not isinstance(value, dict):
            yield RawRecord(number, text, problem=QuarantineReason.MALFORMED_LINE, message="not a JSON object")
            continue
        yield RawRecord(number, text, {str(k): cell_text(v) for k, v in value.items()})


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
            lines = decode_file(path, source.encoding.value)
            if source.format is SourceFormat.JSONL:
                columns, records = parse_jsonl(lines)
            else:
                columns, records = parse_csv(lines, delimiter=source.separator, quotechar=source.quotechar)
            return RawSource(path, columns, records)
        if source.format is SourceFormat.XLSX:
            return _read_xlsx(source, path)
        parquet_columns, parquet_records = _parquet_records(path)
        return RawSource(path, parquet_columns, list(parquet_records))
    except SourceError as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {error}") from None
    except Exception as error:  # any library's failure to open a file means the same to the user
        raise SourceError(f"source {source.name}: cannot read {path}: {type(error).__name__}: {error}") from None


def stream_source(source: Source, path: Path) -> Iterator[RawRecord]:
    """The records of one file as :func:`read_source` gives them, parsed lazily (nothing is read until the
    first record is asked for); errors are raised as ``read_source`` raises them, when they are met.

    xlsx sheets are read in full (calamine reads a sheet at once); parquet tables are read in full in
    their compact columnar form, and only their rows are made lazily.
    """
    try:
        if source.format in (SourceFormat.CSV, SourceFormat.TSV):
            lines = decode_file(path, source.encoding.value)
            _, records = iter_csv(lines, delimiter=source.separator, quotechar=source.quotechar)
            yield from records
        elif source.format is SourceFormat.JSONL:
            yield from iter_jsonl(decode_file(path, source.encoding.value))
        elif source.format is SourceFormat.XLSX:
            yield from _read_xlsx(source, path).records
        else:
            yield from _parquet_records(path)[1]
    except SourceError as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {error}") from None
    except Exception as error:  # any library's failure to open a file means the same to the user
        raise SourceError(f"source {source.name}: cannot read {path}: {type(error).__name__}: {error}") from None


def count_records(source: Source, path: Path) -> int:
    """A cheap upper bound of a file's records, for progress: its lines, or a parquet file's rows."""
    try:
        if source.format is SourceFormat.PARQUET:
            import pyarrow.parquet as pq

            return int(pq.read_metadata(path).num_rows)
        if source.format is SourceFormat.XLSX:
            return len(read_source(source, path).records)
        return count_lines(path)
    except SourceError:
        raise
    except Exception as error:
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
    # calamine (Rust), not openpyxl, which took 4.6 s of a 55 s load for one 7,400-row sheet. Rows come
    # from A1 on, so a row's index is its sheet line number minus one.
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(path)) as book:
        if isinstance(source.sheet, str):
            sheet = book.get_sheet_by_name(source.sheet)
        else:
            sheet = book.get_sheet_by_index(source.sheet)
        rows = sheet.to_python(skip_empty_area=False)
    if not rows:
        raise SourceError("the sheet is empty: no header row")
    columns = [_xlsx_text(value).strip() for value in rows[0]]
    records: list[RawRecord] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [_xlsx_text(value) for value in row]
        if not any(cell.strip() for cell in cells):
            continue
        cells = (cells + [""] * len(columns))[: len(columns)]
        records.append(RawRecord(number, "\t".join(cells), dict(zip(columns, cells, strict=True))))
    return RawSource(path, columns, records)


def _xlsx_text(value: Any) -> str:
    # A date-formatted cell is a date and time in the file, whatever its display format shows.
    if type(value) is date:
        value = datetime.combine(value, datetime.min.time())
    return "" if value == "" else cell_text(value)


def _parquet_records(path: Path) -> tuple[list[str], Iterator[RawRecord]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = list(table.column_names)

    def records() -> Iterator[RawRecord]:
        number = 2
        for batch in table.to_batches():
            for row in batch.to_pylist():
                cells = {name: cell_text(row.get(name)) for name in columns}
                yield RawRecord(number, json.dumps(cells, ensure_ascii=False), cells)
                number += 1

    return columns, records()
