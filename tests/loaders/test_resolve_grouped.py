"""Entity resolution with exact merges as group-bys (loaders.bulk.resolve) against loaders.resolve.resolve on
random records: the same customer ids, review list, score merges and stored records' customers."""

from __future__ import annotations

import random
from typing import Any

import pytest

from graph.model import NodeLabel
from loaders import matching
from loaders.bulk.records import CustomerRecords, RecordRun
from loaders.bulk.resolve import needs_scoring, resolve_grouped
from loaders.mapping import ResolveMode, ValueType
from loaders.resolve import CustomerRecord, resolve

KEY = b"k"
NAMES = ["张三", "张 三", "张叁", "李四", "王五", "Zhang San", "zhang san", ""]
BIRTHS = ["1990-03-07", "1985-05-12", "1970-01-01", None]
PHONES = ["p1", "p2", "p3", None]


def random_record(rng: random.Random, index: int) -> CustomerRecord:
    source = rng.choice(["core", "card", "crm"])
    kind = NodeLabel.PERSON if rng.random() < 0.8 else NodeLabel.COMPANY
    number = f"n{rng.randrange(25)}" if rng.random() < 0.75 else None
    identifiers: dict[ValueType, str] = {}
    if number is not None:
        identifiers[ValueType.RESIDENT_ID if kind is NodeLabel.PERSON else ValueType.CREDIT_CODE] = number
    if phone := rng.choice(PHONES):
        identifiers[ValueType.MOBILE] = phone
    properties = {"name": rng.choice(NAMES), "birth_date": rng.choice(BIRTHS), "address": rng.choice(["a", "b"])}
    return CustomerRecord(
        source=source,
        system=source,
        key=f"K{index}",
        line=index + 2,
        kind=kind,
        properties=properties,
        identifiers=identifiers,
        mode=ResolveMode.KEY_ONLY if rng.random() < 0.1 else ResolveMode.AUTO,
        id_prefix=rng.choice(["", "x-"]),
    )


def random_options(rng: random.Random, refs: list[str]) -> dict[str, Any]:
    return {
        "merge_above": rng.choice([0.5, 0.9, 0.99]),
        "review_above": 0.2,
        "hash_key": KEY,
        "existing": {ref: f"old-{rng.randrange(3)}" for ref in rng.sample(refs, min(3, len(refs)))},
        "forced_merges": [tuple(rng.sample(refs, 2)) for _ in range(rng.randrange(0, 3))],
        "source_priority": rng.choice([(), ("card", "core")]),
    }


@pytest.mark.parametrize("seed", range(40))
def test_grouped_resolution_gives_what_resolve_gives(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    if seed % 4 == 0:  # blocks too large to compare, seen whole by the part that is scored
        monkeypatch.setattr(matching, "BLOCK_LIMIT", 3)
    records = [random_record(rng, index) for index in range(rng.randrange(5, 60))]
    refs = [record.ref for record in records]
    stored = sorted(
        (random_record(rng, 1000 + index) for index in range(rng.randrange(0, 3))), key=lambda record: record.ref
    )
    stored = [record for record in stored if record.national_id]
    options = {**random_options(rng, refs), "stored": stored}
    expected = resolve(records, **options)  # type: ignore[arg-type]
    found = resolve_grouped(records, **options)  # type: ignore[arg-type]
    assert found == expected


def test_records_with_their_own_agreeing_id_numbers_are_not_scored() -> None:
    rng = random.Random(1)
    records = [random_record(rng, index) for index in range(40)]
    clean = [
        CustomerRecord(
            r.source, r.system, r.key, r.line, NodeLabel.PERSON, {"name": "王五"}, {ValueType.RESIDENT_ID: r.key}
        )
        for r in records
    ]
    assert needs_scoring(clean, [], []) == []
    lacking = CustomerRecord("card", "card", "H1", 2, NodeLabel.PERSON, {"name": "王五"})
    assert needs_scoring([*clean, lacking], [], []) == list(range(41))  # one name block holds them all


def _held_as_columns(records: list[CustomerRecord]) -> CustomerRecords:
    """The records as runs of columns: a run per stretch of records of one source, mode and id prefix."""
    runs, start = [], 0
    for end in range(1, len(records) + 1):
        first = records[start]
        if end == len(records) or (records[end].source, records[end].mode, records[end].id_prefix) != (
            first.source,
            first.mode,
            first.id_prefix,
        ):
            run = RecordRun.of_records(first.source, first.system, first.mode, first.id_prefix, records[start:end])
            assert run is not None
            runs.append(run)
            start = end
    return CustomerRecords(runs)


@pytest.mark.parametrize("seed", range(20))
def test_records_held_as_columns_resolve_as_the_records_do(seed: int) -> None:
    rng = random.Random(seed)
    records = [random_record(rng, index) for index in range(rng.randrange(5, 60))]
    refs = [record.ref for record in records]
    options = random_options(rng, refs)
    held = _held_as_columns(records)
    assert list(held) == records
    assert resolve_grouped(held, **options) == resolve(records, **options)  # type: ignore[arg-type]


def test_no_records_held_as_columns_resolve_to_none() -> None:
    options = {"merge_above": 0.9, "review_above": 0.2, "hash_key": KEY}
    assert resolve_grouped(CustomerRecords([]), **options) == resolve([], **options)  # type: ignore[arg-type]
