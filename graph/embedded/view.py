"""The embedded graph in memory, and the small read API that named queries and analytics use on it.

Nodes are keyed ``(primary label, id)``, with their kind (``Person``, ``Company`` or the primary label) and
properties; a list of floats (an account's monthly balances) is held as an array of doubles, 8 bytes a value
instead of a float object and a pointer (32), and read back as a list. Ties are held as adjacency maps in
both directions, ``source -> target -> type -> properties``, the innermost map shared by both directions.
Query code reads only through :class:`GraphView`'s methods (``out_ties``, ``in_ties``, ``neighbours``,
``props`` ...), never the maps: another layout (typed columns, sorted tie arrays) can then replace this one
by implementing the same methods.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from graph.model import NodeLabel, NodeRecord, TieRecord, TieType

NodeKey = tuple[NodeLabel, str]
TieProperties = Mapping[str, Any]
TieEntry = tuple[TieType, NodeKey, TieProperties]
"""(type, the node at the other end, the tie's properties), as the adjacency reads yield them."""
Adjacency = dict[NodeKey, dict[NodeKey, dict[TieType, TieProperties]]]
T = TypeVar("T")

NO_PROPERTIES: TieProperties = MappingProxyType({})
"""What a tie without properties holds: one shared empty mapping rather than a dict per tie."""
_NO_NEIGHBOURS: dict[NodeKey, dict[TieType, TieProperties]] = {}


def node_key(label: NodeLabel, node_id: str) -> NodeKey:
    return (label.primary, node_id)


class GraphView:
    """Read access to the embedded graph. Query code must not change what it reads."""

    def __init__(self) -> None:
        self._kinds: dict[NodeKey, NodeLabel] = {}
        self._props: dict[NodeKey, dict[str, Any]] = {}
        # Only nodes with ties have an entry: most products, branches and source records have few or none.
        self._out: Adjacency = {}
        self._in: Adjacency = {}
        # Node keys by primary label, so listing a small label (products, managers) does not scan every node.
        self._by_label: dict[NodeLabel, set[NodeKey]] = {label: set() for label in NodeLabel if label.primary is label}
        self._derived: dict[Hashable, Any] = {}

    def derived(self, name: Hashable, build: Callable[[], T]) -> T:
        """What ``build`` makes from the graph, made once until the graph next changes.

        For structures a query would otherwise rebuild on every call (sorted keys, a search index): reads
        far outnumber writes once a bank is loaded. The caller must not change what it gets.
        """
        if name not in self._derived:
            self._derived[name] = build()
        return self._derived[name]

    # -- nodes ----------------------------------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return key in self._kinds

    def has(self, label: NodeLabel, node_id: str) -> bool:
        return node_key(label, node_id) in self._kinds

    def props(self, key: NodeKey) -> dict[str, Any]:
        """The node's properties (the held dict itself, or a copy with lists unpacked: read it, do not change it)."""
        props = self._props[key]
        if type(props) is _PackedProperties:
            return {name: value.tolist() if type(value) is array else value for name, value in props.items()}
        return props

    def kind(self, key: NodeKey) -> NodeLabel:
        return self._kinds[key]

    def record(self, key: NodeKey) -> NodeRecord:
        props = self._props[key]
        # An unpacked copy is already the record's own; the held dict is copied so the record cannot change it.
        own = self.props(key) if type(props) is _PackedProperties else dict(props)
        return NodeRecord(label=self._kinds[key], id=key[1], properties=own)

    def keys(self, label: NodeLabel) -> list[NodeKey]:
        """Keys of every node carrying ``label``, ordered by id (a new list: the caller may change it)."""
        return list(self.derived(("keys", label), lambda: self._sorted_keys(label)))

    def _sorted_keys(self, label: NodeLabel) -> list[NodeKey]:
        primary = label.primary
        keys = list(self._by_label[primary])
        if label is not primary:
            kinds = self._kinds
            keys = [key for key in keys if kinds[key] is label]
        keys.sort(key=lambda key: key[1])
        return keys

    # -- ties -----------------------------------------------------------------------------------

    def out_ties(self, key: NodeKey, types: Collection[TieType] = ()) -> Iterator[TieEntry]:
        """(type, target, properties) of ties leaving ``key``, of ``types`` (every type when empty)."""
        return _ties_at(self._out.get(key, _NO_NEIGHBOURS), types)

    def in_ties(self, key: NodeKey, types: Collection[TieType] = ()) -> Iterator[TieEntry]:
        """(type, source, properties) of ties arriving at ``key``, of ``types`` (every type when empty)."""
        return _ties_at(self._in.get(key, _NO_NEIGHBOURS), types)

    def neighbours(self, key: NodeKey, types: Collection[TieType] = ()) -> Iterator[TieEntry]:
        """(type, other end, properties) of ties touching ``key`` either way: those leaving it, then those
        arriving (a tie from ``key`` to itself comes once each way)."""
        yield from self.out_ties(key, types)
        yield from self.in_ties(key, types)

    def tie_props(self, tie_type: TieType, source: NodeKey, target: NodeKey) -> TieProperties | None:
        """The properties of the tie ``source -[tie_type]-> target``; None when there is no such tie."""
        return self._out.get(source, _NO_NEIGHBOURS).get(target, {}).get(tie_type)

    def tie_record(self, tie_type: TieType, source: NodeKey, target: NodeKey) -> TieRecord:
        props = self._out[source][target][tie_type]
        return TieRecord(type=tie_type, source=source[1], target=target[1], properties=dict(props))

    def ties(self, types: Collection[TieType] = ()) -> list[TieRecord]:
        """Every tie of the given types (all when empty), ordered by (type, source, target)."""
        found = [
            (tie_type, source, target, props)
            for source, targets in self._out.items()
            for target, by_type in targets.items()
            for tie_type, props in by_type.items()
            if not types or tie_type in types
        ]
        found.sort(key=lambda item: (item[0].value, item[1][1], item[2][1]))
        return [
            TieRecord(type=tie_type, source=source[1], target=target[1], properties=dict(props))
            for tie_type, source, target, props in found
        ]

    def counts(self) -> tuple[Counter[NodeLabel], Counter[TieType]]:
        """Nodes by label (a person or company counted under its kind and as a customer), ties by type."""
        node_kinds: Counter[NodeLabel] = Counter({label: len(keys) for label, keys in self._by_label.items() if keys})
        node_kinds.update(kind for kind in self._kinds.values() if kind is not kind.primary)
        tie_types: Counter[TieType] = Counter()
        for targets in self._out.values():
            for by_type in targets.values():
                tie_types.update(by_type.keys())
        return node_kinds, tie_types


def _ties_at(
    neighbours: Mapping[NodeKey, Mapping[TieType, TieProperties]], types: Collection[TieType]
) -> Iterator[TieEntry]:
    for other, by_type in neighbours.items():
        for tie_type, props in by_type.items():
            if not types or tie_type in types:
                yield tie_type, other, props


class WritableGraph(GraphView):
    """The store's own handle on the graph: the reads, and the changes it applies once a batch is committed."""

    def put_node(self, key: NodeKey, kind: NodeLabel, props: dict[str, Any]) -> None:
        """Add the node, or replace its kind and properties."""
        if key not in self._kinds:
            self._by_label[key[0]].add(key)
        self._kinds[key] = kind
        self._props[key] = _packed(props)

    def put_tie(self, tie_type: TieType, source: NodeKey, target: NodeKey, props: TieProperties) -> None:
        """Add the tie, or replace its properties; both ends must be nodes of the graph already."""
        by_type = self._out.setdefault(source, {}).get(target)
        if by_type is None:
            by_type = self._out[source][target] = {}
            self._in.setdefault(target, {})[source] = by_type
        by_type[tie_type] = props or NO_PROPERTIES

    def remove_node(self, key: NodeKey) -> None:
        """Remove the node and every tie touching it."""
        for target in self._out.pop(key, _NO_NEIGHBOURS):
            if target != key:
                _forget(self._in, target, key)
        for source in self._in.pop(key, _NO_NEIGHBOURS):
            if source != key:
                _forget(self._out, source, key)
        del self._kinds[key], self._props[key]
        self._by_label[key[0]].discard(key)

    def clear(self) -> None:
        for held in (self._kinds, self._props, self._out, self._in):
            held.clear()
        for keys in self._by_label.values():
            keys.clear()
        self.changed()

    def changed(self) -> None:
        """Called by the store after every change to the graph: what was derived from it is stale."""
        self._derived.clear()


class _PackedProperties(dict[str, Any]):
    """Node properties holding at least one list of floats as an array (so reads know to unpack them)."""

    __slots__ = ()


def _packed(props: dict[str, Any]) -> dict[str, Any]:
    """``props``, or a copy with each non-empty list of floats as an array of doubles (the same values)."""
    packed = {name: array("d", value) for name, value in props.items() if _float_list(value)}
    return _PackedProperties({**props, **packed}) if packed else props


def _float_list(value: Any) -> bool:
    return type(value) is list and bool(value) and all(type(item) is float for item in value)


def _forget(adjacency: Adjacency, key: NodeKey, other: NodeKey) -> None:
    neighbours = adjacency[key]
    del neighbours[other]
    if not neighbours:
        del adjacency[key]
