"""The embedded graph in memory, and the small read API that named queries and analytics use on it.

Nodes are keyed ``(primary label, id)``, with their kind (``Person``, ``Company`` or the primary label) and
properties. They are held in the columnar layout of :mod:`graph.embedded.layout`: per primary label a
table of typed columns, per tie type sorted int32 arrays with CSR offsets both ways, and an overlay for
what was written since. Query code reads only through :class:`GraphView`'s methods (``out_ties``,
``in_ties``, ``neighbours``, ``props`` ...), never the layout, so the layout can change under them.
"""

from __future__ import annotations

import copy
import functools
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from graph.batch import TIE_ENDS
from graph.embedded import bulk, delta
from graph.embedded.bulk import NodeTables, Prepared, TieTables
from graph.embedded.columns import named_columns
from graph.embedded.delta import Changes
from graph.embedded.layout import NO_PROPERTIES, SOURCE, TARGET, NodeTable, TieProperties
from graph.embedded.row_reads import copied, scalars
from graph.embedded.tie_table import TieTable
from graph.errors import MissingEndpoint
from graph.model import PRIMARY_LABELS, NodeLabel, NodeRecord, TieRecord, TieType

__all__ = ["NO_PROPERTIES", "GraphView", "NodeKey", "TieEntry", "TieProperties", "WritableGraph", "node_key"]

NodeKey = tuple[NodeLabel, str]
TieEntry = tuple[TieType, NodeKey, TieProperties]
"""(type, the node at the other end, the tie's properties), as the adjacency reads yield them."""
T = TypeVar("T")

OVERLAY_SHARE = 0.25
"""The overlay of a label or tie type is merged into its base once it holds this share of the base's rows..."""
OVERLAY_MINIMUM = 50_000
"""... and at least this many rows (a small graph keeps its few changes in the overlay)."""

BULK_SHARE = 0.03
"""A bulk write is merged into the base of its labels and tie types when it holds at least this share of the
rows already there, else into the overlay. A merge into the base copies the held columns as they are (a
fraction of a microsecond a held row); the overlay costs several microseconds a row given, in Python, and again
when it is rebuilt, so the base is cheaper until it holds some thirty batches. The writes of a load of
1,000,000 customers (3 million accounts, in batches of 100,000) took 60.9 CPU s at a tenth, 48.5 at 0.05, 47.5
at 0.03 and 43.4 at 0.015; at 300,000 customers a tenth rather than a quarter had cut them by a fifth."""

MAX_PLANS = 512
"""Tie-type filters whose reading plan is kept (see :func:`_plan`)."""

_OUT_TYPES = {label: [t for t in TieType if TIE_ENDS[t][0] is label] for label in PRIMARY_LABELS}
_IN_TYPES = {label: [t for t in TieType if TIE_ENDS[t][1] is label] for label in PRIMARY_LABELS}


def node_key(label: NodeLabel, node_id: str) -> NodeKey:
    return (label.primary, node_id)


class GraphView:
    """Read access to the embedded graph. Query code must not change what it reads."""

    def __init__(
        self,
        nodes: Mapping[NodeLabel, pa.Table] | None = None,
        ties: Mapping[TieType, pa.Table] | None = None,
        id_slots: Mapping[NodeLabel, np.ndarray] | None = None,
    ) -> None:
        """A graph from node tables per primary label and tie tables per type (see :mod:`graph.embedded.layout`),
        and the id index tables a snapshot holds for the node tables."""
        self._build(nodes or {}, ties or {}, id_slots or {})
        self._derived: dict[Hashable, Any] = {}

    def _build(
        self,
        nodes: Mapping[NodeLabel, pa.Table],
        ties: Mapping[TieType, pa.Table],
        id_slots: Mapping[NodeLabel, np.ndarray],
    ) -> None:
        self._nodes = {label: NodeTable(label, nodes.get(label), id_slots.get(label)) for label in PRIMARY_LABELS}
        self._ties = {
            tie_type: TieTable(
                self._nodes[TIE_ENDS[tie_type][0]].base_count,
                self._nodes[TIE_ENDS[tie_type][1]].base_count,
                ties.get(tie_type),
            )
            for tie_type in TieType
        }
        self._reset_presence()

    def _reset_presence(self) -> None:
        """Forget what :meth:`_present` made: the base it read was replaced."""
        self._presence: dict[tuple[NodeLabel, bool], memoryview] = {}

    def derived(self, name: Hashable, build: Callable[[], T]) -> T:
        """What ``build`` makes from the graph, made once until the graph next changes.

        For structures a query would otherwise rebuild on every call (sorted keys, a search index): reads
        far outnumber writes once a bank is loaded. The caller must not change what it gets.
        """
        if name not in self._derived:
            self._derived[name] = build()
        return self._derived[name]

    # -- nodes ----------------------------------------------------------------------------------

    def _row(self, key: NodeKey) -> int | None:
        table = self._nodes.get(key[0])
        return None if table is None else table.row(key[1])

    def _found(self, key: NodeKey) -> tuple[NodeTable, int]:
        table = self._nodes[key[0]]
        row = table.row(key[1])
        if row is None:
            raise KeyError(key)
        return table, row

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and self._row(key) is not None

    def has(self, label: NodeLabel, node_id: str) -> bool:
        return self._row(node_key(label, node_id)) is not None

    def held(self, label: NodeLabel, ids: pa.Array) -> np.ndarray:
        """Which of ``ids`` (texts) are nodes of ``label``'s primary, searched as a bulk write searches them (no
        id index is built for the base: a load replaces it at nearly every batch)."""
        return self._nodes[label.primary].rows_of(ids) >= 0

    def held_ties(self, tie_type: TieType, sources: pa.Array, targets: pa.Array) -> np.ndarray:
        """Which ``sources[i] -[tie_type]-> targets[i]`` ties (ids as texts) exist, searched as :meth:`held`."""
        source_label, target_label = TIE_ENDS[tie_type]
        source_rows, target_rows = (
            self._nodes[source_label].rows_of(sources),
            self._nodes[target_label].rows_of(targets),
        )
        table = self._ties[tie_type]
        pairs = zip(source_rows.tolist(), target_rows.tolist(), strict=True)
        return np.array([min(s, t) >= 0 and table.find(s, t) is not None for s, t in pairs], dtype=bool)

    def props(self, key: NodeKey) -> Mapping[str, Any]:
        """The node's properties (read as asked for: take a ``dict`` of them to keep or change)."""
        table, row = self._found(key)
        return table.props(row)

    def kind(self, key: NodeKey) -> NodeLabel:
        table, row = self._found(key)
        return table.kind(row)

    def record(self, key: NodeKey) -> NodeRecord:
        table, row = self._found(key)
        return NodeRecord(label=table.kind(row), id=key[1], properties=copied(table.props(row)))

    def keys(self, label: NodeLabel) -> list[NodeKey]:
        """Keys of every node carrying ``label``, ordered by id (a new list: the caller may change it)."""
        return list(self.derived(("keys", label), lambda: self._sorted_keys(label)))

    def _sorted_keys(self, label: NodeLabel) -> list[NodeKey]:
        primary = label.primary
        return [(primary, node_id) for node_id in self.ids(label)]

    def ids(self, label: NodeLabel) -> list[str]:
        """Ids of every node carrying ``label``, sorted (read from the id column, not node by node)."""
        primary = label.primary
        return self._nodes[primary].ids(None if label is primary else label)

    # -- ties -----------------------------------------------------------------------------------

    def out_ties(self, key: NodeKey, types: Collection[TieType] = ()) -> Iterator[TieEntry]:
        """(type, target, properties) of ties leaving ``key``, of ``types`` (every type when empty)."""
        return self._adjacent(key, types, outgoing=True)

    def in_ties(self, key: NodeKey, types: Collection[TieType] = ()) -> Iterator[TieEntry]:
        """(type, source, properties) of ties arriving at ``key``, of ``types`` (every type when empty)."""
        return self._adjacent(key, types, outgoing=False)

    def _adjacent(self, key: NodeKey, types: Collection[TieType], *, outgoing: bool) -> Iterator[TieEntry]:
        row = self._row(key)
        if row is None:
            return
        present = self._present(key[0], outgoing=outgoing)
        held = present[row] if row < len(present) else 0
        tie_tables, node_tables = self._ties, self._nodes
        for bit, tie_type, other_label in _plan(key[0], tuple(types), outgoing):
            tie_table = tie_tables[tie_type]
            if held & bit or (tie_table.added_out if outgoing else tie_table.added_in):
                others = node_tables[other_label]
                label, node_id = others.label, others.node_id
                for other, props in tie_table.out(row) if outgoing else tie_table.into(row):
                    yield tie_type, (label, node_id(other)), props

    def _present(self, label: NodeLabel, *, outgoing: bool) -> memoryview:
        """For each base row of ``label``, a bit per tie type that can leave (or reach) it, in type order, set
        when the base holds such ties of the row: a node has ties of few of its types, and one read here
        spares looking into the index of every other type."""
        found = self._presence.get((label, outgoing))
        if found is None:
            bits = np.zeros(self._nodes[label].base_count, dtype=np.int32)
            for position, tie_type in enumerate((_OUT_TYPES if outgoing else _IN_TYPES)[label]):
                tie_table = self._ties[tie_type]
                offsets = tie_table.out_offsets if outgoing else tie_table.in_offsets
                bits[np.diff(offsets) > 0] |= 1 << position
            found = self._presence[(label, outgoing)] = scalars(bits)
        return found

    def neighbours(self, key: NodeKey, types: Collection[TieType] = ()) -> Iterator[TieEntry]:
        """(type, other end, properties) of ties touching ``key`` either way: those leaving it, then those
        arriving (a tie from ``key`` to itself comes once each way)."""
        yield from self.out_ties(key, types)
        yield from self.in_ties(key, types)

    def tie_props(self, tie_type: TieType, source: NodeKey, target: NodeKey) -> TieProperties | None:
        """The properties of the tie ``source -[tie_type]-> target``; None when there is no such tie."""
        source_label, target_label = TIE_ENDS[tie_type]
        if source[0] is not source_label or target[0] is not target_label:
            return None
        source_row, target_row = self._row(source), self._row(target)
        if source_row is None or target_row is None:
            return None
        return self._ties[tie_type].find(source_row, target_row)

    def tie_record(self, tie_type: TieType, source: NodeKey, target: NodeKey) -> TieRecord:
        props = self.tie_props(tie_type, source, target)
        if props is None:
            raise KeyError((tie_type, source, target))
        return TieRecord(type=tie_type, source=source[1], target=target[1], properties=copied(props))

    def ties(self, types: Collection[TieType] = ()) -> Iterator[TieRecord]:
        """Every tie of the given types (all when empty), ordered by (type, source, target), each record made
        as it is taken: analytics reads every tie of a bank once, and a million records held at once would
        be the peak of its memory."""
        for tie_type in sorted(types or TieType, key=lambda tie_type: tie_type.value):
            sources, targets = (self._nodes[label] for label in TIE_ENDS[tie_type])
            ties = [
                (sources.node_id(source), targets.node_id(target), props)
                for source, target, props in self._ties[tie_type].live()
            ]
            ties.sort(key=lambda item: (item[0], item[1]))
            for source, target, props in ties:
                yield TieRecord(type=tie_type, source=source, target=target, properties=copied(props))

    def counts(self) -> tuple[Counter[NodeLabel], Counter[TieType]]:
        """Nodes by label (a person or company counted under its kind and as a customer), ties by type."""
        node_kinds: Counter[NodeLabel] = Counter()
        for label, table in self._nodes.items():
            if table.count():
                node_kinds[label] = table.count()
                node_kinds.update({kind: n for kind, n in table.kind_counts().items() if kind is not label and n})
        tie_types: Counter[TieType] = Counter(
            {tie_type: table.count() for tie_type, table in self._ties.items() if table.count()}
        )
        return node_kinds, tie_types

    # -- the graph as tables --------------------------------------------------------------------

    def tables(
        self,
        labels: Collection[NodeLabel] | None = None,
        types: Collection[TieType] | None = None,
        *,
        stored: bool = False,
    ) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
        """Base and overlay as node tables (sorted by id) and tie tables (rows of those, sorted): what a new
        base is built from, and what a snapshot holds. Only those of ``labels`` and ``types`` when given; node
        tables (and tie tables without an overlay) in the form a snapshot holds them when ``stored`` (ids as
        bytes: for a new base, not readers)."""
        nodes, new_rows = {}, {}
        for label, table in self._nodes.items():
            if labels is None or label in labels:
                nodes[label], new_rows[label] = table.merged_as_stored() if stored else table.merged()
        ties = {}
        for tie_type, tie_table in self._ties.items():
            if types is None or tie_type in types:
                source_rows, target_rows = (
                    new_rows[label] if label in new_rows else np.arange(self._nodes[label].base_count)
                    for label in TIE_ENDS[tie_type]
                )
                if stored and not tie_table.overlay_size():  # ends moved: the order by target and columns stay
                    ties[tie_type] = tie_table.remapped(source_rows, target_rows)
                else:
                    ties[tie_type] = tie_table.merged(source_rows, target_rows)
        return nodes, ties

    def columns(
        self, nodes: Mapping[NodeLabel, Sequence[str]], ties: Mapping[TieType, Sequence[str]]
    ) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
        """The nodes of the given primary labels and the ties of the given types with only the properties named
        for each, as :meth:`graph.store.GraphStore.columns` gives them: taken from the columns as they are, not
        node by node (analytics reads a few properties of every customer, which hold dozens)."""
        labels = set(nodes) | {label for tie_type in ties for label in TIE_ENDS[tie_type]}
        node_tables, new_rows = {}, {}
        for label in labels:
            merged, new_rows[label] = self._nodes[label].merged(nodes.get(label, ()))
            if label in nodes:
                node_tables[label] = named_columns(merged, 2, nodes[label])
        tie_tables = {}
        for tie_type, names in ties.items():
            source_label, target_label = TIE_ENDS[tie_type]
            merged_ties = self._ties[tie_type].merged(new_rows[source_label], new_rows[target_label], names)
            tie_tables[tie_type] = named_columns(merged_ties, 2, names)
        return node_tables, tie_tables

    def stale(self) -> tuple[set[NodeLabel], set[TieType]]:
        """The labels and tie types whose base a rebuild replaces: those with an overlay, and the tie types
        ending at a label whose rows move (nodes added or deleted; a changed node keeps its row)."""
        labels = {label for label, table in self._nodes.items() if table.overlay_size()}
        moved = {label for label in labels if self._nodes[label].deleted_count or self._nodes[label].added_ids}
        types = {
            tie_type
            for tie_type, table in self._ties.items()
            if table.overlay_size() or not moved.isdisjoint(TIE_ENDS[tie_type])
        }
        return labels, types


class WritableGraph(GraphView):
    """The store's own handle on the graph: the reads, and the changes it applies once a batch is committed.

    A graph that readers may be reading is never changed: the store changes a :meth:`fork` and then puts it in
    the old one's place. A fork shares every table with the graph it came from and copies a table (its small
    overlay; the base arrays stay shared) the first time it changes it.
    """

    def _build(
        self,
        nodes: Mapping[NodeLabel, pa.Table],
        ties: Mapping[TieType, pa.Table],
        id_slots: Mapping[NodeLabel, np.ndarray],
    ) -> None:
        super()._build(nodes, ties, id_slots)
        self._own_nodes: set[NodeLabel] = set(self._nodes)  # tables this graph alone holds, free to change
        self._own_ties: set[TieType] = set(self._ties)

    def fork(self) -> WritableGraph:
        """A graph reading the same as this one, whose changes this one does not see."""
        twin = copy.copy(self)
        twin._nodes, twin._ties, twin._derived = dict(self._nodes), dict(self._ties), {}
        twin._own_nodes, twin._own_ties = set(), set()
        return twin

    def _node_table(self, label: NodeLabel) -> NodeTable:
        """The label's table, to change."""
        if label not in self._own_nodes:
            self._nodes[label] = self._nodes[label].clone()
            self._own_nodes.add(label)
        return self._nodes[label]

    def _tie_table(self, tie_type: TieType) -> TieTable:
        """The tie type's table, to change."""
        if tie_type not in self._own_ties:
            self._ties[tie_type] = self._ties[tie_type].clone()
            self._own_ties.add(tie_type)
        return self._ties[tie_type]

    def put_node(self, key: NodeKey, kind: NodeLabel, props: dict[str, Any]) -> None:
        """Add the node, or replace its kind and properties."""
        self._node_table(key[0]).put(key[1], kind, props)

    def put_tie(self, tie_type: TieType, source: NodeKey, target: NodeKey, props: TieProperties) -> None:
        """Add the tie, or replace its properties; both ends must be nodes of the graph already."""
        _, source_row = self._found(source)
        _, target_row = self._found(target)
        self._tie_table(tie_type).put(source_row, target_row, props)

    def remove_node(self, key: NodeKey) -> None:
        """Remove the node and every tie touching it."""
        _, row = self._found(key)
        for tie_type in TieType:
            source_label, target_label = TIE_ENDS[tie_type]
            if key[0] in (source_label, target_label):
                self._tie_table(tie_type).remove_at(
                    row, as_source=source_label is key[0], as_target=target_label is key[0]
                )
        self._node_table(key[0]).remove(row)

    def clear(self) -> None:
        self._build({}, {}, {})
        self.changed()

    def changed(self) -> None:
        """Called by the store after every change to the graph: what was derived from it is stale."""
        self._derived.clear()

    def settle(self) -> bool:
        """Merge the overlay into a new base when it has grown past its share; True when it did."""
        if not any(_due(table.overlay_size(), table.base_count) for table in self._nodes.values()) and not any(
            _due(table.overlay_size(), table.count_base) for table in self._ties.values()
        ):
            return False
        self.rebuild()
        return True

    def rebuild(self, tables: tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]] | None = None) -> None:
        """A new base from base and overlay (or from ``tables``, as :meth:`tables` made them just before), with
        an empty overlay: the graph reads the same. Only the :meth:`stale` tables are built again: a few
        thousand customers changed leave the accounts and every tie type as they are."""
        labels, types = self.stale()
        nodes, ties = tables or self.tables(labels, types, stored=True)
        for label in labels:
            self._nodes[label] = NodeTable(label, nodes.get(label))
        for tie_type in types:
            source_label, target_label = TIE_ENDS[tie_type]
            self._ties[tie_type] = TieTable(
                self._nodes[source_label].base_count, self._nodes[target_label].base_count, ties.get(tie_type)
            )
        self._own_nodes.update(labels)
        self._own_ties.update(types)
        self._reset_presence()
        self.changed()
        pa.default_memory_pool().release_unused()  # Arrow's allocator keeps the old base's memory unless told

    def overlay_rows(self) -> int:
        """Nodes and ties written since the base was built (changed, added or deleted)."""
        return sum(table.overlay_size() for table in self._nodes.values()) + sum(
            table.overlay_size() for table in self._ties.values()
        )

    def base_rows(self, labels: Collection[NodeLabel] = (), types: Collection[TieType] = ()) -> int:
        """Nodes and ties in the base (of these labels and types when either is given)."""
        if not labels and not types:
            labels, types = self._nodes.keys(), self._ties.keys()
        return sum(self._nodes[label].base_count for label in labels) + sum(
            self._ties[tie_type].count_base for tie_type in types
        )

    def bulk_write(self, nodes: NodeTables, ties: TieTables) -> Changes:
        """Merge checked tables in (see :mod:`graph.embedded.bulk`): into new base tables when they are large
        beside them, else into the overlay (:mod:`graph.embedded.delta`). ``MissingEndpoint`` or ``NeedsRows``
        may come once part of it is done: the store writes into a :meth:`fork`, which it then drops."""
        given = sum(table.num_rows for table in nodes.values()) + sum(table.num_rows for table in ties.values())
        if given >= BULK_SHARE * self.base_rows(nodes.keys(), ties.keys()):
            prepared = self.bulk_prepare(nodes, ties)
            if prepared.created or prepared.updated:
                self.install(prepared)
            return Changes(prepared.created, prepared.updated, prepared.unchanged)
        changes = Changes()
        for label, table in nodes.items():
            delta.put_nodes(self._node_table(label), table, changes)
        number = 0  # ties are numbered across the tables, in the order given
        for tie_type, table in ties.items():
            source_label, target_label = TIE_ENDS[tie_type]
            ends = [
                self._nodes[label].rows_of(table.column(end).combine_chunks())
                for label, end in ((source_label, SOURCE), (target_label, TARGET))
            ]
            missing = np.flatnonzero((ends[0] < 0) | (ends[1] < 0))
            if len(missing):
                at = int(missing[0])
                end, label, column = (
                    ("source", source_label, SOURCE) if ends[0][at] < 0 else ("target", target_label, TARGET)
                )
                raise MissingEndpoint(
                    f"{tie_type} {end} {label} {table.column(column)[at].as_py()!r} does not exist",
                    row=number + at + 1,
                    kind="tie",
                )
            delta.put_ties(self._tie_table(tie_type), ends[0], ends[1], table, changes)
            number += table.num_rows
        if changes.created or changes.updated:
            self.changed()
        return changes

    def bulk_prepare(self, nodes: NodeTables, ties: TieTables) -> Prepared:
        """What writing these checked tables into the base makes; the graph reads the same."""
        if any(table.overlay_size() or table.added for table in self._nodes.values()) or any(
            table.overlay_size() for table in self._ties.values()
        ):
            self.rebuild()
        return bulk.prepare(self._nodes, self._ties, nodes, ties)

    def install(self, prepared: Prepared) -> None:
        self._nodes.update(prepared.nodes)
        self._ties.update(prepared.ties)
        self._own_nodes.update(prepared.nodes)
        self._own_ties.update(prepared.ties)
        self._reset_presence()
        self.changed()

    def apply(self, batch: Mapping[str, Any]) -> None:
        """Apply a logged batch (see :mod:`graph.embedded.log_records`): node and tie states, then deletions.
        ``ValueError`` or ``KeyError`` when it names a label or type that does not exist, or a missing end."""
        if "tables" in batch:
            try:
                self.bulk_write(*batch["tables"])
            except (MissingEndpoint, bulk.NeedsRows) as error:
                raise ValueError(str(error)) from None
            return
        for label, node_id, kind, props in batch["nodes"]:
            primary, own = NodeLabel(label).primary, NodeLabel(kind)
            if own.primary is not primary or not isinstance(props, dict):
                raise ValueError(f"node {label} {node_id!r} of kind {kind} with properties that are not a map")
            self.put_node((primary, node_id), own, props)
        for tie_type, source, target, props in batch["ties"]:
            source_label, target_label = TIE_ENDS[TieType(tie_type)]
            ends = (source_label, source), (target_label, target)
            if ends[0] not in self or ends[1] not in self:
                raise ValueError(f"{tie_type} tie {source!r} -> {target!r} whose end is missing")
            self.put_tie(TieType(tie_type), *ends, props)
        for label, node_id in batch["gone"]:
            key = (NodeLabel(label).primary, node_id)
            if key in self:
                self.remove_node(key)


@functools.lru_cache(maxsize=MAX_PLANS)  # filters come from requests: keep their number bounded
def _plan(label: NodeLabel, types: tuple[TieType, ...], outgoing: bool) -> list[tuple[int, TieType, NodeLabel]]:
    """The tie types to read for ties of ``types`` (every type when empty) leaving (or reaching) a node of
    ``label``, in type order, each with its bit in ``GraphView._present`` and the label at the other end."""
    end = 1 if outgoing else 0
    return [
        (1 << position, tie_type, TIE_ENDS[tie_type][end])
        for position, tie_type in enumerate((_OUT_TYPES if outgoing else _IN_TYPES)[label])
        if not types or tie_type in types
    ]


def _due(overlay: int, base: int) -> bool:
    return overlay > max(OVERLAY_MINIMUM, OVERLAY_SHARE * base)
