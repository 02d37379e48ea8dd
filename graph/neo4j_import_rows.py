"""The row path of the import files: property types learnt from the values, a file pair per combination.

:func:`graph.neo4j_import.write_import_files` takes it for stores without tables (Neo4j) and for a label or tie
type of the embedded store with a property of varying type; the module doc there gives the format.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from graph.errors import ExportError
from graph.neo4j_import_columns import ARRAY_DELIMITER, DELIMITER, QUOTE

MAX_FILE_PAIRS_PER_KIND = 64
"""More combinations of property types than this within one kind is a store gone wrong, not a bank."""


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


def check_name(name: str, where: str) -> None:
    if (
        any(char in name for char in ':,"') or any(ord(char) < 32 or ord(char) == 127 for char in name)
    ) or name != name.strip():
        raise ExportError(
            f"{where}: property name {name!r} cannot be a column of an import header "
            "(no ':', ',', '\"', control characters or surrounding spaces)"
        )


# -- files ------------------------------------------------------------------------------------------


class FilePair:
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


class RowGroup:
    """Every row of one node kind or tie type: its property types, then its file pairs."""

    def __init__(self, name: str, prefix: str) -> None:
        self.name = name
        self.prefix = prefix
        self.types: dict[str, dict[str, int]] = {}
        """Rows per type of each property, in the order the types were first seen."""
        self.fixed: dict[str, str] | None = None
        self.usual: dict[str, str] = {}
        """Each property of varying type, with its most common type: where rows without it go."""
        self.writers: dict[tuple[str, ...], FilePair] = {}

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
                    check_name(name, self.name)
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

    def _new_writer(self, combination: tuple[str, ...], directory: Path, files: ExitStack) -> FilePair:
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
        return FilePair(columns, data, header, handle)

    def pairs(self, keys: list[str]) -> list[FilePair]:
        """Write each file pair's header (``keys``, then the pair's columns) and return the pairs."""
        for writer in self.writers.values():
            write_header(writer.header, keys, writer.columns)
        return list(self.writers.values())


def write_header(path: Path, keys: list[str], columns: list[tuple[str, str]]) -> None:
    names = [*keys, *(f"{column}:{column_type}" for column, column_type in columns)]
    path.write_text(DELIMITER.join(names) + "\n", encoding="utf-8")
