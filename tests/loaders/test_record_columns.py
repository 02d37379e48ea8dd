"""Customer records held as columns (loaders.bulk.records) are the records the row path makes, and their
batches and tables (loaders.bulk.customer_batches) are those of the same records as objects."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest

from graph.model import NodeLabel
from loaders.bulk.customer_batches import record_batches
from loaders.bulk.records import CustomerRecords, RecordRun
from loaders.customers import customer_batches
from loaders.mapping import ResolveMode, ValueType
from loaders.resolve import CustomerRecord

SOURCES = {
    "core": ("name", "birth_date", "address", "score", "segment"),
    "card": ("name", "phone_masked", "tags", "limit"),
    "crm": ("name", "address", "email"),
}
VALUES: dict[str, list[Any]] = {
    "name": ["Ana", "Ana M.", "Bo", None],
    "birth_date": ["1990-03-07", "1985-05-12", None],
    "address": ["a", "b", None],
    "score": [0.5, 1.25, None],
    "segment": ["retail", "private", None],
    "phone_masked": ["138****0001", None],
    "tags": [["A."], [], ["B.", "C."], None],
    "limit": [1000, 2500, None],
    "email": ["x@y", None],
}


def _records(rng: random.Random) -> list[CustomerRecord]:
    records = []
    for source, names in SOURCES.items():
        kind = NodeLabel.CUSTOMER if rng.random() < 0.1 else NodeLabel.PERSON
        for index in range(rng.randrange(0, 12)):
            records.append(
                CustomerRecord(
                    source=source,
                    system=source,
                    key=f"K{index}",
                    line=index + 2,
                    kind=kind if rng.random() < 0.8 else NodeLabel.COMPANY,
                    properties={name: rng.choice(VALUES[name]) for name in names},
                    identifiers={ValueType.MOBILE: "p1"} if rng.random() < 0.5 else {},
                    mode=ResolveMode.AUTO,
                    id_prefix="x-" if source == "crm" else "",
                )
            )
    return records


def _held(records: list[CustomerRecord]) -> CustomerRecords:
    runs = []
    for source in SOURCES:
        of_source = [record for record in records if record.source == source]
        if of_source:
            run = RecordRun.of_records(source, source, ResolveMode.AUTO, of_source[0].id_prefix, of_source)
            assert run is not None
            runs.append(run)
    return CustomerRecords(runs)


def _rows(table: pa.Table) -> tuple[list[str], list[dict[str, Any]]]:
    return table.column_names, table.to_pylist()


@pytest.mark.parametrize("seed", range(30))
def test_records_held_as_columns_make_the_batches_and_tables_of_the_records(seed: int) -> None:
    rng = random.Random(seed)
    records = _records(rng)
    held = _held(records)
    assert list(held) == records
    positions = [rng.randrange(len(records)) for _ in range(5)] if records else []
    assert held.take(positions) == [records[position] for position in positions]
    customer_ids = [f"c{rng.randrange(max(len(records) // 2, 1))}" for _ in records]
    earlier_record = CustomerRecord("core", "core", "E1", 9, NodeLabel.PERSON, {"name": "Old", "address": "z"})
    earlier = {"c0": [earlier_record]} if rng.random() < 0.5 else {}
    ranks = rng.choice([{}, {"card": 0, "core": 1}])
    size = rng.choice([2, 5, 100])
    expected = customer_batches(records, customer_ids, size, ranks, earlier)
    found = record_batches(held, customer_ids, size, ranks, earlier)
    assert len(found) == len(expected)
    for by_columns, by_objects in zip(found, expected, strict=True):
        assert (by_columns.source, by_columns.rows, by_columns.loaded, by_columns.merged) == (
            by_objects.source,
            by_objects.rows,
            by_objects.loaded,
            by_objects.merged,
        )
        assert by_columns.as_objects() == (by_objects.records, by_objects.customer_ids, by_objects.customers)
        for held_already in (True, False):

            def is_new(_: NodeLabel, __: str, held_already: bool = held_already) -> bool:
                return not held_already

            tables, wanted = by_columns.tables(is_new), by_objects.tables(is_new)
            assert (tables is None) == (wanted is None)
            if tables is None or wanted is None:
                continue
            assert {label: _rows(table) for label, table in tables[0].items()} == {
                label: _rows(table) for label, table in wanted[0].items()
            }
            assert {tie: _rows(table) for tie, table in tables[1].items()} == {
                tie: _rows(table) for tie, table in wanted[1].items()
            }
