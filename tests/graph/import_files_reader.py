"""A reader of ``neo4j-admin database import`` files that follows the import tool's rules (RFC 4180 quotes, an
unquoted empty field is no value, arrays split on U+001F), written apart from the code that writes them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from graph.model import PRIMARY_LABELS, NodeLabel, TieType
from graph.neo4j_import import ImportFiles
from graph.store import GraphStore
from graph.ties import spec


def parse_csv(text: str) -> list[list[str | None]]:
    """Rows of fields; a quoted field is its text (``""`` inside is one quote), an unquoted empty one None."""
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    position = 0
    while position < len(text):
        if text[position] == '"':
            end = position + 1
            parts = []
            while True:
                close = text.index('"', end)
                parts.append(text[end:close])
                if text.startswith('"', close + 1):
                    parts.append('"')
                    end = close + 2
                    continue
                position = close + 1
                break
            row.append("".join(parts))
        else:
            end = min(index for index in (text.find(",", position), text.find("\n", position)) if index >= 0)
            row.append(text[position:end] or None)
            position = end
        separator = text[position]
        position += 1
        if separator == "\n":
            rows.append(row)
            row = []
        else:
            assert separator == ",", f"garbage after a field at {position}"
    return rows


def read_exactly(path: Path) -> str:
    """The file's text with its line ends as written (``read_text`` would turn CR LF into LF)."""
    return path.read_bytes().decode("utf-8")


def convert(kind: str, field: str | None) -> Any:
    if field is None or (kind.endswith("[]") and field == ""):
        return None  # the tool stores no property for either
    if kind.endswith("[]"):
        return [convert(kind[:-2], item) for item in field.split("\x1f")]
    return {
        "string": lambda: field,
        "long": lambda: int(field),
        "double": lambda: java_double(field),
        "boolean": lambda: {"true": True, "false": False}[field],
    }[kind]()


def java_double(field: str) -> float:
    """A double as Java's ``Double.parseDouble`` reads it: Python's ``inf`` or ``nan`` would fail there."""
    spelled = {"Infinity": float("inf"), "-Infinity": float("-inf"), "NaN": float("nan")}
    if field in spelled:
        return spelled[field]
    assert re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", field), f"not a Java double: {field!r}"
    return float(field)


def read_back(files: ImportFiles) -> dict[str, Any]:
    """The graph the import command describes, built only from its arguments and the files it names."""
    arguments = files.arguments
    nodes: dict[tuple[str, str], dict[str, Any]] = {}
    ties: dict[tuple[str, str, str], dict[str, Any]] = {}
    for argument in arguments:
        match = re.fullmatch(r"--(nodes|relationships)=([\w:]+)=([^,]+),([^,]+)", argument)
        if not match:
            continue
        kind, name, header_path, data_path = match.groups()
        header = parse_csv(read_exactly(Path(header_path)))
        assert len(header) == 1
        columns = [str(column).rpartition(":")[::2] for column in header[0]]
        for row in parse_csv(read_exactly(Path(data_path))):
            keys = []
            properties = {}
            for (column, column_type), field in zip(columns, row, strict=True):
                if column_type.startswith(("ID(", "START_ID(", "END_ID(")):
                    keys.append((column_type.split("(")[1].rstrip(")"), field))
                    continue
                value = convert(column_type, field)
                if value is not None:
                    properties[column] = value
            if kind == "nodes":
                labels = name.split(":")
                ((group, node_id),) = keys
                assert group == labels[0]
                nodes[(group, node_id)] = {"label": labels[-1], "properties": properties}
            else:
                (source_group, source), (target_group, target) = keys
                tie_spec = spec(TieType(name))
                assert (source_group, target_group) == (tie_spec.source.value, tie_spec.target.value)
                ties[(name, source, target)] = properties
    if files.after_import is not None:
        for line in files.after_import.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "type" in row:
                ties[(row["type"], row["source"], row["target"])].update(row["properties"])
            else:
                nodes[(NodeLabel(row["label"]).primary.value, row["id"])]["properties"].update(row["properties"])
    return {"nodes": nodes, "ties": ties}


def store_contents(store: GraphStore) -> dict[str, Any]:
    return {
        "nodes": {
            (label.value, record.id): {"label": record.label.value, "properties": record.properties}
            for label in PRIMARY_LABELS
            for record in store.nodes(label)
        },
        "ties": {(tie.type.value, tie.source, tie.target): tie.properties for tie in store.ties()},
    }
