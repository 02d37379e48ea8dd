"""Files for ``neo4j-admin database import full``: a bank's first Neo4j load done offline.

:func:`write_import_files` reads every node and tie of any store (usually the embedded one the loaders
filled) and writes, per node kind and per tie type, a header file and a data file in the CSV format of
the Neo4j 5.26 import tool, and returns the exact ``neo4j-admin`` command that imports them. After that
import Neo4j holds what :meth:`graph.neo4j_store.Neo4jStore.write` would have stored from the same rows:

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
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict

from graph.errors import ExportError
from graph.model import PRIMARY_LABELS, NodeLabel, TieType
from graph.store import GraphStore
from graph.ties import spec

Progress = Callable[[str, int, int], None]

DELIMITER = ","
QUOTE = '"'
ARRAY_DELIMITER = "\x1f"
"""The unit separator: a control character no text from a bank's exports is expected to hold."""
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

    The store is read twice: once for the types of every property, once to write.
    """
    started = time.perf_counter()
    directory = _empty_folder(out)
    report = progress or _no_progress
    counts = store.counts()
    node_total = sum(counts.nodes.get(label.value, 0) for label in PRIMARY_LABELS)
    tie_total = sum(counts.ties.values())

    node_groups: dict[NodeLabel, _Group] = {}
    tie_groups: dict[TieType, _Group] = {}
    done = 0
    for label in PRIMARY_LABELS:
        for record in store.nodes(label):
            group = node_groups.get(record.label)
            if group is None:
                group = node_groups[record.label] = _Group(record.label.value, "nodes")
            group.scan([record.id], record.properties)
            done = _tick(report, "reading node property types", done, node_total)
    report("reading node property types", done, node_total)
    done = 0
    for tie in store.ties():
        tie_group = tie_groups.get(tie.type)
        if tie_group is None:
            tie_group = tie_groups[tie.type] = _Group(tie.type.value, "ties")
        tie_group.scan([tie.source, tie.target], tie.properties)
        done = _tick(report, "reading tie property types", done, tie_total)
    report("reading tie property types", done, tie_total)

    sources: list[ImportSource] = []
    after_rows = 0
    after_path = directory / AFTER_IMPORT
    with ExitStack() as files:
        after_file: IO[str] | None = None

        def keep_for_later(row: dict[str, Any]) -> None:
            nonlocal after_file, after_rows
            if after_file is None:
                after_file = files.enter_context(after_path.open("w", encoding="utf-8", newline="\n"))
            after_file.write(json.dumps(row, ensure_ascii=False) + "\n")
            after_rows += 1

        done = 0
        for label in PRIMARY_LABELS:
            for record in store.nodes(label):
                later = node_groups[record.label].write([record.id], record.properties, directory, files)
                if later:
                    keep_for_later({"label": record.label.value, "id": record.id, "properties": later})
                done = _tick(report, "writing nodes", done, node_total)
        report("writing nodes", done, node_total)
        done = 0
        for tie in store.ties():
            later = tie_groups[tie.type].write([tie.source, tie.target], tie.properties, directory, files)
            if later:
                keep_for_later(
                    {"type": tie.type.value, "source": tie.source, "target": tie.target, "properties": later}
                )
            done = _tick(report, "writing ties", done, tie_total)
        report("writing ties", done, tie_total)

    for kind, group in node_groups.items():
        id_column = f"id:ID({kind.primary.value})"
        sources.extend(group.sources("nodes", ":".join(label.value for label in kind.labels), [id_column]))
    for tie_type, group in tie_groups.items():
        ends = [f":START_ID({spec(tie_type).source.value})", f":END_ID({spec(tie_type).target.value})"]
        sources.extend(group.sources("relationships", tie_type.value, ends))
    return ImportFiles(
        directory=directory,
        database=database,
        sources=sources,
        nodes=sum(group.rows for group in node_groups.values()),
        ties=sum(group.rows for group in tie_groups.values()),
        after_import=after_path if after_rows else None,
        after_import_rows=after_rows,
        seconds=time.perf_counter() - started,
    )


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
            columns = [*keys, *(f"{column}:{column_type}" for column, column_type in writer.columns)]
            writer.header.write_text(DELIMITER.join(columns) + "\n", encoding="utf-8")
            yield ImportSource(
                kind=kind,
                name=name,
                header=writer.header,
                data=writer.data,
                rows=writer.rows,
                multiline=writer.multiline,
            )


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


def _tick(progress: Progress, stage: str, done: int, total: int) -> int:
    done += 1
    if done % _REPORT_EVERY == 0:
        progress(stage, done, total)
    return done


def _no_progress(stage: str, done: int, total: int) -> None:
    return None
