"""Looking strings up by hashing the smaller side answers as ``pc.index_in`` over the chunks joined."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from loaders.bulk.lookup import NodeCodes, is_in, positions_in
from loaders.known_ids import IdLookup, KnownIds

WORDS = ["", "A1", "A1 ", "a1", "张三", "1:2", "C000001", "C000002", "x"]


@pytest.mark.parametrize("seed", range(40))
def test_positions_are_index_in_over_the_joined_chunks(seed: int) -> None:
    rng = random.Random(seed)

    def strings(count: int) -> pa.Array:
        return pa.array([None if rng.random() < 0.1 else rng.choice(WORDS) for _ in range(count)], pa.string())

    values = strings(rng.randrange(0, 12))
    chunks = [strings(rng.randrange(0, 30)) for _ in range(rng.randrange(1, 4))]
    chunks = [pc.drop_null(chunk) for chunk in chunks]  # the sets asked hold no nulls
    expected = pc.index_in(values, value_set=pa.concat_arrays(chunks)).fill_null(-1).to_pylist()
    assert positions_in(values, chunks).tolist() == expected
    assert is_in(values, chunks).tolist() == [position >= 0 for position in expected]


def test_a_large_set_is_probed_with_the_distinct_values() -> None:
    known = [pa.array([f"ACC{index:06d}" for index in range(0, 600, 2)]), pa.array(["ACC000001", "ACC000002"])]
    values = pa.array(["ACC000004", "ACC000001", None, "ACC000003", "ACC000004", "ACC000002", "ACC000598"])
    assert positions_in(values, known).tolist() == [2, 300, -1, -1, 2, 1, 299]


@pytest.mark.parametrize("seed", range(20))
def test_node_codes_number_ids_in_order_first_given_and_keep_them(seed: int) -> None:
    rng = random.Random(seed)
    codes, numbered = NodeCodes(), dict[str, int]()
    for _ in range(rng.randrange(1, 30)):  # more than the chunks kept apart
        ids = [rng.choice([*WORDS, *(f"N{n}" for n in range(40))]) for _ in range(rng.randrange(0, 12))]
        for node_id in ids:
            numbered.setdefault(node_id, len(numbered))
        assert codes.codes(pa.array(ids, pa.string())).tolist() == [numbered[node_id] for node_id in ids]


@pytest.mark.parametrize("seed", range(20))
def test_a_lookup_grown_by_the_ids_added_finds_what_is_known_with_codes_that_stay(seed: int) -> None:
    rng = random.Random(seed)
    names = [f"A{n}" for n in range(60)]
    known = KnownIds(rng.sample(names, rng.randrange(0, 5)))
    codes = NodeCodes()
    lookup, taken, code_of = IdLookup.of(known, codes), 0, dict[str, int]()
    for _ in range(rng.randrange(1, 25)):  # more than the chunks kept apart
        before = set(known)
        adding = [rng.choice(names) for _ in range(rng.randrange(0, 6))]
        if rng.random() < 0.5:
            known.update(adding)
        else:
            for node_id in adding:
                known.add(node_id)
        assert known.added[taken:] == [node_id for node_id in dict.fromkeys(adding) if node_id not in before]
        lookup, taken = lookup.grown(known.added[taken:], codes), len(known.added)
        refs = [rng.choice([*names, "B1"]) for _ in range(10)]
        ids, found = lookup.join(pa.array(refs, pa.string()))
        assert ids.to_pylist() == [ref if ref in known else None for ref in refs]
        for ref, code in zip(refs, found.tolist(), strict=True):
            assert (code >= 0) == (ref in known)
            if code >= 0:
                assert code_of.setdefault(ref, code) == code  # one code per id, for the whole load
        # Refs of one prefix searched among the known ids of that prefix only: the same answer.
        prefixed = pa.array([ref for ref in refs if ref.startswith("A1")], pa.string())
        whole, part = lookup.join(prefixed), lookup.join(prefixed, "A1")
        assert part[0].to_pylist() == whole[0].to_pylist() and part[1].tolist() == whole[1].tolist()
    assert len(set(code_of.values())) == len(code_of)


def test_a_crosswalk_lookup_by_prefix_finds_the_customers_of_that_system_only() -> None:
    crosswalk = {"core:1": "C1", "cards:1": "C2", "core:2": "C1", "core:10": "C3"}
    lookup = IdLookup.of(crosswalk, NodeCodes())
    refs = pa.array(["core:1", "core:3", None, "core:10", "core:2"], pa.string())
    ids, codes = lookup.join(refs, "core:")
    assert ids.to_pylist() == ["C1", None, None, "C3", "C1"]
    assert codes.tolist() == lookup.join(refs)[1].tolist()
    assert codes[0] == codes[4] != codes[3] and codes[1] == codes[2] == -1
    cards = lookup.join(pa.array(["cards:1", "cards:2"], pa.string()), "cards:")
    assert cards[0].to_pylist() == ["C2", None]


@pytest.mark.parametrize("seed", range(20))
def test_the_ids_added_in_arrow_are_the_ids_added(seed: int) -> None:
    rng = random.Random(seed)
    names = [f"A{n}" for n in range(50)]
    known = KnownIds(rng.sample(names, rng.randrange(0, 5)))
    before = list(known)
    for _ in range(rng.randrange(1, 15)):
        adding = [rng.choice(names) for _ in range(rng.randrange(0, 6))]
        step = rng.random()
        if step < 0.4:  # given in Arrow too: kept as given when every id is new
            known.update_column(adding, pa.array(adding, pa.string()))
        elif step < 0.7:
            known.update(adding)
        else:
            for node_id in adding:
                known.add(node_id)
    for start in range(len(known.added) + 1):
        assert known.added_column(start).to_pylist() == known.added[start:]
    assert known.column().to_pylist() == before + known.added
    assert set(known.column().to_pylist()) == known
