"""The collector waits during bulk work, then frees what the work left in cycles and freezes the rest."""

from __future__ import annotations

import gc
import weakref

from graph.collector import bulk_objects


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_bulk_work_pauses_the_collector_then_frees_cycles_and_freezes_survivors() -> None:
    gc.unfreeze()  # earlier tests froze their objects; start from none
    with bulk_objects():
        assert not gc.isenabled()
        kept = [_Node() for _ in range(1_000)]  # tracked by the collector (a dict of numbers is not)
        first, second = _Node(), _Node()
        first.other, second.other = second, first  # a cycle no reference reaches after the block
        cycle = weakref.ref(first)
        del first, second
        assert cycle() is not None  # nothing collected while the work runs
    assert gc.isenabled()
    assert cycle() is None
    assert gc.get_freeze_count() >= len(kept)
    gc.unfreeze()


def test_an_inner_block_leaves_the_decision_to_the_outer_one() -> None:
    with bulk_objects():
        with bulk_objects():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.unfreeze()
