"""Files for ``neo4j-admin database import full``: a bank's first Neo4j load done offline.

:func:`write_import_files` reads every node and tie of any store (usually the embedded one the loaders
filled) and writes, per node kind and per tie type, a header file and a data file in the CSV format of
the Neo4j 5.26 import tool, and returns the exact ``neo4j-admin`` command that imports them. After that
import Neo4j holds what :meth:`graph.neo4j_store.Neo4jStore.write` would have stored from the same rows.
The embedded store's tables are formatted column by column by Arrow kernels
(:mod:`graph.neo4j_import_columns`: 0.68 CPU s instead of 7.5 for the 512,426 nodes and ties of a
30,000-customer bank); a label or tie type with a property of varying type, and any other store, row by row.


- **Nodes** of one kind go to one file pair with the kind's labels on the command line
  (``--nodes=Customer:Person=...``); the id column is ``id:ID(<primary label>)``, so equal ids of different
  primary labels never clash, and ``--id-type=string`` keeps ids as text (some exceed 2^53).
- **Ties** of one type go to one file pair (``--relationships=OWNS=...``) with ``:START_ID(<label>)`` and
  ``:END_ID(<label>)``; symmetric ties are written as the store holds them, from the smaller id.
- **Column types come from the values**: str ``string``, bool ``boolean``, int ``long``, float ``double``,
  lists ``string[]``, ``boolean[]``, ``long[]``, ``double[]``. A missing property (or a ``None``, which
  ``write`` would remove) is an empty unquoted field, which the tool skips; text, ids included, is always
  quoted, so ``""`` is an empty string. Floats are written as the shortest text that reads back as the same
  double (``-0.0``, ``1e-300``, ``Infinity``).
- **A property whose type varies** between nodes of one kind (or ties of one type), say ``long`` on some
  and ``double`` on others, is not widened: each combination of types gets its own file pair with its own
  header, so every value keeps its type and both stores answer alike; rows without the property go with its
  most common type. Loaders write one type per property, so there is one pair per kind in practice.
- **What the CSV format cannot carry**: an empty list, a text list of one empty string, and text list
  items holding the array delimiter. Those properties are left out of the CSV and written to
  ``after-import.jsonl``; :func:`finish_import` writes them through ``store.write`` once Neo4j runs on
  the imported database (``crm-graph finish-import``). The analytics write empty lists (customers with
  no churn contributors), so an analysed store has such rows; a freshly loaded one usually has none.
- **Refused**, with an :class:`~graph.errors.ExportError` naming the label or type, property and id:
  integers beyond 64 bits and values of other types (Neo4j cannot hold them either), and property names
  with ``:``, ``,``, ``"``, control characters or surrounding spaces (they would break the header).

CSV settings: ``,`` between fields, ``"`` quotes with ``""`` inside (RFC 4180, no backslash escapes), the
unit separator U+001F between array items, UTF-8, ``\\n`` line ends. Fields holding a newline are legal
inside quotes; the files that have one are named in ``--multiline-fields`` (format v2, Neo4j 5.26), so
the import parses only those more slowly.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from graph.embedded.layout import ID, KIND, SOURCE, TARGET
from graph.errors import ExportError
from graph.model import PRIMARY_LABELS, NodeLabel, TieType
from graph.neo4j_import_columns import ARRAY_DELIMITER, DELIMITER, ColumnFile, writable, write_columns
from graph.store import GraphStore
from graph.tables import stored_tables
from graph.ties import spec

Progress = Callable[[str, int, int], None]

QUOTE = '"'
AFTER_IMPORT = "after-import.jsonl"
MAX_FILE_PAIRS_PER_KIND = 64
"""More combinations of property types than this within one kind is a store gone wrong, not a bank."""
_REPORT_EVERY = 10_000


class ImportSource(BaseModel):
    """One ``--nodes`` or ``--relationships`` argument: a header file and its data file."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["nodes", "relationships"]
    name: str
    """The labels joined by ``:`` (``Customer:Person``) or the relationship type."""
    header: Path
    data: Path
    rows: int
    multiline: bool
    """Some field holds a newline, so the tool must be told (``--multiline-fields``)."""

    @property
    def argument(self) -> str:
        return f"--{self.kind}={self.name}={self.header},{self.data}"


class ImportFiles(BaseModel):
    """What :func:`write_import_files` wrote, and the command that imports it."""

    model_config = ConfigDict(frozen=True)

    directory: Path
    database: str
    sources: list[ImportSource]
    nodes: int
    ties: int
    after_import: Path | None
    """``after-import.jsonl`` when some values could not go into the CSV (see :func:`finish_import`)."""
    after_import_rows: int
    seconds: float

    @property
    def arguments(self) -> list[str]:
        """The arguments of ``neo4j-admin`` that import these files into a stopped, empty ``database``."""
        multiline = [str(source.data) for source in self.sources if source.multiline]
        return [
            "database",
            "import",
            "full",
            # The database comes first: each --nodes/--relationships option takes every argument after it.
            self.database,
            "--id-type=string",
            f"--delimiter={DELIMITER}",
            f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}",
            f"--quote={QUOTE}",
            "--legacy-style-quoting=false",
            "--ignore-empty-strings=false",
            "--trim-strings=false",
            "--input-encoding=UTF-8",
            *(["--multiline-fields-format=v2", f"--multiline-fields={','.join(multiline)}"] if multiline else []),
            *(source.argument for source in self.sources),
        ]

    @property
    def command(self) -> str:
        """The whole command line, quoted for a POSIX shell."""
        return shlex.join(["neo4j-admin", *self.arguments])


def write_import_files(
    store: GraphStore, out: Path, progress: Progress | None = None, *, database: str = "neo4j"
) -> ImportFiles:
    """Write every node and tie of ``store`` as neo4j-admin import files into the new or empty folder ``out``.

    The embedded store's tables are written column by column (:mod:`graph.neo4j_import_columns`); a label or
    tie type with a property of varying type, and every other store, is read row by row, twice: once for the
    types of every property, once to write.
    """
    started = time.perf_counter()
    directory = _empty_folder(out)
    report = progress or _no_progress
    counts = store.counts()
    tables = stored_tables(store)
    sources: list[ImportSource] = []
    with ExitStack() as files:
        after = _AfterImport(directory / AFTER_IMPORT, files)
        nodes = _Ticker(report, "writing nodes", sum(counts.nodes.get(label.value, 0) for label in PRIMARY_LABELS))
        for label in PRIMARY_LABELS:
            table = tables[0].get(label) if tables else None
            if table is not None and writable(list(table.schema)[2:]):
                sources.extend(_node_columns(label, table, directory, after, nodes))
            else:
                sources.extend(_node_rows(store, label, directory, files, after, nodes))
        nodes.done()
        ties = _Ticker(report, "writing ties", sum(counts.ties.values()))
        for tie_type in TieType:
            tie_table = tables[1].get(tie_type) if tables else None
            if tie_table is not None and writable(list(tie_table.schema)[2:]):
                assert tables is not None
                sources.extend(_tie_columns(tie_type, tie_table, tables[0], directory, after, ties))
            else:
                sources.extend(_tie_rows(store, tie_type, directory, files, after, ties))
        ties.done()
    return ImportFiles(
        directory=directory,
        database=database,
        sources=sources,
        nodes=sum(source.rows for source in sources if source.kind == "nodes"),
        ties=sum(source.rows for source in sources if source.kind == "relationships"),
        after_import=after.path if after.rows else None,
        after_import_rows=after.rows,
        seconds=time.perf_counter() - started,
    )


def _node_columns(
    label: NodeLabel, table: pa.Table, directory: Path, after: _AfterImport, ticker: _Ticker
) -> Iterator[ImportSource]:
    """The file pairs of one primary label's table: one per kind (a customer's Person or Company)."""
    kinds = table.column(KIND)
    found = pc.unique(kinds).to_pylist()
    for kind_name in found:
        kind = NodeLabel(kind_name)
        part = table if len(found) == 1 else table.filter(pc.equal(kinds, kind_name))
        written = write_columns(
            directory / f"nodes-{kind.value}.csv",
            [part.column(ID)],
            part.drop_columns([ID, KIND]),
            partial(_check_name, where=kind.value),
            ticker.add,
        )
        for (node_id,), later in written.later:
            after.write({"label": kind.value, "id": node_id, "properties": later})
        yield _source("nodes", ":".join(item.value for item in kind.labels), [f"id:ID({label.value})"], written)


def _tie_columns(
    tie_type: TieType,
    table: pa.Table,
    nodes: dict[NodeLabel, pa.Table],
    directory: Path,
    after: _AfterImport,
    ticker: _Ticker,
) -> Iterator[ImportSource]:
    if not table.num_rows:
        return
    tie_spec = spec(tie_type)
    ends = [
        nodes[tie_spec.source].column(ID).take(table.column(SOURCE)),
        nodes[tie_spec.target].column(ID).take(table.column(TARGET)),
    ]
    written = write_columns(
        directory / f"ties-{tie_type.value}.csv",
        ends,
        table.drop_columns([SOURCE, TARGET]),
        partial(_check_name, where=tie_type.value),
        ticker.add,
    )
    for (source, target), later in written.later:
        after.write({"type": tie_type.value, "source": source, "target": target, "properties": later})
    keys = [f":START_ID({tie_spec.source.value})", f":END_ID({tie_spec.target.value})"]
    yield _source("relationships", tie_type.value, keys, written)


def _source(kind: Literal["nodes", "relationships"], name: str, keys: list[str], written: ColumnFile) -> ImportSource:
    header = written.data.with_name(written.data.name.removesuffix(".csv") + ".header.csv")
    _write_header(header, keys, written.columns)
    return ImportSource(
        kind=kind, name=name, header=header, data=written.data, rows=written.rows, multiline=written.multiline
    )


def _node_rows(
    store: GraphStore, label: NodeLabel, directory: Path, files: ExitStack, after: _AfterImport, ticker: _Ticker
) -> Iterator[ImportSource]:
    """The file pairs of one primary label read row by row: a pair per kind and combination of types."""
    groups: dict[NodeLabel, _Group] = {}
    for record in store.nodes(label):
        group = groups.get(record.label)
        if group is None:
            group = groups[record.label] = _Group(record.label.value, "nodes")
        group.scan([record.id], record.properties)
    for record in store.nodes(label):
        later = groups[record.label].write([record.id], record.properties, directory, files)
        if later:
            after.write({"label": record.label.value, "id": record.id, "properties": later})
        ticker.add(1)
    for kind, group in groups.items():
        yield from group.sources("nodes", ":".join(item.value for item in kind.labels), [f"id:ID({label.value})"])


def _tie_rows(
    store: GraphStore, tie_type: TieType, directory: Path, files: ExitStack, after: _AfterImport, ticker: _Ticker
) -> Iterator[ImportSource]:
    group = _Group(tie_type.value, "ties")
    for tie in store.ties([tie_type]):
        group.scan([tie.source, tie.target], tie.properties)
    for tie in store.ties([tie_type]):
        later = group.write([tie.source, tie.target], tie.properties, directory, files)
        if later:
            after.write({"type": tie.type.value, "source": tie.source, "target": tie.target, "properties": later})
        ticker.add(1)
    tie_spec = spec(tie_type)
    yield from group.sources(
        "relationships", tie_type.value, [f":START_ID({tie_spec.source.value})", f":END_ID({tie_spec.target.value})"]
    )


class _AfterImport:
    """``after-import.jsonl``, opened when the first value the CSV cannot carry turns up."""

    def __init__(self, path: Path, files: ExitStack) -> None:
        self.path = path
        self.files = files
        self.handle: IO[str] | None = None
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        if self.handle is None:
            self.handle = self.files.enter_context(self.path.open("w", encoding="utf-8", newline="\n"))
        self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.rows += 1


class _Ticker:
    """Progress of one stage, reported every ``_REPORT_EVERY`` rows or so, and once at its end."""

    def __init__(self, progress: Progress, stage: str, total: int) -> None:
        self.progress, self.stage, self.total = progress, stage, total
        self.count = self.reported = 0

    def add(self, rows: int) -> None:
        self.count += rows
        if self.count - self.reported >= _REPORT_EVERY:
            self.progress(self.stage, self.count, self.total)
            self.reported = self.count

    def done(self) -> None:
        self.progress(self.stage, self.count, self.total)


def finish_import(store: GraphStore, directory: Path, *, batch_size: int = 5000) -> int:
    """Write the rows of ``after-import.jsonl`` (values the CSV could not carry) through ``store.write``.

    Run once Neo4j serves the imported database; merging makes a second run change nothing.
    Returns the number of rows written (0 when the folder has no such file).
    """
    path = Path(directory) / AFTER_IMPORT
    if not path.is_file():
        return 0
    nodes: list[dict[str, Any]] = []
    ties: list[dict[str, Any]] = []
    for line in _lines(path):
        row = json.loads(line)
        (ties if "type" in row else nodes).append(row)
    for start in range(0, len(nodes), batch_size):
        store.write(nodes=nodes[start : start + batch_size])
    for start in range(0, len(ties), batch_size):
        store.write(ties=ties[start : start + batch_size])
    return len(nodes) + len(ties)


# -- types and values -------------------------------------------------------------------------------


def column_type(value: Any) -> str | None:
    """The import type of a property value, or None when the CSV cannot carry it (see the module doc).

    Raises ``ValueError`` for a value Neo4j cannot hold either (the caller names the row).
    """
    kind = type(value)
    if kind is str:
        return "string"
    if kind is bool:
        return "boolean"
    if kind is int:
        return "long" if _LONG_MIN <= value <= _LONG_MAX else _refuse(value)
    if kind is float:
        return "double"
    if kind is list:
        if not value:
            return None
        item_types = set(map(type, value))
        item = item_types.pop() if len(item_types) == 1 else None
        if item is str:
            if value == [""] or any(ARRAY_DELIMITER in text for text in value):
                return None
            return "string[]"
        if item is bool:
            return "boolean[]"
        if item is int:
            return "long[]" if min(value) >= _LONG_MIN and max(value) <= _LONG_MAX else _refuse(value)
        if item is float:
            return "double[]"
    return _refuse(value)


_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_PLAIN_TYPES: dict[type, str] = {str: "string", bool: "boolean", float: "double"}
"""Types that need no look at the value: the fast path for most properties of a large export."""


def _refuse(value: Any) -> str:
    if isinstance(value, int) or (isinstance(value, list) and value and isinstance(value[0], int)):
        raise ValueError("is an integer beyond 64 bits, which Neo4j cannot hold")
    raise ValueError(f"is a {_type_name(value)}, which Neo4j cannot hold")


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "list of " + "/".join(sorted({type(item).__name__ for item in value}))
    return type(value).__name__


def _text(value: str) -> str:
    return QUOTE + value.replace(QUOTE, QUOTE + QUOTE) + QUOTE


def _number(value: float) -> str:
    # repr is the shortest text that reads back as the same double; Java spells the non-finite ones.
    text = repr(value)
    if "n" in text:  # inf, -inf or nan: finite numbers are digits, '.', '-', 'e' and '+'
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return text


def _numbers(values: list[float]) -> str:
    text = ARRAY_DELIMITER.join(map(repr, values))
    return text if "n" not in text else ARRAY_DELIMITER.join(map(_number, values))


_FORMATS: dict[str, Callable[[Any], str]] = {
    "string": _text,
    "boolean": lambda value: "true" if value else "false",
    "long": str,
    "double": _number,
    "string[]": lambda items: _text(ARRAY_DELIMITER.join(items)),
    "boolean[]": lambda items: ARRAY_DELIMITER.join("true" if item else "false" for item in items),
    "long[]": lambda items: ARRAY_DELIMITER.join(map(str, items)),
    "double[]": _numbers,
}


def _check_name(name: str, where: str) -> None:
    if (
        any(char in name for char in ':,"') or any(ord(char) < 32 or ord(char) == 127 for char in name)
    ) or name != name.strip():
        raise ExportError(
            f"{where}: property name {name!r} cannot be a column of an import header "
            "(no ':', ',', '\"', control characters or surrounding spaces)"
        )


# -- files ------------------------------------------------------------------------------------------


class _Writer:
    """One header/data file pair: the rows of one kind (or tie type) with one combination of types."""

    def __init__(self, columns: list[tuple[str, str]], data: Path, header: Path, handle: IO[str]) -> None:
        self.columns = columns
        self.formats = [(name, _FORMATS[kind]) for name, kind in columns]
        self.data = data
        self.header = header
        self.handle = handle
        self.rows = 0
        self.multiline = False

    def write(self, keys: list[str], properties: dict[str, Any], carried: dict[str, str]) -> None:
        """Write one row: the ids, then each column's value when the row has one the CSV can carry."""
        fields = [_text(key) for key in keys]
        for name, format_value in self.formats:
            fields.append(format_value(properties[name]) if name in carried else "")
        line = DELIMITER.join(fields)
        if not self.multiline and ("\n" in line or "\r" in line):
            self.multiline = True
        self.handle.write(line + "\n")
        self.rows += 1


class _Group:
    """Every row of one node kind or tie type: its property types, then its file pairs."""

    def __init__(self, name: str, prefix: str) -> None:
        self.name = name
        self.prefix = prefix
        self.types: dict[str, dict[str, int]] = {}
        """Rows per type of each property, in the order the types were first seen."""
        self.fixed: dict[str, str] | None = None
        self.usual: dict[str, str] = {}
        """Each property of varying type, with its most common type: where rows without it go."""
        self.writers: dict[tuple[str, ...], _Writer] = {}

    @property
    def rows(self) -> int:
        return sum(writer.rows for writer in self.writers.values())

    def scan(self, keys: list[str], properties: dict[str, Any]) -> None:
        """First pass: note the type of every property the CSV can carry."""
        types = self.types
        plain = _PLAIN_TYPES.get
        for name, value in properties.items():
            if value is None:
                continue
            found = plain(type(value)) or self._column_type(keys, name, value)
            if found is not None:
                seen = types.get(name)
                if seen is None:
                    _check_name(name, self.name)
                    types[name] = {found: 1}
                else:
                    seen[found] = seen.get(found, 0) + 1

    def write(self, keys: list[str], properties: dict[str, Any], directory: Path, files: ExitStack) -> dict[str, Any]:
        """Second pass: write one row to the file pair of its types; return what is left for after the import."""
        if self.fixed is None:
            self.fixed = {name: next(iter(kinds)) for name, kinds in self.types.items() if len(kinds) == 1}
            self.usual = {
                name: max(kinds, key=kinds.__getitem__) for name, kinds in self.types.items() if len(kinds) > 1
            }
        carried: dict[str, str] = {}
        later: dict[str, Any] = {}
        plain = _PLAIN_TYPES.get
        for name, value in properties.items():
            if value is None:
                continue  # what write() would do with it: no property
            found = plain(type(value)) or self._column_type(keys, name, value)
            if found is None:
                later[name] = value
            elif self.fixed.get(name, found) != found or name not in self.types:
                raise ExportError(f"{self._where(keys)}: property {name!r} changed type while the files were written")
            else:
                carried[name] = found
        combination = tuple(carried.get(name) or usual for name, usual in self.usual.items())
        writer = self.writers.get(combination)
        if writer is None:
            writer = self.writers[combination] = self._new_writer(combination, directory, files)
        writer.write(keys, properties, carried)
        return later

    def _column_type(self, keys: list[str], name: str, value: Any) -> str | None:
        try:
            return column_type(value)
        except ValueError as error:
            raise ExportError(f"{self._where(keys)}: property {name!r} {error}") from None

    def _where(self, keys: list[str]) -> str:
        """Names the row in errors: ``Person 'p1'`` or ``OWNS 'p1' -> 'a1'``."""
        return f"{self.name} {' -> '.join(map(repr, keys))}"

    def _new_writer(self, combination: tuple[str, ...], directory: Path, files: ExitStack) -> _Writer:
        if len(self.writers) == MAX_FILE_PAIRS_PER_KIND:
            raise ExportError(
                f"{self.name}: properties {', '.join(self.usual)} vary in type in more than "
                f"{MAX_FILE_PAIRS_PER_KIND} combinations; give each property one type"
            )
        assert self.fixed is not None
        columns = [
            *self.fixed.items(),
            *zip(self.usual, combination, strict=True),
        ]
        number = len(self.writers) + 1
        stem = f"{self.prefix}-{self.name}" + (f"-{number}" if number > 1 else "")
        data, header = directory / f"{stem}.csv", directory / f"{stem}.header.csv"
        handle = files.enter_context(data.open("w", encoding="utf-8", newline="\n"))
        return _Writer(columns, data, header, handle)

    def sources(self, kind: Literal["nodes", "relationships"], name: str, keys: list[str]) -> Iterator[ImportSource]:
        """Write each pair's header file and describe the pair."""
        for writer in self.writers.values():
            _write_header(writer.header, keys, writer.columns)
            yield ImportSource(
                kind=kind,
                name=name,
                header=writer.header,
                data=writer.data,
                rows=writer.rows,
                multiline=writer.multiline,
            )


def _write_header(path: Path, keys: list[str], columns: list[tuple[str, str]]) -> None:
    names = [*keys, *(f"{column}:{column_type}" for column, column_type in columns)]
    path.write_text(DELIMITER.join(names) + "\n", encoding="utf-8")


def _empty_folder(out: Path) -> Path:
    directory = Path(out).resolve()
    if DELIMITER in str(directory) or "=" in str(directory):
        # The command lists files separated by commas after LABEL=.
        raise ExportError(f"the folder {directory} has ',' or '=' in its path, which the import command cannot name")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        # Old files (an after-import.jsonl above all) must not be mistaken for this export's.
        raise ExportError(f"{directory} is not an empty folder; choose a new one")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _lines(path: Path) -> Iterable[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def _no_progress(stage: str, done: int, total: int) -> None:
    return None
