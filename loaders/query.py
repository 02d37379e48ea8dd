"""Sources made by SQL over other files (joins, lookups, unions, derived columns), run by DuckDB, and
the ``lookup`` of a column, read from a file into a code map.

Every cell is read as text (``all_varchar``): ids can exceed 2^53 and must keep their digits. A line
that DuckDB cannot parse is not skipped silently: it comes back as a quarantined record naming its own
file and line (DuckDB's ``store_rejects``), and counts among the source's rows read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from graph.errors import ConfigurationError, SourceError
from loaders.mapping import EndRef, Lookup, Mapping, Pairs, Query, Source, SourceFormat
from loaders.quarantine import QuarantineReason
from loaders.raw import RawRecord, RawSource

REJECTS_TABLE, SCANS_TABLE = "crm_graph_rejects", "crm_graph_scans"
"""Where DuckDB keeps the lines its CSV reader refused, per table (``crm_graph_rejects_<table>``)."""


def query_path(source: Source, base_dir: Path) -> Path:
    """What stands for a query source's one 'file' in the load: named after the source, it is never read."""
    return base_dir / f"{source.name}.sql"


def query_files(source: Source, base_dir: Path) -> dict[str, Path]:
    """The files a query names, by table name; raises ``SourceError`` for one that does not exist."""
    assert source.query is not None
    files = {table: base_dir / name for table, name in source.query.files.items()}
    for table, path in files.items():
        if not path.is_file():
            raise SourceError(f"source {source.name}: file {path} (table {table} of its query) does not exist")
    return files


def run_query(source: Source, base_dir: Path) -> RawSource:
    """The query's output as raw records (row n is line n + 1), then the lines of its files that DuckDB
    rejected, each with its file and line. Raises ``ConfigurationError`` when the SQL fails."""
    import duckdb

    assert source.query is not None
    files = query_files(source, base_dir)
    with duckdb.connect() as connection:
        for table, path in files.items():
            _create_table(connection, source, table, path, source.delimiter)
        # The query sees its declared files only: no other file, URL or extension, and nothing it writes.
        connection.execute("set enable_external_access = false")
        try:
            result = connection.execute(source.query.sql)
        except duckdb.Error as error:
            raise ConfigurationError(f"source {source.name}: its query fails: {_first_line(error)}") from None
        if result.description is None:
            raise ConfigurationError(f"source {source.name}: its query returns no rows (is it a select?)")
        columns = [str(column[0]) for column in result.description]
        _check_header(source, columns)
        records = _output_records(columns, result.fetchall())
        records += _rejected_records(connection, files)
    return RawSource(query_path(source, base_dir), columns, records)


def query_inputs(source: Source, base_dir: Path) -> dict[Path, list[str]]:
    """The column names of every file a query reads, for the check for authentication data."""
    import duckdb

    with duckdb.connect() as connection:
        found: dict[Path, list[str]] = {}
        for table, path in query_files(source, base_dir).items():
            _create_table(connection, source, table, path, source.delimiter, rows=0)
            found[path] = [str(row[0]) for row in connection.execute(f"describe {table}").fetchall()]
    return found


def prepared(mapping: Mapping) -> Mapping:
    """The mapping as the loaders take it: ``pairs`` made query sources, each ``lookup`` read into a map."""
    return with_lookups(mapping.model_copy(update={"sources": [with_pairs(source) for source in mapping.sources]}))


PAIRED = ("from_member", "to_member")
"""The columns of a pairs source's rows holding the two members (the tie's source and target)."""


def with_pairs(source: Source) -> Source:
    """A ``pairs`` source as the query source it stands for (others unchanged)."""
    if source.pairs is None:
        return source
    assert source.path is not None
    pairs = source.pairs
    ends = {name: EndRef.model_validate({"from": name, "system": pairs.system}) for name in PAIRED}
    return source.model_copy(
        update={
            "path": None,
            "pairs": None,
            "query": Query(files={"member_rows": source.path}, sql=pairs_query(pairs)),
            "source": ends["from_member"],
            "target": ends["to_member"],
        }
    )


def pairs_query(pairs: Pairs) -> str:
    """The SQL making a pairs source's rows: one per pair, with the group's key columns, ``from_member``
    and ``to_member``, ordered so that a reload numbers them alike."""
    group = ", ".join(_quoted(column) for column in pairs.group_by)
    keys = ", ".join(f"a.{_quoted(column)}" for column in pairs.group_by)
    member = _quoted(pairs.member)
    if pairs.role_from is not None:
        role = _quoted(pairs.role_from)
        which = (
            f"trim(a.{role}) = {_literal(pairs.from_role or '')} and trim(b.{role}) = {_literal(pairs.to_role or '')}"
        )
    else:
        which = f"trim(a.{member}) < trim(b.{member})"
    return (
        f"select {keys}, trim(a.{member}) as from_member, trim(b.{member}) as to_member"
        f" from member_rows a join member_rows b using ({group}) where {which}"
        f" order by {keys}, from_member, to_member"
    )


def with_lookups(mapping: Mapping) -> Mapping:
    """The mapping with every column ``lookup`` read into a ``map``; raises before anything is written
    when a lookup file is missing, lacks its columns, cannot be parsed or gives one key two values."""
    sources = []
    for source in mapping.sources:
        columns = {
            name: column.model_copy(update={"map": read_lookup(source, name, column.lookup, mapping.base_dir)})
            if column.lookup is not None
            else column
            for name, column in source.columns.items()
        }
        sources.append(source.model_copy(update={"columns": columns}) if columns != source.columns else source)
    return mapping.model_copy(update={"sources": sources})


def read_lookup(source: Source, column: str, lookup: Lookup, base_dir: Path) -> dict[str, str]:
    """A lookup file as a map from its key column to its value column (both as trimmed text)."""
    import duckdb

    where = f"source {source.name}, column {column}: lookup file {base_dir / lookup.file}"
    path = base_dir / lookup.file
    if not path.is_file():
        raise SourceError(f"{where} does not exist")
    with duckdb.connect() as connection:
        _create_table(connection, source, "lookup", path, lookup.delimiter)
        rejected = _rejected_records(connection, {"lookup": path})
        if rejected:
            first = rejected[0]
            raise SourceError(f"{where} cannot be read at line {first.line}: {first.message}")
        names = [str(row[0]) for row in connection.execute("describe lookup").fetchall()]
        missing = [name for name in (lookup.key, lookup.value) if name not in names]
        if missing:
            shown = ", ".join(repr(name) for name in names[:8])
            raise ConfigurationError(f"{where} lacks column(s) {', '.join(missing)}; its header reads {shown}")
        key, value = _quoted(lookup.key), _quoted(lookup.value)
        rows = connection.execute(
            f"select trim({key}), trim(coalesce({value}, '')) from lookup where trim(coalesce({key}, '')) <> ''"
        ).fetchall()
    found: dict[str, str] = {}
    for key, value in rows:
        if found.setdefault(key, value) != value:
            raise ConfigurationError(f"{where} gives key column {lookup.key} two different values for one key")
    return found


def _create_table(
    connection: Any, source: Source, table: str, path: Path, delimiter: str | None, rows: int | None = None
) -> None:
    """``table`` as the file's rows, every column text; rejected CSV lines go to :data:`REJECTS_TABLE`."""
    import duckdb

    limit = f" limit {rows}" if rows is not None else ""
    parameters: dict[str, Any]
    if path.suffix.lower() == ".parquet":
        reader = "(select columns(*)::varchar from read_parquet($path))"
        parameters = {"path": str(path)}
    else:
        # The header is read by the project's own reader, and DuckDB told the columns: its dialect sniffer
        # gives up on a file whose first lines are malformed, where each bad line must be quarantined instead.
        separator = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
        columns = _csv_header(source, path, separator)
        reader = (
            "read_csv($path, header = true, auto_detect = false, columns = $columns, delim = $delimiter,"
            " quote = $quote, escape = $quote, all_varchar = true, store_rejects = true,"
            f" rejects_table = '{REJECTS_TABLE}_{table}', rejects_scan = '{SCANS_TABLE}_{table}')"
        )
        parameters = {
            "path": str(path),
            "columns": dict.fromkeys(columns, "VARCHAR"),
            "delimiter": separator,
            "quote": source.quotechar,
        }
    try:
        connection.execute(f"create table {table} as select * from {reader}{limit}", parameters)
    except duckdb.Error as error:
        raise SourceError(f"source {source.name}: cannot read {path}: {_first_line(error)}") from None


def _rejected_records(connection: Any, files: dict[str, Path]) -> list[RawRecord]:
    """The lines DuckDB's CSV reader refused, as quarantined records of their own file and line."""
    tables = {row[0] for row in connection.execute("select table_name from duckdb_tables()").fetchall()}
    records: list[RawRecord] = []
    for table, path in files.items():
        if f"{REJECTS_TABLE}_{table}" in tables:
            records += _rejected_lines(connection, table, path)
    return records


def _rejected_lines(connection: Any, table: str, path: Path) -> list[RawRecord]:
    # DuckDB's own line number counts a quoted value spanning lines as one line: the physical line is
    # counted from the line's byte position instead.
    rows = connection.execute(
        f"select line_byte_position, csv_line, error_type, column_name from {REJECTS_TABLE}_{table}"
        " order by line_byte_position"
    ).fetchall()
    data = path.read_bytes()
    records: list[RawRecord] = []
    for position, text, error_type, column in rows:
        line = data.count(b"\n", 0, int(position)) + 1
        message = f"the query's reader refused the line: {str(error_type).lower().replace('_', ' ')}"
        if column:
            message += f" (column {column})"
        reason = QuarantineReason.MALFORMED_LINE
        records.append(RawRecord(line, str(text or ""), problem=reason, message=message, file=path.name))
    return records


def _csv_header(source: Source, path: Path, separator: str) -> list[str]:
    from loaders.read import read_columns

    as_file = source.model_copy(
        update={"query": None, "path": path.name, "format": SourceFormat.CSV, "delimiter": separator}
    )
    return read_columns(as_file, path)


def _output_records(columns: list[str], rows: list[tuple[Any, ...]]) -> list[RawRecord]:
    """Row n of the output as line n + 1; the original line kept is the row as JSON."""
    from loaders.read import cell_text

    records = []
    for number, row in enumerate(rows, start=2):
        # Columns of the files are text already; only what the SQL computes needs cell_text.
        cells = {
            name: value if type(value) is str else cell_text(value) for name, value in zip(columns, row, strict=True)
        }
        records.append(RawRecord(number, orjson.dumps(cells).decode(), cells))
    return records


def _check_header(source: Source, columns: list[str]) -> None:
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise ConfigurationError(
            f"source {source.name}: its query returns column(s) {', '.join(repeated)} twice; name them apart (as ...)"
        )


def _quoted(name: str) -> str:
    """A column name as a SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
