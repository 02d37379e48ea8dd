"""Rows made one at a time go to the store as tables only when the tables write exactly what the rows would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from loaders.bulk.tables import pending_tables
from loaders.context import node_row, tie_row
from tests.samples import snapshot


def _never_held(_: NodeLabel, __: str) -> bool:
    return True


def _all_held(_: NodeLabel, __: str) -> bool:
    return False


def test_rows_of_one_shape_become_tables_that_write_what_the_rows_write(tmp_path: Path) -> None:
    nodes = [
        node_row(NodeLabel.PERSON, "c1", {"name": "Ana", "score": 0.5, "aliases": ["A."]}),
        node_row(NodeLabel.COMPANY, "c2", {"name": "Firma", "score": None, "aliases": None}),
        node_row(NodeLabel.SOURCE_RECORD, "core:1", {"line": 2, "active": True}),
    ]
    ties = [tie_row(TieType.FROM_SOURCE, "c1", "core:1")]
    tables = pending_tables(nodes, ties, _all_held)
    assert tables is not None
    assert sorted(tables[0]) == [NodeLabel.CUSTOMER, NodeLabel.SOURCE_RECORD] and list(tables[1]) == [
        TieType.FROM_SOURCE
    ]
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "tables") as by_tables:
        for store in (by_rows, by_tables):
            store.write([node_row(NodeLabel.COMPANY, "c2", {"score": 0.25, "kept": "yes"})])
        expected = by_rows.write(nodes, ties)
        found = by_tables.bulk_write(*tables)
        assert (found.created, found.updated, found.unchanged) == (expected.created, expected.updated, 0)
        assert snapshot(by_tables) == snapshot(by_rows)


def test_a_row_naming_fewer_properties_goes_as_tables_only_for_a_node_not_held() -> None:
    nodes = [
        node_row(NodeLabel.PERSON, "c1", {"name": "Ana", "email": "a@example.com"}),
        node_row(NodeLabel.PERSON, "c2", {"name": "Bo"}),  # leaves any email held alone
    ]
    assert pending_tables(nodes, [], _all_held) is None
    tables = pending_tables(nodes, [], _never_held)
    assert tables is not None and tables[0][NodeLabel.CUSTOMER].column("email").to_pylist() == ["a@example.com", None]


def test_values_of_several_types_or_a_customer_of_no_kind_go_as_rows() -> None:
    mixed: list[dict[str, Any]] = [
        {"label": NodeLabel.PERSON, "id": "c1", "properties": {"code": 7}},
        {"label": NodeLabel.PERSON, "id": "c2", "properties": {"code": "7"}},
    ]
    assert pending_tables(mixed, [], _never_held) is None  # type: ignore[arg-type]
    huge = [node_row(NodeLabel.PERSON, "c1", {"number": 2**70})]
    assert pending_tables(huge, [], _never_held) is None
    no_kind = [node_row(NodeLabel.CUSTOMER, "c1", {"name": "Ana"})]
    assert pending_tables(no_kind, [], _never_held) is None
