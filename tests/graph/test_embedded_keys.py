"""Sorting and searching the embedded tables' keys as numbers: the same answers as sorting and searching the bytes."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from graph.embedded.keys import IdNumbers, id_order, merged_order, positions_in
from graph.embedded.layout import id_bytes
from graph.embedded.tie_table import in_order, merged_in_order, tie_keys


def _ids(texts: list[str]) -> np.ndarray:
    return id_bytes(pa.array(texts, pa.large_string()))


def _held_texts(rng: random.Random, kind: int) -> list[str]:
    if kind == 0:  # digits after a shared prefix, of several lengths: the number holds every byte
        texts = {f"core:6217{rng.randrange(10 ** rng.randrange(1, 13))}" for _ in range(300)}
    elif kind == 1:  # 20 hexadecimal digits do not fit in 64 bits: ids of equal numbers told apart by bytes
        texts = {f"P{rng.randrange(16**20):020x}" for _ in range(200)}
        texts |= {f"P{rng.randrange(16**3):03x}{'0' * 16}{rng.randrange(16):x}" for _ in range(100)}
    elif kind == 2:  # any UTF-8, empty ids and ids of one repeated letter
        texts = {"".join(rng.choice("ab张") for _ in range(rng.randrange(0, 12))) for _ in range(200)}
        texts |= {"x" * rng.randrange(30) for _ in range(10)}
    else:  # two families of very different lengths
        texts = {f"P-{rng.randrange(100)}" for _ in range(50)} | {f"Q-{rng.randrange(10**15)}" for _ in range(5)}
    return sorted(texts, key=str.encode)


@pytest.mark.parametrize("seed", range(8))
def test_ids_sort_and_are_found_as_their_bytes_are(seed: int) -> None:
    rng = random.Random(seed)
    texts = _held_texts(rng, seed % 4)
    held = _ids(texts)
    numbers = IdNumbers(held)
    if seed % 4 < 2:  # the digits fit in a number, 20 hexadecimal digits do not
        assert numbers.exact is (seed % 4 == 0)
    assert bool(np.all(numbers.numbers[1:] >= numbers.numbers[:-1]))
    asked = [rng.choice(texts) for _ in range(200)]
    asked += ["", "Z", "P-", "P-1000", "core:6217", "x" * 31, "张", texts[0] + "\x01", texts[-1] + "0", texts[-1][:-1]]
    asked += [text[:-1] + "f" for text in texts[:30] if text]  # one byte changed: in no id's alphabet, or another id
    rng.shuffle(asked)
    keys = _ids(asked)
    row = {text: position for position, text in enumerate(texts)}
    expected = [row.get(text, -1) for text in asked]
    assert numbers.positions(keys).tolist() == expected
    assert positions_in(keys, held).tolist() == expected
    # ids held wider than they were coded (a base merged with rows that fit the coding) read the same
    wider = held.astype(f"S{held.dtype.itemsize + 3}")
    assert numbers.sharing(wider, numbers.numbers).positions(keys).tolist() == expected
    _, fits = numbers.numbers_of(keys)
    assert bool(fits[np.array(expected) >= 0].all())
    for given in (keys, np.concatenate([keys, keys[:20]])):  # a key given twice keeps its order
        assert id_order(given).tolist() == np.argsort(given, kind="stable").tolist()


def test_an_empty_or_single_id_table_finds_what_it_holds() -> None:
    one = IdNumbers(_ids(["only"]))
    assert one.positions(_ids(["only", "onl", "only1", ""])).tolist() == [0, -1, -1, -1]
    assert id_order(_ids([])).tolist() == [] and id_order(_ids(["a"])).tolist() == [0]


@pytest.mark.parametrize("seed", range(6))
def test_the_order_by_target_of_merged_ties_is_a_sort_of_their_targets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pairs = np.unique(tie_keys(rng.integers(0, 40, 400), rng.integers(0, 30, 400)))
    held = pairs[rng.random(len(pairs)) < 0.6]
    kept_rows = np.flatnonzero(rng.random(len(held)) < (1.0 if seed % 2 else 0.7))  # some held ones given again
    dropped = np.setdiff1d(np.arange(len(held)), kept_rows)
    new = np.setdiff1d(pairs, held)
    given = np.concatenate([held[dropped], new[rng.random(len(new)) < 0.5]])
    rng.shuffle(given)
    kept = held[kept_rows]
    order = merged_order(kept, given, np.argsort(given, kind="stable"))
    merged = np.concatenate([kept, given])[order]
    sources, targets = (merged >> 32).astype(np.int32), (merged & 0xFFFFFFFF).astype(np.int32)
    held_in_order = in_order((held & 0xFFFFFFFF).astype(np.int32))
    assert merged_in_order(held_in_order, kept_rows, order, sources, targets).tolist() == in_order(targets).tolist()
