"""``bulk_write``: whole tables in, the same store content and the same refusals as ``write``, on both backends;
and what ``write`` tells about the rows it was given (created, updated, unchanged)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow as pa
import pytest

from graph.embedded import EmbeddedStore
from graph.errors import InvalidBatch, MissingEndpoint, UnknownLabel
from graph.model import NodeLabel, TieType
from graph.store import GraphStore
from tests.samples import family_nodes, family_ties, snapshot


def node_tables(rows: list[dict[str, Any]]) -> dict[NodeLabel, pa.Table]:
    """Rows grouped into one table per primary label (customers with their kind), one column per property."""
    grouped: dict[NodeLabel, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        label = NodeLabel(row["label"])
        grouped[label.primary].append({"id": row["id"], "kind": label.value, **row.get("properties", {})})
    return {label: _table(table_rows) for label, table_rows in grouped.items()}


def tie_tables(rows: list[dict[str, Any]]) -> dict[TieType, pa.Table]:
    grouped: dict[TieType, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[TieType(row["type"])].append(
            {"source": row["source"], "target": row["target"], **row.get("properties", {})}
        )
    return {tie_type: _table(table_rows) for tie_type, table_rows in grouped.items()}


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    # from_pylist takes its columns from the first row only: give it every row's.
    names = list(dict.fromkeys(name for row in rows for name in row))
    return pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows])


def test_tables_give_the_store_content_rows_give(store: GraphStore, tmp_path: Any) -> None:
    with EmbeddedStore(tmp_path / "rows.db") as by_rows:
        by_rows.write(family_nodes(), family_ties())
        expected = snapshot(by_rows)
    result = store.bulk_write(node_tables(family_nodes()), tie_tables(family_ties()))
    assert (result.nodes, result.ties) == (9, 11)
    assert snapshot(store) == expected
    again = store.bulk_write(node_tables(family_nodes()), tie_tables(family_ties()))
    assert (again.nodes, again.ties) == (9, 11)
    assert snapshot(store) == expected


def test_a_null_removes_a_property_and_a_missing_column_leaves_it(store: GraphStore) -> None:
    store.write(family_nodes(), family_ties())
    people = pa.table({"id": ["p1", "p2"], "kind": ["Person", "Person"], "score": [None, 0.75]})
    store.bulk_write({NodeLabel.CUSTOMER: people})
    first, second = store.get_node(NodeLabel.CUSTOMER, "p1"), store.get_node(NodeLabel.CUSTOMER, "p2")
    assert first is not None and first.properties == {"name": "王伟", "birth_year": 1980}
    assert second is not None and second.properties == {"name": "李娜", "consent_marketing": True, "score": 0.75}
    owners = pa.table({"source": ["p1"], "target": ["a1"], "role": pa.array([None], pa.string())})
    store.bulk_write(ties={TieType.OWNS: owners})
    tie = next(tie for tie in store.ties([TieType.OWNS]) if (tie.source, tie.target) == ("p1", "a1"))
    assert tie.properties == {}


def test_a_missing_end_refuses_the_whole_batch(store: GraphStore) -> None:
    store.write(family_nodes(), family_ties())
    before = snapshot(store)
    accounts = pa.table({"id": ["a3"], "status": ["open"]})
    owners = pa.table({"source": ["p1", "nobody"], "target": ["a3", "a3"]})
    with pytest.raises(MissingEndpoint) as refused:
        store.bulk_write({NodeLabel.ACCOUNT: accounts}, {TieType.OWNS: owners})
    assert refused.value.row == 2
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("tables", "refusal", "message"),
    [
        ({NodeLabel.CUSTOMER: pa.table({"id": ["p9"], "name": ["x"]})}, InvalidBatch, "no kind column"),
        ({NodeLabel.CUSTOMER: pa.table({"id": ["p9"], "kind": ["Account"]})}, InvalidBatch, "kind 'Account'"),
        ({NodeLabel.PERSON: pa.table({"id": ["p9"], "kind": ["Company"]})}, InvalidBatch, "kind 'Company'"),
        ({NodeLabel.ACCOUNT: pa.table({"name": ["x"]})}, InvalidBatch, "no id column"),
        ({"Planet": pa.table({"id": ["x"]})}, UnknownLabel, "unknown label"),
    ],
)
def test_malformed_tables_are_refused_with_a_message(
    embedded_store: EmbeddedStore, tables: dict[Any, pa.Table], refusal: type[Exception], message: str
) -> None:
    with pytest.raises(refusal, match=message):
        embedded_store.bulk_write(tables)
    assert embedded_store.counts().nodes == {}


def test_write_tells_created_updated_and_unchanged(store: GraphStore) -> None:
    first = store.write(family_nodes(), family_ties())
    assert (first.created, first.updated, first.unchanged) == (20, 0, 0)
    again = store.write(family_nodes(), family_ties())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 20)
    changed = store.write(
        [
            {"label": "Person", "id": "p1", "properties": {"score": 0.9}},
            {"label": "Company", "id": "p2", "properties": {}},
            {"label": "Customer", "id": "c1", "properties": {"capital": 5_000_000}},
            {"label": "Account", "id": "a9", "properties": {}},
        ],
        [{"type": "OWNS", "source": "p1", "target": "a1", "properties": {"role": "owner"}}],
    )
    assert (changed.created, changed.updated, changed.unchanged) == (1, 2, 2)
