"""The one store interface. Loaders, queries, analytics and the API see only this.

Two backends implement it: :class:`graph.embedded.EmbeddedStore` (columns in memory, Parquet and a log on disk;
the default) and :class:`graph.neo4j_store.Neo4jStore`. The contract tests in ``tests/graph`` run every
operation against both and compare the results.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from graph.batch import NodeInput, NodeRef, TieInput
from graph.model import GraphCounts, NodeLabel, NodeRecord, TieRecord, TieType
from graph.parallel_writes import HandedWrites
from graph.query import NamedQuery
from graph.settings import Backend
from graph.ties import TieRegistry

if TYPE_CHECKING:
    import pyarrow as pa

MAX_NEIGHBOURS = 1000


class WriteResult(BaseModel):
    """What one committed batch held, after duplicates within it were merged."""

    model_config = ConfigDict(frozen=True)

    nodes: int
    ties: int
    deleted: int = 0
    """Nodes the batch deleted (those named that existed)."""
    created: int = 0
    """Nodes and ties the batch made: they were not in the store before."""
    updated: int = 0
    """Nodes and ties that were there and whose properties (or a customer's kind) the batch changed."""
    unchanged: int = 0
    """Nodes and ties that were there already exactly as the batch wrote them (a reload of the same files)."""


class Neighbourhood(BaseModel):
    """A node, the ties touching it and the nodes at their other ends."""

    model_config = ConfigDict(frozen=True)

    center: NodeRecord
    neighbours: list[NodeRecord]
    ties: list[TieRecord]
    omitted: int
    """Ties left out because of ``limit``."""


class GraphStore(ABC):
    """A graph of customers and their ties that can be written in atomic batches and queried."""

    backend: ClassVar[Backend]

    def __init__(self, registry: TieRegistry | None = None) -> None:
        self.registry = registry or TieRegistry()
        self._handed = HandedWrites()
        """The batches each thread's :meth:`loading` hands to writer threads, if the backend has them."""

    @abstractmethod
    def write(
        self, nodes: Iterable[NodeInput] = (), ties: Iterable[TieInput] = (), delete: Iterable[NodeRef] = ()
    ) -> WriteResult:
        """Upsert nodes, then ties, then delete nodes, as one transaction: all of it is committed or none.

        Nodes are matched on (primary label, id) and ties on (type, source, target); properties are
        merged (a ``None`` value removes one), so writing the same batch twice changes nothing.
        A deleted node goes with every tie touching it; deleting a node that is not there does nothing.
        A bad row raises an ``InvalidBatch`` subclass naming it, and the store stays as it was.
        """

    def bulk_write(
        self, nodes: Mapping[NodeLabel, pa.Table] | None = None, ties: Mapping[TieType, pa.Table] | None = None
    ) -> WriteResult:
        """Upsert whole tables of nodes, then ties, as one transaction, with :meth:`write`'s merge rules.

        A node table has an ``id`` column, for customers a ``kind`` column (``Person``/``Company``), then one
        column per property; a tie table has ``source`` and ``target`` (node ids), then property columns. A
        null in a column removes that property from the row's node or tie; a property without a column is
        left as it is. This default turns the tables into rows for :meth:`write`; backends override it to
        take the columns as they are. Rows are numbered across the tables in the order given.
        """
        from graph.tables import node_rows, tie_rows

        return self.write(node_rows(nodes or {}), tie_rows(ties or {}))

    def queue_bulk_write(
        self,
        nodes: Mapping[NodeLabel, pa.Table],
        ties: Mapping[TieType, pa.Table],
        counted: Callable[[WriteResult], None],
    ) -> None:
        """:meth:`bulk_write` for a load, whose result goes to ``counted``: at once, unless inside :meth:`loading`
        a backend hands such batches to writer threads (:mod:`graph.parallel_writes`), which write them while the
        loading thread goes on (each still one transaction) and call ``counted`` in the order given as they commit,
        at the latest when :meth:`loading` exits, where a batch's error is raised if no earlier one was."""
        self._handed.queue(self.bulk_write, nodes, ties, counted)

    def loading(self) -> AbstractContextManager[None]:
        """A context around a load of many batches, which a backend may prepare for; whatever it defers is done
        before the context exits (Neo4j builds its search indexes after a first load). This default does nothing."""
        return nullcontext()

    def reading(self) -> AbstractContextManager[None]:
        """A context around the reads of one piece of work in this thread (an API request), which a backend may
        serve from one read transaction: Neo4j then pays for one session and transaction instead of one per query.
        Writes inside it go their own way. This default does nothing."""
        return nullcontext()

    def upsert_nodes(self, rows: Iterable[NodeInput]) -> WriteResult:
        """Upsert one batch of nodes (see :meth:`write`)."""
        return self.write(nodes=rows)

    def upsert_ties(self, rows: Iterable[TieInput]) -> WriteResult:
        """Upsert one batch of ties between existing nodes (see :meth:`write`)."""
        return self.write(ties=rows)

    @abstractmethod
    def get_node(self, label: NodeLabel, node_id: str) -> NodeRecord | None:
        """The node with this id under ``label``'s primary label, or None."""

    @abstractmethod
    def neighbourhood(
        self,
        label: NodeLabel,
        node_id: str,
        types: Sequence[TieType] = (),
        limit: int = 100,
    ) -> Neighbourhood:
        """Ties of any direction touching the node, filtered by type (all when empty), at most ``limit``.

        Ties come ordered by (type name, other end's primary label, other end's id, source id);
        raises ``NotFound`` when the node does not exist.
        """

    @abstractmethod
    def nodes(self, label: NodeLabel) -> Iterator[NodeRecord]:
        """Every node carrying ``label``, ordered by id."""

    def node_ids(self, label: NodeLabel) -> list[str]:
        """The id of every node carrying ``label``, ordered by id: what :meth:`nodes` gives, without reading
        the properties (a load asks which nodes exist)."""
        return [record.id for record in self.nodes(label)]

    @abstractmethod
    def ties(self, types: Sequence[TieType] = ()) -> Iterator[TieRecord]:
        """Every tie of the given types (all when empty), ordered by (type name, source, target)."""

    def columns(
        self, nodes: Mapping[NodeLabel, Sequence[str]], ties: Mapping[TieType, Sequence[str]] | None = None
    ) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
        """Every node of the given primary labels and every tie of the given types, with only the properties
        named for each, as Arrow tables: what analytics reads of a whole bank, without a record per node.

        A node table is sorted by id: ``id``, ``kind`` (texts), then one column per name in the order given. A
        tie table has ``source`` and ``target`` as the rows of its ends in the node table of their primary
        label (sorted by id, as if asked for), ordered by them, then one column per name. A property a node
        or tie lacks is null; texts may come dictionary-encoded; a property whose values mix types comes as
        JSON text, its field marked as :mod:`graph.embedded.columns` marks it. This default builds the
        tables from :meth:`nodes` and :meth:`ties`; backends holding columns override it.
        """
        from graph.tables import columns_from_records

        return columns_from_records(self, nodes, ties or {})

    @abstractmethod
    def run(self, query: NamedQuery, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a named query from ``queries/`` and return its rows."""

    @abstractmethod
    def counts(self) -> GraphCounts:
        """Nodes by label and ties by type."""

    @abstractmethod
    def clear(self) -> None:
        """Delete every node and tie."""

    @abstractmethod
    def ping(self) -> None:
        """Return when the store answers; raise ``StoreUnavailable`` otherwise."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def check_limit(limit: int, maximum: int = MAX_NEIGHBOURS) -> int:
    """Refuse unbounded or absurd limits with a message saying what is allowed."""
    from graph.errors import InvalidRequest

    if not 1 <= limit <= maximum:
        raise InvalidRequest(f"limit must be between 1 and {maximum}, got {limit}")
    return limit
