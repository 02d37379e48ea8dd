"""``crm-graph export --format parquet`` writes exactly what the store holds, on both backends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from api.cli import app
from graph import neo4j_store as neo4j_store_module
from graph import parquet_export
from graph.embedded import EmbeddedStore
from graph.errors import ExportError
from graph.model import PRIMARY_LABELS, NodeLabel, TieType
from graph.neo4j_store import Neo4jStore
from graph.parquet_export import MANIFEST, export_parquet, node_file, tie_file
from graph.store import GraphStore

NODES: list[dict[str, Any]] = [
    {
        "label": "Person",
        "id": "90071992547409931",  # above 2^53: must stay text
        "properties": {"name": "王伟", "consent_marketing": True, "capital": 5, "tags": ["a", "中文"], "none": []},
    },
    {"label": "Company", "id": "c1", "properties": {"name": "云帆科技", "capital": 5.5, "birth_year": 2**62 + 1}},
    {"label": "Account", "id": "a1", "properties": {"balances": [1.5, -0.0, 1e-300], "status": "open"}},
    {"label": "Account", "id": "a2", "properties": {"balances": [], "status": "closed", "closed": "2024-01-31"}},
    {"label": "Product", "id": "p1", "properties": {"segments": ["retail"], "min_age": 18}},
]
TIES: list[dict[str, Any]] = [
    {"type": "OWNS", "source": "90071992547409931", "target": "a1", "properties": {"role": "owner"}},
    {"type": "OWNS", "source": "c1", "target": "a2", "properties": {"role": "joint"}},
    {"type": "OF_PRODUCT", "source": "a1", "target": "p1", "properties": {}},
    {"type": "SHAREHOLDER_OF", "source": "90071992547409931", "target": "c1", "properties": {"ratio": 0.4}},
]


def _present(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if value is not None}


def test_files_hold_every_node_and_tie_with_its_values(store: GraphStore, tmp_path: Path) -> None:
    store.write(nodes=NODES, ties=TIES)
    export = export_parquet(store, tmp_path / "out")

    for label in PRIMARY_LABELS:
        table = pq.read_table(export.directory / node_file(label))
        assert table.schema.field("id").type == "string"
        rows = {row.pop("id"): _present(row) for row in table.to_pylist()}
        expected = {record.id: dict(record.properties) for record in store.nodes(label)}
        if label is NodeLabel.CUSTOMER:
            expected = {
                key: {**props, "label": record.label.value}
                for (key, props), record in zip(expected.items(), store.nodes(label), strict=True)
            }
        assert rows == expected, label
    for tie_type in TieType:
        table = pq.read_table(export.directory / tie_file(tie_type))
        found = {(row.pop("source"), row.pop("target")): _present(row) for row in table.to_pylist()}
        assert found == {(tie.source, tie.target): dict(tie.properties) for tie in store.ties([tie_type])}

    customers = pq.read_table(export.directory / node_file(NodeLabel.CUSTOMER))
    assert str(customers.schema.field("capital").type) == "double"  # 5 and 5.5: widened, 5 reads back equal
    assert str(customers.schema.field("birth_year").type) == "int64"
    assert str(customers.schema.field("none").type) == "list<element: string>"
    manifest = json.loads((export.directory / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["files"][node_file(NodeLabel.ACCOUNT)] == 2
    assert manifest["files"][tie_file(TieType.OWNS)] == 2
    assert manifest["files"][tie_file(TieType.REFERRED)] == 0
    assert export.nodes == 5 and export.ties == 4


def test_the_embedded_stores_tables_are_written_as_its_rows_would_be(
    analysed_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedStore(analysed_bank, read_only=True) as store:
        with monkeypatch.context() as patched:
            patched.setattr(parquet_export, "stored_tables", lambda _: None)
            by_rows = export_parquet(store, tmp_path / "rows")

        def row_path(*_: Any) -> None:
            raise AssertionError("every property has one type here: the tables are written as they are")

        monkeypatch.setattr(parquet_export, "_Columns", row_path)
        by_columns = export_parquet(store, tmp_path / "columns")
    assert by_columns.files == by_rows.files and by_columns.nodes > 500
    for name in by_rows.files:
        written, expected = pq.read_table(by_columns.directory / name), pq.read_table(by_rows.directory / name)
        assert written.schema == expected.schema, name
        assert written.equals(expected), name


@pytest.mark.neo4j
def test_neo4j_pages_and_row_groups_split_the_rows_without_losing_or_moving_one(
    neo4j_store: Neo4jStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [
        {
            "label": "Person",
            "id": f"p{number}",
            "properties": {"name": f"n{number}", **({"age": number} if number % 2 else {})},
        }
        for number in range(7)
    ]
    ties = [
        {"type": "REFERRED", "source": f"p{source}", "target": f"p{target}", "properties": {"since": source + target}}
        for source in range(3)
        for target in range(4, 7)
    ]
    neo4j_store.write(nodes=people, ties=ties)
    whole = export_parquet(neo4j_store, tmp_path / "whole")
    monkeypatch.setattr(neo4j_store_module, "READ_PAGE", 2)  # every page holds two nodes, or two sources' ties
    monkeypatch.setattr(parquet_export, "ROW_GROUP", 3)
    paged = export_parquet(neo4j_store, tmp_path / "paged")

    assert paged.files == whole.files and whole.files[tie_file(TieType.REFERRED)] == 9
    for name in (node_file(NodeLabel.CUSTOMER), tie_file(TieType.REFERRED)):
        written, expected = pq.read_table(paged.directory / name), pq.read_table(whole.directory / name)
        assert written.equals(expected), name
        metadata = pq.ParquetFile(paged.directory / name).metadata
        sizes = [metadata.row_group(group).num_rows for group in range(metadata.num_row_groups)]
        assert sizes == ([3, 3, 1] if name == node_file(NodeLabel.CUSTOMER) else [3, 3, 3]), name  # as the row path
    customers = pq.read_table(whole.directory / node_file(NodeLabel.CUSTOMER)).to_pylist()
    assert [(row["id"], row["label"], row["age"]) for row in customers][:3] == [
        ("p0", "Person", None),
        ("p1", "Person", 1),
        ("p2", "Person", None),
    ]


def test_a_property_of_mixed_types_is_refused_by_name(store: GraphStore, tmp_path: Path) -> None:
    store.write(
        nodes=[
            {"label": "Person", "id": "p1", "properties": {"note": "text"}},
            {"label": "Person", "id": "p2", "properties": {"note": 7}},
        ]
    )
    with pytest.raises(ExportError, match="Customer: property 'note' has values of several types"):
        export_parquet(store, tmp_path / "out")


def test_a_folder_with_files_is_refused(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ExportError, match="is not an empty folder"):
        export_parquet(embedded_store, tmp_path)


def test_the_command_writes_the_files_and_says_how_many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store.sqlite"
    with EmbeddedStore(path) as store:
        store.write(nodes=NODES, ties=TIES)
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(path))
    monkeypatch.setenv("CRM_GRAPH_BACKEND", "embedded")
    result = CliRunner().invoke(app, ["export", "--format", "parquet", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"5 nodes and 4 ties in {len(PRIMARY_LABELS) + len(TieType)} parquet files" in result.output
    assert pq.read_table(tmp_path / "out" / tie_file(TieType.OWNS)).num_rows == 2

    again = CliRunner().invoke(app, ["export", "--format", "parquet", str(tmp_path / "out")])
    assert again.exit_code == 1
    assert "is not an empty folder" in again.output and "Traceback" not in again.output


def test_pages_read_ahead_come_in_order_from_another_thread_and_errors_reach_the_reader() -> None:
    readers: set[str] = set()

    def pages(count: int) -> Iterator[int]:
        for number in range(count):
            readers.add(threading.current_thread().name)
            yield number
        raise ExportError("the server went away")

    found: list[int] = []
    with pytest.raises(ExportError, match="went away"):
        for page in parquet_export.read_ahead(pages(5)):
            found.append(page)
    assert found == [0, 1, 2, 3, 4]
    assert readers and threading.current_thread().name not in readers
    # a reader that stops early leaves no thread behind
    before = threading.active_count()
    assert next(parquet_export.read_ahead(iter(range(3)))) == 0
    assert threading.active_count() == before
