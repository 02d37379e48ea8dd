"""The embedded store: the whole graph in memory (networkx), every committed batch on disk (SQLite).

One process owns a writable store at a time (a lock file beside it says so); other processes may open
it ``read_only`` to get a snapshot.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import networkx as nx

from graph.batch import NodeInput, TieInput, prepare_batch
from graph.embedded.disk import Disk, NodeRowOnDisk, TieRowOnDisk, encode
from graph.embedded.view import GraphView, NodeKey, end_labels, node_key
from graph.errors import MissingEndpoint, NotFound, StoreError, StoreUnavailable
from graph.model import GraphCounts, NodeLabel, NodeRecord, TieRecord, TieType
from graph.query import NamedQuery
from graph.settings import Backend
from graph.store import GraphStore, Neighbourhood, WriteResult, check_limit
from graph.ties import TieRegistry

__all__ = ["EmbeddedStore", "GraphView"]


class EmbeddedStore(GraphStore):
    """Networkx in memory for traversal, SQLite on disk for durability."""

    backend: ClassVar[Backend] = Backend.EMBEDDED

    def __init__(self, path: Path, *, read_only: bool = False, registry: TieRegistry | None = None) -> None:
        super().__init__(registry)
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        self._lock_file = None if read_only else _take_file_lock(self.path)
        try:
            self._disk = Disk(self.path, read_only=read_only)
        except StoreError:
            self._release_file_lock()
            raise
        self._graph = nx.MultiDiGraph()
        self._load()
        self.view = GraphView(self._graph)

    def _load(self) -> None:
        graph = self._graph
        for label, node_id, kind, props in self._disk.read_nodes():
            graph.add_node((NodeLabel(label), node_id), label=NodeLabel(kind), props=props)
        for tie_type, source, target, props in self._disk.read_ties():
            kind = TieType(tie_type)
            source_label, target_label = end_labels(kind)
            graph.add_edge((source_label, source), (target_label, target), key=kind, **props)

    # -- writes -------------------------------------------------------------------------------

    def write(self, nodes: Iterable[NodeInput] = (), ties: Iterable[TieInput] = ()) -> WriteResult:
        if self.read_only:
            raise StoreError("this embedded store was opened read-only")
        batch = prepare_batch(nodes, ties)
        with self._lock:
            graph = self._graph
            node_states: dict[NodeKey, tuple[NodeLabel, dict[str, Any]]] = {}
            for row in batch.nodes:
                key = node_key(row.label, row.id)
                current = graph.nodes[key] if key in graph else None
                kind = row.label
                if kind is NodeLabel.CUSTOMER and current is not None:
                    kind = current["label"]
                props = _merged(current["props"] if current else {}, row.properties)
                node_states[key] = (kind, props)

            tie_states: dict[tuple[NodeKey, NodeKey, TieType], dict[str, Any]] = {}
            for number, tie in zip(batch.tie_numbers, batch.ties, strict=True):
                source_label, target_label = end_labels(tie.type)
                source, target = (source_label, tie.source), (target_label, tie.target)
                for end, end_key in (("source", source), ("target", target)):
                    if end_key not in graph and end_key not in node_states:
                        raise MissingEndpoint(
                            f"{tie.type} {end} {end_key[0]} {end_key[1]!r} does not exist",
                            row=number,
                            kind="tie",
                        )
                current_tie = graph.get_edge_data(source, target, tie.type)
                tie_states[(source, target, tie.type)] = _merged(current_tie or {}, tie.properties)

            self._disk.commit(
                [_node_on_disk(key, kind, props) for key, (kind, props) in node_states.items()],
                [_tie_on_disk(key, props) for key, props in tie_states.items()],
            )
            for key, (kind, props) in node_states.items():
                graph.add_node(key, label=kind, props=props)
            for (source, target, tie_type), props in tie_states.items():
                if graph.has_edge(source, target, tie_type):
                    data = graph.edges[source, target, tie_type]
                    data.clear()
                    data.update(props)
                else:
                    graph.add_edge(source, target, key=tie_type, **props)
        return WriteResult(nodes=len(batch.nodes), ties=len(batch.ties))

    def clear(self) -> None:
        with self._lock:
            self._disk.clear()
            self._graph.clear()

    # -- reads --------------------------------------------------------------------------------

    def get_node(self, label: NodeLabel, node_id: str) -> NodeRecord | None:
        label = NodeLabel(label)
        key = node_key(label, node_id)
        with self._lock:
            if key not in self._graph:
                return None
            record = self.view.record(key)
        if label is not label.primary and record.label is not label:
            return None
        return record

    def neighbourhood(
        self, label: NodeLabel, node_id: str, types: Sequence[TieType] = (), limit: int = 100
    ) -> Neighbourhood:
        check_limit(limit)
        label, types = NodeLabel(label), [TieType(tie_type) for tie_type in types]
        with self._lock:
            center = self.get_node(label, node_id)
            if center is None:
                raise NotFound(f"no {label} with id {node_id!r}")
            key = node_key(label, node_id)
            found: list[tuple[TieType, NodeKey, NodeKey, NodeKey]] = []  # type, other, source, target
            for tie_type, target, _ in self.view.out_ties(key, types):
                found.append((tie_type, target, key, target))
            for tie_type, source, _ in self.view.in_ties(key, types):
                if source != key:
                    found.append((tie_type, source, source, key))
            found.sort(key=lambda item: (item[0].value, item[1][0].value, item[1][1], item[2][1]))
            kept = found[:limit]
            neighbours: dict[NodeKey, NodeRecord] = {}
            for _, other, _, _ in kept:
                neighbours.setdefault(other, self.view.record(other))
            ties = [self.view.tie_record(tie_type, source, target) for tie_type, _, source, target in kept]
        return Neighbourhood(
            center=center, neighbours=list(neighbours.values()), ties=ties, omitted=len(found) - len(kept)
        )

    def nodes(self, label: NodeLabel) -> Iterator[NodeRecord]:
        with self._lock:
            records = [self.view.record(key) for key in self.view.keys(NodeLabel(label))]
        return iter(records)

    def ties(self, types: Sequence[TieType] = ()) -> Iterator[TieRecord]:
        with self._lock:
            return iter(self.view.ties([TieType(tie_type) for tie_type in types]))

    def run(self, query: NamedQuery, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return query.embedded(self.view, params or {})

    def counts(self) -> GraphCounts:
        nodes: dict[str, int] = {}
        ties: dict[str, int] = {}
        with self._lock:
            for (primary, _), data in self._graph.nodes(data=True):
                nodes[primary.value] = nodes.get(primary.value, 0) + 1
                if data["label"] is not primary:
                    nodes[data["label"].value] = nodes.get(data["label"].value, 0) + 1
            for _, _, tie_type in self._graph.edges(keys=True):
                ties[tie_type.value] = ties.get(tie_type.value, 0) + 1
        return GraphCounts(nodes=dict(sorted(nodes.items())), ties=dict(sorted(ties.items())))

    def ping(self) -> None:
        self._disk.ping()

    def close(self) -> None:
        with self._lock:
            self._disk.close()
            self._release_file_lock()

    def _release_file_lock(self) -> None:
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def _merged(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    if not current:
        return {name: value for name, value in update.items() if value is not None}
    merged = {**current, **update}
    return {name: value for name, value in merged.items() if value is not None}


def _node_on_disk(key: NodeKey, kind: NodeLabel, props: dict[str, Any]) -> NodeRowOnDisk:
    return (key[0].value, key[1], kind.value, encode(props))


def _tie_on_disk(key: tuple[NodeKey, NodeKey, TieType], props: dict[str, Any]) -> TieRowOnDisk:
    source, target, tie_type = key
    return (tie_type.value, source[1], target[1], encode(props))


def _take_file_lock(path: Path) -> int:
    """Hold an exclusive lock so a second writer cannot fork the in-memory graph from the file."""
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise StoreUnavailable(
            f"the embedded store {path} is open for writing in another process; stop it, or open this one read-only"
        ) from None
    return descriptor
