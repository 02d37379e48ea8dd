"""The embedded node tables' id index: every id found at its row, any other text not found."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

from graph.embedded.id_index import IdIndex, _placed
from graph.embedded.layout import id_bytes
from graph.embedded.view import _IN_TYPES, _OUT_TYPES
from graph.model import PRIMARY_LABELS


def _index(ids: list[str]) -> tuple[IdIndex, np.ndarray]:
    held = id_bytes(pa.array(sorted(ids), pa.large_string()))
    return IdIndex(held), held


def test_every_id_is_found_at_its_row_and_nothing_else_is() -> None:
    # 20,000 ids in 65,536 slots: many share a home slot and are found by probing on.
    rng = random.Random(5)
    ids = sorted({f"C{rng.randrange(10**9):09d}" for _ in range(20_000)} | {"", "数据", "a b", "x" * 300, "Ž"})
    index, held = _index(ids)
    assert [index.row(node_id) for node_id in ids] == list(range(len(ids)))
    assert [held[index.row(node_id)].decode() for node_id in ids[:50]] == ids[:50]
    for missing in ["C", "c000000001", "数", "x" * 299, "x" * 301, " ", "Z"]:
        assert index.row(missing) is None
    assert index.nbytes <= 16 * len(ids)


def test_a_small_table_finds_each_id() -> None:
    ids = [f"n{number}" for number in range(7)]
    index, _ = _index(ids)
    assert [index.row(node_id) for node_id in ids] == list(range(7))
    assert index.row("n7") is None


def test_an_empty_table_finds_nothing() -> None:
    index, _ = _index([])
    assert index.row("a") is None


def test_tie_types_at_one_label_fit_the_views_bits() -> None:
    # GraphView._present keeps one int32 bit per tie type that can leave (or reach) a node of a label.
    assert all(len(types[label]) < 32 for types in (_OUT_TYPES, _IN_TYPES) for label in PRIMARY_LABELS)


def test_ids_pushed_past_the_last_slot_are_found_from_the_start() -> None:
    # Homes crowded at the end of 16 slots: the last ones wrap round to the first free slots.
    homes = np.array([15, 14, 15, 15, 0, 13, 15], dtype=np.int64)
    table = _placed(homes, 16)
    for row, home in enumerate(homes.tolist()):
        slot = home
        while table[slot] != row:
            assert table[slot] >= 0, f"id {row} is not reached from its home {home}"
            slot = (slot + 1) % 16
    assert sorted(table[table >= 0].tolist()) == list(range(len(homes)))


def test_an_index_given_its_slots_finds_as_the_one_built() -> None:
    ids = [f"acc-{number:07d}" for number in range(3_000)]
    built, held = _index(ids)
    given = IdIndex(held, built.slots.copy())
    assert [given.row(node_id) for node_id in ids] == list(range(len(ids)))
    assert given.row("acc-9999999") is None
