"""A read-only view of the embedded graph, for named queries and analytics.

Nodes are keyed ``(primary label, id)``; node data is ``{"label": kind, "props": {...}}``. Edges live
in a ``MultiDiGraph`` keyed by tie type, with the tie's properties as edge data.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar

import networkx as nx

from graph.model import NodeLabel, NodeRecord, TieRecord, TieType

NodeKey = tuple[NodeLabel, str]
T = TypeVar("T")


def node_key(label: NodeLabel, node_id: str) -> NodeKey:
    return (label.primary, node_id)


class GraphView:
    """Read access to the embedded graph. Query code must not mutate ``graph``."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        # Node keys by primary label, kept by the store as it adds nodes, so listing a small label
        # (products, managers) does not scan every node.
        self.by_label: dict[NodeLabel, set[NodeKey]] = {label: set() for label in NodeLabel if label.primary is label}
        self._derived: dict[Hashable, Any] = {}

    def changed(self) -> None:
        """Called by the store after every change to the graph: what was derived from it is stale."""
        self._derived.clear()

    def derived(self, name: Hashable, build: Callable[[], T]) -> T:
        """What ``build`` makes from the graph, made once until the graph next changes.

        For structures a query would otherwise rebuild on every call (sorted keys, a search index): reads
        far outnumber writes once a bank is loaded. The caller must not change what it gets.
        """
        if name not in self._derived:
            self._derived[name] = build()
        return self._derived[name]

    def has(self, label: NodeLabel, node_id: str) -> bool:
        return node_key(label, node_id) in self.graph

    def props(self, key: NodeKey) -> dict[str, Any]:
        return self.graph.nodes[key]["props"]

    def kind(self, key: NodeKey) -> NodeLabel:
        return self.graph.nodes[key]["label"]

    def record(self, key: NodeKey) -> NodeRecord:
        data = self.graph.nodes[key]
        return NodeRecord(label=data["label"], id=key[1], properties=dict(data["props"]))

    def keys(self, label: NodeLabel) -> list[NodeKey]:
        """Keys of every node carrying ``label``, ordered by id (a new list: the caller may change it)."""
        return list(self.derived(("keys", label), lambda: self._sorted_keys(label)))

    def _sorted_keys(self, label: NodeLabel) -> list[NodeKey]:
        primary = label.primary
        keys = list(self.by_label[primary])
        if label is not primary:
            nodes = self.graph._node
            keys = [key for key in keys if nodes[key]["label"] is label]
        keys.sort(key=lambda key: key[1])
        return keys

    def out_ties(self, key: NodeKey, types: Sequence[TieType] = ()) -> Iterator[tuple[TieType, NodeKey, dict]]:
        """(type, target, properties) of ties leaving ``key``."""
        for _, target, tie_type, props in self.graph.out_edges(key, keys=True, data=True):
            if not types or tie_type in types:
                yield tie_type, target, props

    def in_ties(self, key: NodeKey, types: Sequence[TieType] = ()) -> Iterator[tuple[TieType, NodeKey, dict]]:
        """(type, source, properties) of ties arriving at ``key``."""
        for source, _, tie_type, props in self.graph.in_edges(key, keys=True, data=True):
            if not types or tie_type in types:
                yield tie_type, source, props

    def tie_record(self, tie_type: TieType, source: NodeKey, target: NodeKey) -> TieRecord:
        props = self.graph.edges[source, target, tie_type]
        return TieRecord(type=tie_type, source=source[1], target=target[1], properties=dict(props))

    def ties(self, types: Sequence[TieType] = ()) -> list[TieRecord]:
        """Every tie of the given types (all when empty), ordered by (type, source, target)."""
        found = [
            (tie_type, source, target, props)
            for source, target, tie_type, props in self.graph.edges(keys=True, data=True)
            if not types or tie_type in types
        ]
        found.sort(key=lambda item: (item[0].value, item[1][1], item[2][1]))
        return [
            TieRecord(type=tie_type, source=source[1], target=target[1], properties=dict(props))
            for tie_type, source, target, props in found
        ]
