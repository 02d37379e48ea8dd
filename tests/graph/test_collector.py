"""The collector waits during bulk work and afterwards collects as before, cycles left by the work included."""

from __future__ import annotations

import gc
import weakref

import networkx as nx

from graph.collector import bulk_objects


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_bulk_work_pauses_the_collector_and_leaves_its_cycles_collectable() -> None:
    with bulk_objects():
        assert not gc.isenabled()
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        cycle = weakref.ref(first)
        graph = nx.MultiDiGraph()
        graph.add_edge(1, 2)
        _ = graph.nodes[1]  # networkx caches its node view on the graph: a cycle
        kept_graph = weakref.ref(graph)
        del first, second, graph
    assert gc.isenabled()
    gc.collect()
    assert cycle() is None and kept_graph() is None


def test_an_inner_block_leaves_the_decision_to_the_outer_one() -> None:
    with bulk_objects():
        with bulk_objects():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
