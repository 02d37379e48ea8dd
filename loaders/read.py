"""Reading source files into raw records: every value a string, every record with its physical line.

Pure parsing (:func:`loaders.delimited.parse_csv`, :func:`parse_jsonl`, and their lazy forms) is kept
apart from file I/O (:func:`read_source`, all records at once;
:func:`stream_source`, records parsed as they are taken, so a large file is never held as records).
Line numbers are 1-based physical lines of the file with the header as line 1 (xlsx: the sheet row;
parquet: row index + 2, as if the header were line 1). Values are never converted here: ids can exceed
2^53 and must not pass through a float, so numbers in parquet or JSON come back as their exact text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from graph.errors import SourceError
from loaders.decode import count_data_lines, decode_file, decode_lines, encoding_problem, read_sample
from loaders.delimited import check_header, iter_csv, parse_csv
from loaders.mapping import Source, SourceFormat
from loaders.quarantine import QuarantineReason
from loaders.query import query_files, query_path, run_query
from loaders.raw import RawRecord, RawSource, SheetRecords, Undecodable
from loaders.sheets import text_sheet

__all__ = ["RawRecord", "RawSource", "parse_csv", "read_source", "stream_source"]


def parse_jsonl(lines: Iterable[tuple[int, str]]) -> tuple[list[str], list[RawRecord]]:
    """Records of JSON lines; columns are the keys in order of first appearance. Line 1 is a record here."""
    records = list(iter_jsonl(lines))
    columns: dict[str, None] = {}
    for record in records:
        for key in record.values:
            columns.setdefault(key, None)
    return list(columns), records


class _RepeatedKey(ValueError):
    """A JSON object names a key twice: ``json`` would silently keep the later value."""


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        repeated = next(key for key, _ in pairs if sum(other == key for other, _ in pairs) > 1)
        raise _RepeatedKey(repeated)
    return value


def iter_jsonl(lines: Iterable[tuple[int, str]]) -> Iterator[RawRecord]:
    """The records of :func:`parse_jsonl`, parsed lazily."""
    for number, text in lines:
        if isinstance(text, Undecodable):
            yield RawRecord(number, text, problem=QuarantineReason.BAD_ENCODING, message="line does not decode")
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_float=str, parse_int=str, object_pairs_hook=_object_without_repeats)
        except json.JSONDecodeError as error:
            yield RawRecord(number, text, problem=QuarantineReason.MALFORMED_LINE, message=f"not JSON: {error.msg}")
            continue
        except _RepeatedKey as repeated:
            message = f"key {str(repeated)!r} given twice in one object"
            yield RawRecord(number, text, problem=QuarantineReason.MALFORMED_LINE, message=message)
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
    """The files a source names (a path or a glob, relative to ``base_dir``), sorted; raises when none.

    A query source has one stand-in path (:func:`loaders.query.query_path`): its query is its one file."""
    if source.query is not None:
        query_files(source, base_dir)
        return [query_path(source, base_dir)]
    pattern = source.path
    assert pattern is not None
    if any(char in pattern for char in "*?["):
        found = sorted(base_dir.glob(pattern))
        if not found:
            raise SourceError(f"source {source.name}: no file matches {pattern!r} in {base_dir}")
        return found
    path = base_dir / pattern
    if not path.is_file():
        raise SourceError(f"source {source.name}: file {path} does not exist")
    return [path]


TEXT_FORMATS = frozenset({SourceFormat.CSV, SourceFormat.TSV, SourceFormat.JSONL})
"""The formats read as text in the source's declared encoding."""


def check_encoding(source: Source, path: Path) -> None:
    """Refuse a text file that is not in its declared encoding, naming the file and the likely encoding."""
    problem = encoding_problem(read_sample(path), source.encoding.value)
    if problem is not None:
        raise SourceError(f"source {source.name}: file {path} is refused, nothing was loaded: {problem}")


def read_source(source: Source, path: Path) -> RawSource:
    """Read one file of a source; raises ``SourceError`` naming the file when it cannot be read at all."""
    if source.query is not None:
        return run_query(source, path.parent)
    try:
        if source.format in TEXT_FORMATS:
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
    if source.query is not None:
        yield from read_source(source, path).records
        return
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
    """A cheap count of a file's records, for progress: its non-blank lines after the header (an upper
    bound: a quoted value may span lines), or a parquet file's rows."""
    if source.query is not None:
        return len(read_source(source, path).records)
    try:
        if source.format is SourceFormat.PARQUET:
            import pyarrow.parquet as pq

            return int(pq.read_metadata(path).num_rows)
        if source.format is SourceFormat.XLSX:
            return len(read_source(source, path).records)
        lines = count_data_lines(path)
        return lines if source.format is SourceFormat.JSONL else max(lines - 1, 0)
    except SourceError:
        raise
    except Exception as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {type(error).__name__}: {error}") from None


def read_columns(source: Source, path: Path) -> list[str]:
    """Only the column names of a file (cheap for csv/tsv and parquet), for checks before a load."""
    if source.query is not None:
        return read_source(source, path).columns
    try:
        if source.format in (SourceFormat.CSV, SourceFormat.TSV):
            with path.open("rb") as handle:
                first = handle.readline()
            lines = decode_lines(first, source.encoding.value)
            header, _ = iter_csv(lines, delimiter=source.separator, quotechar=source.quotechar)
            return header
        if source.format is SourceFormat.PARQUET:
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).names)
            check_header(names)
            return names
    except SourceError as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {error}") from None
    except Exception as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {type(error).__name__}: {error}") from None
    return read_source(source, path).columns


def _read_xlsx(source: Source, path: Path) -> RawSource:
    # A sheet of text only comes into Arrow columns; any other as Python rows, each cell's text made here.
    return text_sheet(path, source.sheet) or sheet_rows(source, path)


def sheet_rows(source: Source, path: Path) -> RawSource:
    """A sheet read by python-calamine into Python rows, every cell as ``cell_text`` gives it."""
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
    check_header(columns)
    width = len(columns)
    numbers, kept = [], []
    for number, row in enumerate(rows[1:], start=2):
        cells = [value if type(value) is str else _xlsx_text(value) for value in row]
        if not "".join(cells).strip():  # every cell blank
            continue
        if len(cells) != width:
            cells = (cells + [""] * width)[:width]
        numbers.append(number)
        kept.append(cells)
    # By column too, for the column-wise path (a column without a name is no value of a record).
    by_column = list(zip(*kept, strict=True)) if kept else [() for _ in columns]
    positions = {name: position for position, name in enumerate(columns) if name}
    by_name: dict[str, Sequence[str]] = {name: by_column[position] for name, position in positions.items()}
    return RawSource(path, columns, SheetRecords(columns, numbers, kept), by_name)


def _xlsx_text(value: Any) -> str:
    if type(value) is str:  # most cells: the text as it is (what cell_text gives), without its type tests
        return value
    # A date-formatted cell is a date and time in the file, whatever its display format shows.
    if type(value) is date:
        value = datetime.combine(value, datetime.min.time())
    return "" if value == "" else cell_text(value)


def _parquet_records(path: Path) -> tuple[list[str], Iterator[RawRecord]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = list(table.column_names)
    check_header(columns)

    def records() -> Iterator[RawRecord]:
        number = 2
        for batch in table.to_batches():
            for row in batch.to_pylist():
                cells = {name: cell_text(row.get(name)) for name in columns}
                yield RawRecord(number, json.dumps(cells, ensure_ascii=False), cells)
                number += 1

    return columns, records()
