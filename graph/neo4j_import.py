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
from graph.neo4j_import_columns import ARRAY_DELIMITER, DELIMITER, QUOTE, ColumnFile, writable, write_columns
from graph.neo4j_import_rows import FilePair, RowGroup, check_name, write_header
from graph.store import GraphStore
from graph.tables import stored_tables
from graph.ties import spec

Progress = Callable[[str, int, int], None]

AFTER_IMPORT = "after-import.jsonl"
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
            partial(check_name, where=kind.value),
            ticker.add,
        )
        for (node_id,), later in written.later:
            after.write({"label": kind.value, "id": node_id, "properties": later})
        write_header(written.header, [f"id:ID({label.value})"], written.columns)
        yield _source("nodes", ":".join(item.value for item in kind.labels), written)


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
        partial(check_name, where=tie_type.value),
        ticker.add,
    )
    for (source, target), later in written.later:
        after.write({"type": tie_type.value, "source": source, "target": target, "properties": later})
    keys = [f":START_ID({tie_spec.source.value})", f":END_ID({tie_spec.target.value})"]
    write_header(written.header, keys, written.columns)
    yield _source("relationships", tie_type.value, written)


def _source(kind: Literal["nodes", "relationships"], name: str, pair: ColumnFile | FilePair) -> ImportSource:
    return ImportSource(
        kind=kind, name=name, header=pair.header, data=pair.data, rows=pair.rows, multiline=pair.multiline
    )


def _node_rows(
    store: GraphStore, label: NodeLabel, directory: Path, files: ExitStack, after: _AfterImport, ticker: _Ticker
) -> Iterator[ImportSource]:
    """The file pairs of one primary label read row by row: a pair per kind and combination of types."""
    groups: dict[NodeLabel, RowGroup] = {}
    for record in store.nodes(label):
        group = groups.get(record.label)
        if group is None:
            group = groups[record.label] = RowGroup(record.label.value, "nodes")
        group.scan([record.id], record.properties)
    for record in store.nodes(label):
        later = groups[record.label].write([record.id], record.properties, directory, files)
        if later:
            after.write({"label": record.label.value, "id": record.id, "properties": later})
        ticker.add(1)
    for kind, group in groups.items():
        name, keys = ":".join(item.value for item in kind.labels), [f"id:ID({label.value})"]
        yield from (_source("nodes", name, writer) for writer in group.pairs(keys))


def _tie_rows(
    store: GraphStore, tie_type: TieType, directory: Path, files: ExitStack, after: _AfterImport, ticker: _Ticker
) -> Iterator[ImportSource]:
    group = RowGroup(tie_type.value, "ties")
    for tie in store.ties([tie_type]):
        group.scan([tie.source, tie.target], tie.properties)
    for tie in store.ties([tie_type]):
        later = group.write([tie.source, tie.target], tie.properties, directory, files)
        if later:
            after.write({"type": tie.type.value, "source": tie.source, "target": tie.target, "properties": later})
        ticker.add(1)
    tie_spec = spec(tie_type)
    keys = [f":START_ID({tie_spec.source.value})", f":END_ID({tie_spec.target.value})"]
    yield from (_source("relationships", tie_type.value, writer) for writer in group.pairs(keys))


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
