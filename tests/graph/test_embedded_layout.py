"""The embedded store's columnar layout: a graph read from base columns plus overlay reads the same as one
whose overlay was merged into a new base after every batch, whatever the batches did."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from graph.embedded import EmbeddedStore, view
from graph.embedded.columns import JSON_MARK, is_json
from graph.embedded.keys import merged_order, positions_in
from graph.embedded.layout import id_bytes
from graph.model import NodeLabel, TieType
from graph.tables import columns_from_records
from tests.samples import snapshot

VALUES: list[Any] = [
    "Praha",
    "Brno",
    "",
    "数据",
    7,
    2**70,
    -3,
    1.5,
    float("inf"),
    True,
    [1.0, 2.5],
    [],
    ["a", "b"],
    [3],
]


def _batch(rng: random.Random, round_number: int) -> dict[str, Any]:
    nodes = [
        {
            "label": rng.choice(["Person", "Company", "Customer"]),
            "id": f"c{rng.randrange(40)}",
            "properties": {name: rng.choice([*VALUES, None]) for name in rng.sample(["name", "city", "score", "x"], 2)},
        }
        for _ in range(rng.randrange(1, 12))
    ]
    nodes += [
        {"label": "Account", "id": f"a{rng.randrange(30)}", "properties": {"balances": [rng.random(), 2.0]}}
        for _ in range(rng.randrange(4))
    ]
    written = {node["id"] for node in nodes}
    ties = [
        {
            "type": rng.choice(["SPOUSE_OF", "REFERRED", "GUARANTEES"]),
            "source": rng.choice(sorted(written - {"a"})),
            "target": f"c{rng.randrange(40)}",
            "properties": {"amount": rng.choice([*VALUES, None])},
        }
        for _ in range(rng.randrange(8))
    ]
    ties = [tie for tie in ties if tie["source"].startswith("c") and tie["source"] != tie["target"]]
    ties += [
        {"type": "OWNS", "source": node["id"], "target": account["id"], "properties": {"role": "owner"}}
        for node, account in zip(nodes, nodes[::-1], strict=True)
        if node["id"].startswith("c") and account["id"].startswith("a")
    ]
    delete = [("Customer", f"c{rng.randrange(40)}") for _ in range(rng.randrange(3) if round_number % 3 == 2 else 0)]
    delete = [ref for ref in delete if ref[1] not in written]
    return {"nodes": nodes, "ties": ties, "delete": delete}


def _try_write(store: EmbeddedStore, batch: dict[str, Any]) -> str:
    try:
        store.write(**batch)
    except Exception as error:  # a tie to a node not written yet: refused alike by both stores
        return type(error).__name__
    return "ok"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuilding_the_base_after_every_batch_reads_the_same(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    batches = [_batch(rng, number) for number in range(40)]
    with EmbeddedStore(tmp_path / "overlay") as overlay_store:
        overlay_outcomes = [_try_write(overlay_store, batch) for batch in batches]
        kept = snapshot(overlay_store)
        centers = [node["id"] for node in kept["nodes"]["Customer"][:5]]
        neighbourhoods = [overlay_store.neighbourhood(NodeLabel.CUSTOMER, center).model_dump() for center in centers]
        adjacency = _adjacency(overlay_store)
        columns = _columns(overlay_store)
    monkeypatch.setattr(view, "OVERLAY_MINIMUM", -1)
    with EmbeddedStore(tmp_path / "rebuilt") as rebuilt_store:
        rebuilt_outcomes = [_try_write(rebuilt_store, batch) for batch in batches]
        assert rebuilt_outcomes == overlay_outcomes
        assert overlay_outcomes.count("ok") > 5
        assert snapshot(rebuilt_store) == kept
        assert kept["ties"] and any(node["properties"] for node in kept["nodes"]["Customer"])
        for center, expected in zip(centers, neighbourhoods, strict=True):
            found = rebuilt_store.neighbourhood(NodeLabel.CUSTOMER, center).model_dump()
            assert found == expected
        assert _adjacency(rebuilt_store) == adjacency
        assert _columns(rebuilt_store) == columns


COLUMNS_READ = (
    {NodeLabel.CUSTOMER: ["name", "city", "score", "x", "nothing"], NodeLabel.ACCOUNT: ["balances"]},
    {TieType.SPOUSE_OF: [], TieType.REFERRED: ["amount"], TieType.GUARANTEES: ["amount"], TieType.OWNS: ["role"]},
)


def _columns(store: EmbeddedStore) -> dict[str, Any]:
    """What ``columns`` reads of every customer, account and tie, checked against the same tables made from the
    store's records (the interface's default, which Neo4j uses), as plain values."""
    found = _plain_tables(*store.columns(*COLUMNS_READ))
    assert found == _plain_tables(*columns_from_records(store, *COLUMNS_READ))
    return found


def _plain_tables(nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]) -> dict[str, Any]:
    return {
        str(key): {
            field.name: (is_json(field), _values(field, column))
            for field, column in zip(table.schema, table.columns, strict=True)
        }
        for key, table in [*nodes.items(), *ties.items()]
    }


def _values(field: pa.Field, column: pa.ChunkedArray) -> list[Any]:
    if pa.types.is_dictionary(field.type):
        column = pc.cast(column, field.type.value_type)
    return column.to_pylist()


def _adjacency(store: EmbeddedStore) -> dict[tuple[str, str], Any]:
    """What the view's read API gives for every node: its properties, then its ties each way, all and of
    one type (the reads the named queries use)."""
    graph = store.view
    found = {}
    for label in (NodeLabel.CUSTOMER, NodeLabel.ACCOUNT):
        for key in graph.keys(label):
            ties = [
                sorted((tie_type.value, other[1], dict(props)) for tie_type, other, props in reads)
                for reads in (
                    graph.out_ties(key),
                    graph.in_ties(key),
                    graph.out_ties(key, [TieType.OWNS]),
                    graph.in_ties(key, (TieType.SPOUSE_OF, TieType.GUARANTEES)),
                    graph.neighbours(key, {TieType.REFERRED}),
                )
            ]
            props = graph.props(key)
            assert dict(props) == {name: props[name] for name in props} == {n: props.get(n) for n in props}
            found[(key[0].value, key[1])] = (graph.kind(key).value, dict(props), ties)
    return found


def test_a_property_whose_values_change_type_keeps_each_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view, "OVERLAY_MINIMUM", -1)
    with EmbeddedStore(tmp_path / "store") as store:
        store.write([{"label": "Person", "id": f"p{n}", "properties": {"v": n}} for n in range(5)])
        store.write([{"label": "Person", "id": "p9", "properties": {"v": "text"}}])
        store.write([{"label": "Person", "id": "p8", "properties": {"v": 2.5}}])
        found = {node.id: node.properties["v"] for node in store.nodes(NodeLabel.PERSON)}
        assert found == {"p0": 0, "p1": 1, "p2": 2, "p3": 3, "p4": 4, "p8": 2.5, "p9": "text"}
        assert [type(found[f"p{n}"]) for n in range(5)] == [int] * 5
        assert store.view.tie_props(TieType.OWNS, (NodeLabel.CUSTOMER, "p1"), (NodeLabel.ACCOUNT, "x")) is None


def test_a_rebuild_builds_again_only_the_labels_and_tie_types_the_overlay_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view, "OVERLAY_MINIMUM", 10**9)  # the overlay is kept, to be looked at
    with EmbeddedStore(tmp_path / "store") as store:
        store.write(
            [{"label": "Person", "id": f"p{n}", "properties": {"name": f"P{n}"}} for n in range(3)]
            + [{"label": "Account", "id": "a1", "properties": {"balances": [1.0]}}],
            [{"type": "OWNS", "source": "p1", "target": "a1"}, {"type": "SPOUSE_OF", "source": "p1", "target": "p2"}],
        )
        store.view.rebuild()
        assert store.view.stale() == (set(), set())

        store.write([{"label": "Person", "id": "p1", "properties": {"name": "Renamed"}}])  # its row stays
        assert store.view.stale() == ({NodeLabel.CUSTOMER}, set())

        store.write([{"label": "Person", "id": "p0a", "properties": {"name": "New"}}])  # rows after it move
        labels, types = store.view.stale()
        assert labels == {NodeLabel.CUSTOMER}
        assert {TieType.OWNS, TieType.SPOUSE_OF, TieType.REFERRED} <= types
        assert TieType.OF_PRODUCT not in types  # from an account to a product: no end moved

        before = snapshot(store)
        store.view.rebuild()
        assert store.view.stale() == (set(), set())
        assert snapshot(store) == before
        assert [(tie_type, other[1]) for tie_type, other, _ in store.view.out_ties((NodeLabel.CUSTOMER, "p1"))] == [
            (TieType.OWNS, "a1"),
            (TieType.SPOUSE_OF, "p2"),
        ]


def test_texts_read_back_from_a_snapshot_stay_one_type_of_text_and_json_of_one_type_is_typed_again() -> None:
    """Parquet gives dictionary-encoded texts back with ``string`` words: merged with the ``large_string``
    texts of new rows they must stay texts, not become JSON; a column an older store kept as JSON for that
    reason, its values all of one type, is typed again when read."""
    customers = pa.Table.from_arrays(
        [
            pa.array(["c1", "c2", "c3"], pa.large_string()),
            pa.array(["Person"] * 3, pa.large_string()),
            pa.array(["Praha", "Praha", None]).dictionary_encode(),  # dictionary<string>, as Parquet reads it
            pa.array(['"gold"', None, '"silver"'], pa.large_string()),
            pa.array(["7", "2.5", None], pa.large_string()),  # truly mixed: an int and a float
        ],
        schema=pa.schema(
            [
                pa.field("id", pa.large_string()),
                pa.field("kind", pa.large_string()),
                pa.field("city", pa.dictionary(pa.int32(), pa.string())),
                pa.field("tier", pa.large_string(), metadata=JSON_MARK),
                pa.field("score", pa.large_string(), metadata=JSON_MARK),
            ]
        ),
    )
    graph = view.WritableGraph({NodeLabel.CUSTOMER: customers})
    graph.put_node((NodeLabel.CUSTOMER, "c4"), NodeLabel.PERSON, {"city": "Brno", "tier": "gold", "score": 1})
    graph.rebuild()
    expected = {
        "c1": {"city": "Praha", "tier": "gold", "score": 7},
        "c2": {"city": "Praha", "score": 2.5},
        "c3": {"tier": "silver"},
        "c4": {"city": "Brno", "tier": "gold", "score": 1},
    }
    assert {key[1]: dict(graph.props(key)) for key in graph.keys(NodeLabel.CUSTOMER)} == expected
    schema = graph.tables()[0][NodeLabel.CUSTOMER].schema
    assert not is_json(schema.field("city")) and not is_json(schema.field("tier"))
    assert is_json(schema.field("score"))
    assert type(graph.props((NodeLabel.CUSTOMER, "c1"))["score"]) is int


@pytest.mark.parametrize("count", [3, 5_000])
def test_positions_in_finds_every_held_key_and_no_other_whatever_the_keys_order_or_width(count: int) -> None:
    rng = random.Random(count)
    held_texts = sorted({f"C{rng.randrange(10**9)}" for _ in range(2 * count)})
    held = np.array([text.encode() for text in held_texts])
    asked = [rng.choice(held_texts) for _ in range(count)] + ["", "Z", "C" + "9" * 30, held_texts[0][:-1]]
    rng.shuffle(asked)
    at = {text: row for row, text in enumerate(held_texts)}
    expected = [at.get(text, -1) for text in asked]
    assert positions_in(np.array([text.encode() for text in asked]), held).tolist() == expected
    held_numbers = np.array(sorted({rng.randrange(10**12) for _ in range(2 * count)}), dtype=np.int64)
    asked_numbers = [int(rng.choice(held_numbers)) for _ in range(count)] + [-1, 10**13]
    rng.shuffle(asked_numbers)
    found = positions_in(np.array(asked_numbers, dtype=np.int64), held_numbers)
    at_number = {number: row for row, number in enumerate(held_numbers.tolist())}
    assert found.tolist() == [at_number.get(number, -1) for number in asked_numbers]


@pytest.mark.parametrize("seed", range(5))
def test_merged_order_sorts_as_a_sort_of_every_key(seed: int) -> None:
    rng = random.Random(seed)
    texts = list({"".join(rng.choice("ab张") for _ in range(rng.randrange(1, 6))) for _ in range(300)})
    rng.shuffle(texts)
    cut = rng.randrange(len(texts) + 1)
    in_order, others = sorted(texts[:cut], key=str.encode), texts[cut:]
    keys = pa.array(in_order + others, pa.large_string())
    found = merged_order(id_bytes(pa.array(in_order, pa.large_string())), id_bytes(pa.array(others, pa.large_string())))
    assert found.tolist() == pc.sort_indices(keys).to_numpy().tolist()
    numbers = rng.sample(range(10**6), 500)
    held = np.array(sorted(numbers[:cut]), dtype=np.int64)
    found = merged_order(held, np.array(numbers[cut:], dtype=np.int64))
    assert found.tolist() == np.argsort(np.concatenate([held, numbers[cut:]]), kind="stable").tolist()


def test_a_rebuild_of_bulk_written_rows_reads_the_same_and_keeps_texts_encoded_or_plain_as_held() -> None:
    """Rows bulk-written into the overlay (new ones, changed ones, a new column, values of another type) and a
    deletion, merged into a new base: every node reads as before; a text column held encoded stays encoded
    (its new words added), one held plain (too varied) stays plain, without being encoded again."""
    rng = random.Random(5)
    count = 2_000
    base = pa.table(
        {
            "id": pa.array([f"c{n:05d}" for n in range(0, 2 * count, 2)], pa.large_string()),
            "kind": pa.array(["Person"] * count, pa.large_string()),
            "city": pa.array([rng.choice(["Praha", "Brno", None]) for _ in range(count)], pa.large_string()),
            "name": pa.array([f"name {rng.random()}" for _ in range(count)], pa.large_string()),
            "balances": pa.array([[rng.random()] * rng.randrange(3) for _ in range(count)], pa.list_(pa.float64())),
            "monthly": pa.array([[rng.random(), float(n)] for n in range(count)], pa.list_(pa.float64())),
        }
    )
    graph = view.WritableGraph({NodeLabel.CUSTOMER: base})
    added = pa.table(
        {
            "id": pa.array([f"c{n:05d}" for n in range(1, 400, 2)] + ["c00004", "c00010"], pa.large_string()),
            "kind": pa.array(["Company"] * 202, pa.large_string()),
            "city": pa.array([rng.choice(["Plzeň", "Brno", None]) for _ in range(202)], pa.large_string()),
            "name": pa.array([None, *(f"new {n}" for n in range(201))], pa.large_string()),
            "score": pa.array([*range(200), None, 3], pa.int64()),
            "monthly": pa.array([[-1.0, float(n)] for n in range(202)], pa.list_(pa.float64())),
        }
    )
    graph.bulk_write({NodeLabel.CUSTOMER: added}, {})
    graph.bulk_write({NodeLabel.CUSTOMER: added.slice(0, 2).set_column(4, "score", pa.array(["x", "y"]))}, {})
    assert graph.props((NodeLabel.CUSTOMER, "c00001"))["monthly"] == [-1.0, 0.0]
    graph.remove_node((NodeLabel.CUSTOMER, "c00006"))
    assert graph.stale()[0] == {NodeLabel.CUSTOMER}
    before = {key: (graph.kind(key), dict(graph.props(key))) for key in graph.keys(NodeLabel.CUSTOMER)}
    assert before[(NodeLabel.CUSTOMER, "c00001")][1]["score"] == "x" and (NodeLabel.CUSTOMER, "c00006") not in before

    graph.rebuild()
    assert graph.stale() == (set(), set())
    assert {key: (graph.kind(key), dict(graph.props(key))) for key in graph.keys(NodeLabel.CUSTOMER)} == before
    held = graph.tables()[0][NodeLabel.CUSTOMER]
    properties = graph._nodes[NodeLabel.CUSTOMER].properties
    assert pa.types.is_dictionary(properties.schema.field("city").type)
    assert sorted(properties.column("city").chunk(0).dictionary.to_pylist()) == ["Brno", "Plzeň", "Praha"]
    assert properties.schema.field("name").type == pa.large_string()
    assert is_json(properties.schema.field("score")) and held.num_rows == count + 200 - 1
    assert graph.props((NodeLabel.CUSTOMER, "c00001"))["monthly"] == [-1.0, 0.0]
