"""A batch of customer records goes to the store as tables built by column only when the tables write exactly
what its rows would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from loaders.context import node_row
from loaders.customers import CustomerBatch, customer_batches
from loaders.resolve import CustomerRecord
from tests.samples import snapshot


def _never_held(_: NodeLabel, __: str) -> bool:
    return True


def _all_held(_: NodeLabel, __: str) -> bool:
    return False


def _record(key: str, properties: dict[str, Any], kind: NodeLabel = NodeLabel.PERSON, source: str = "core") -> Any:
    return CustomerRecord(source, source, key, 2, kind, properties)


def _one_batch(records: list[CustomerRecord], customer_ids: list[str]) -> CustomerBatch:
    (batch,) = customer_batches(records, customer_ids, batch_size=100)
    return batch


def test_a_batch_as_tables_writes_what_its_rows_write(tmp_path: Path) -> None:
    batch = _one_batch(
        [
            _record("1", {"name": "Ana", "score": 0.5, "tags": ["A."], "address": "x"}),
            _record("2", {"name": "Firma", "score": None, "tags": None, "address": None}, kind=NodeLabel.COMPANY),
            _record("3", {"name": "Ana M.", "score": 0.75, "tags": ["B."], "address": "y"}),  # joins c1: aliases
        ],
        ["c1", "c2", "c1"],
    )
    tables = batch.tables(_all_held)
    assert tables is not None
    assert sorted(tables[0]) == [NodeLabel.CUSTOMER, NodeLabel.SOURCE_RECORD] and list(tables[1]) == [
        TieType.FROM_SOURCE
    ]
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "tables") as by_tables:
        for store in (by_rows, by_tables):
            store.write([node_row(NodeLabel.COMPANY, "c2", {"score": 0.25, "kept": "yes"})])
        pending = batch.pending
        expected = by_rows.write(pending.nodes, pending.ties)
        found = by_tables.bulk_write(*tables)
        assert (found.created, found.updated, found.unchanged) == (expected.created, expected.updated, 0)
        assert snapshot(by_tables) == snapshot(by_rows)
        assert by_tables.get_node(NodeLabel.PERSON, "c1").properties["name_aliases"] == ["Ana"]  # type: ignore[union-attr]


def test_a_customer_naming_fewer_properties_goes_as_tables_only_when_not_held() -> None:
    # c2 names no email: its row leaves an email held alone, which a null in a table would remove.
    records = [
        _record("1", {"name": "Ana", "email": "a@example.com"}),
        _record("2", {"name": "Bo"}),
        _record("1", {"name": "Ana", "email": "a@example.com"}, source="card"),
    ]
    (batch, _) = customer_batches(records, ["c1", "c2", "c1"], batch_size=100)
    assert batch.tables(_all_held) is None
    tables = batch.tables(_never_held)
    assert tables is not None and tables[0][NodeLabel.CUSTOMER].column("email").to_pylist() == ["a@example.com", None]


def test_values_of_several_types_or_a_customer_of_no_kind_go_as_rows() -> None:
    mixed = _one_batch([_record("1", {"code": 7}), _record("2", {"code": "7"})], ["c1", "c2"])
    assert mixed.tables(_never_held) is None
    huge = _one_batch([_record("1", {"number": 2**70})], ["c1"])
    assert huge.tables(_never_held) is None
    no_kind = _one_batch([_record("1", {"name": "Ana"}, kind=NodeLabel.CUSTOMER)], ["c1"])
    assert no_kind.tables(_never_held) is None
