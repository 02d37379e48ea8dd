"""The Neo4j backend: the official driver, read and write transactions with our own retries, ``UNWIND`` batches.

A batch is one write transaction: a bad row raises inside it, which rolls the whole batch back.

Connections, retries, shared reads and error translation: :mod:`graph.neo4j_session`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import neo4j
import pyarrow as pa
from neo4j import GraphDatabase, NotificationDisabledClassification, Transaction
from neo4j import exceptions as driver_errors

from graph.batch import Batch, NodeInput, NodeRef, TieInput, prepare_batch
from graph.cancellation import checkpoint
from graph.cypher import render
from graph.embedded.bulk_checks import checked_tables
from graph.errors import NotFound
from graph.model import PRIMARY_LABELS, GraphCounts, NodeLabel, NodeRecord, TieRecord, TieType
from graph.neo4j_session import SharedReads, retrying, rows, translated_errors
from graph.neo4j_write import (
    Changes,
    batch_statements,
    keys_unique,
    run_statements,
    symmetric_turned,
    table_statements,
)
from graph.query import NamedQuery
from graph.settings import Backend, Settings
from graph.store import GraphStore, Neighbourhood, WriteResult, check_limit
from graph.ties import TieRegistry, spec

_INDEXES = ("cluster_index", "name_search_index", "phone_search_index")
"""The indexes besides the key constraints, by the names of their create_ and drop_ statements: marketing reads
referral clusters by id (without the index, a scan of every customer); customer search reads names and masked
phones through text indexes."""
INDEX_WAIT_SECONDS = 1800
"""How long opening a store or finishing a first load waits for its indexes to come online (a large bank's text
indexes take minutes)."""
READ_PAGE = 10_000
"""Nodes (or, for ties, source nodes) per read transaction when listing a whole label or tie type."""
ID_PAGE = 100_000
"""Node ids per read transaction when listing which nodes of a label exist."""
TYPE_PAGE = 100_000
"""Nodes (or source nodes) per transaction when finding the types of their properties: only types come back."""

T = TypeVar("T")


class Neo4jStore(GraphStore):
    """A store on a Neo4j 5 server."""

    backend: ClassVar[Backend] = Backend.NEO4J

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str] | None = None,
        *,
        database: str = "neo4j",
        timeout_seconds: float = 30.0,
        registry: TieRegistry | None = None,
        write_sessions: int = 1,
    ) -> None:
        super().__init__(registry)
        self.database = database
        self.timeout_seconds = timeout_seconds
        self.write_sessions = write_sessions
        """Batches a load writes at once (:mod:`graph.parallel_writes`); 1 writes each before the next is made."""
        self._shared = threading.local()
        """``reads``: the :class:`SharedReads` of this thread's :meth:`reading` context, if any."""
        self._driver = GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=min(timeout_seconds, 15.0),
            # "Type X does not exist" on a store not loaded yet: our types and labels come from the registry,
            # so the warning says nothing, and the driver logs one per query.
            notifications_disabled_classifications=[NotificationDisabledClassification.UNRECOGNIZED],
        )
        try:
            with translated_errors(f"Neo4j at {uri}"):
                self._driver.verify_connectivity()
                self._create_constraints()
        except Exception:
            self._driver.close()
            raise

    @classmethod
    def from_settings(cls, settings: Settings, registry: TieRegistry | None = None) -> Neo4jStore:
        password = settings.neo4j_password.get_secret_value()
        return cls(
            settings.neo4j_uri,
            (settings.neo4j_user, password) if password else None,
            database=settings.neo4j_database,
            timeout_seconds=settings.neo4j_timeout_seconds,
            registry=registry,
            write_sessions=settings.neo4j_write_sessions,
        )

    def _create_constraints(self) -> None:
        with self._session() as session:
            for label in PRIMARY_LABELS:
                session.run(render("create_constraint", label=label)).consume()
        self._create_indexes()

    def _create_indexes(self) -> None:
        """The indexes other than the key constraints, waited for until they are online."""
        with self._session() as session:
            for name in _INDEXES:
                session.run(render(f"create_{name}")).consume()
            session.run(render("await_indexes"), seconds=INDEX_WAIT_SECONDS).consume()

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Into an empty database, a load runs without the indexes other than the key constraints (the text
        indexes cost most), which are built once afterwards and online when this returns, even if the load failed.
        A database holding data keeps its indexes: its users search it while it loads.

        With ``write_sessions`` above 1, the batches this thread hands to :meth:`queue_bulk_write` are written
        several at once (:mod:`graph.parallel_writes`); every other operation of this thread waits for them first.
        """
        with translated_errors(), self._session() as session:
            empty = session.run(render("count_all_nodes")).single(strict=True)["count"] == 0
            if empty:
                for name in _INDEXES:
                    session.run(render(f"drop_{name}")).consume()
        try:
            if self.write_sessions > 1:
                with self._handed.handing(self.bulk_write, self.write_sessions, "neo4j-write"):
                    yield
            else:
                yield
        finally:
            if empty:
                with translated_errors():
                    self._create_indexes()

    def _session(self, access_mode: str = neo4j.WRITE_ACCESS) -> neo4j.Session:
        return self._driver.session(database=self.database, default_access_mode=access_mode)

    def _transaction(self, access_mode: str, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in one transaction and commit it, retrying as :mod:`graph.neo4j_session` says."""
        shared = self._open_reads()
        if access_mode == neo4j.WRITE_ACCESS and shared is not None:
            shared.nodes.clear()  # a node this thread writes is read afresh afterwards

        def attempt() -> T:
            with self._session(access_mode) as session, session.begin_transaction(timeout=self.timeout_seconds) as tx:
                result = work(tx)
                tx.commit()
                return result

        with translated_errors():
            return retrying(self.timeout_seconds)(attempt)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The reads of this thread until the context exits share one read transaction (see :mod:`graph.neo4j_session`);
        a nested context leaves them to the outer one."""
        if getattr(self._shared, "reads", None) is not None:
            yield
            return
        reads = SharedReads(lambda: self._session(neo4j.READ_ACCESS), self.timeout_seconds)
        self._shared.reads = reads
        try:
            yield
        finally:
            self._shared.reads = None
            reads.close()

    def _open_reads(self) -> SharedReads | None:
        """This thread's shared read transaction, when it is in a :meth:`reading` context and the transaction
        has not ended."""
        shared: SharedReads | None = getattr(self._shared, "reads", None)
        return shared if shared is not None and shared.open else None

    def _read(self, text: Any, **params: Any) -> list[dict[str, Any]]:
        self._handed.written()
        return self._read_now(text, params)

    def _read_now(self, text: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        """:meth:`_read` without waiting for the batches being written."""
        shared = self._open_reads()
        if shared is not None:
            try:
                return rows(shared.transaction().run(text, params))
            except (driver_errors.Neo4jError, driver_errors.DriverError) as error:
                shared.close()  # the transaction is spent: this read and the next go their own way
                if not error.is_retryable():  # a refusal or a timeout would only come again
                    with translated_errors():
                        raise
        return self._transaction(neo4j.READ_ACCESS, lambda tx: rows(tx.run(text, params)))

    # -- writes -------------------------------------------------------------------------------

    def write(
        self, nodes: Iterable[NodeInput] = (), ties: Iterable[TieInput] = (), delete: Iterable[NodeRef] = ()
    ) -> WriteResult:
        batch = prepare_batch(nodes, ties, delete)
        self._handed.written()
        changes = Changes()
        if not batch.empty:
            # A retried attempt starts its count afresh: the failed one was rolled back.
            changes = self._transaction(neo4j.WRITE_ACCESS, lambda tx: self._write_batch(tx, batch))
        return WriteResult(
            nodes=len(batch.nodes),
            ties=len(batch.ties),
            deleted=changes.deleted,
            created=changes.created,
            updated=changes.updated,
            unchanged=changes.unchanged,
        )

    def bulk_write(
        self, nodes: Mapping[NodeLabel, pa.Table] | None = None, ties: Mapping[TieType, pa.Table] | None = None
    ) -> WriteResult:
        """The tables' rows straight into ``UNWIND`` statements of one transaction (see :mod:`graph.neo4j_write`);
        symmetric ties given the other way round are turned round first; tables that need the row path's merging or
        checks (:func:`graph.embedded.bulk_checks.checked_tables`, or a key given twice) go through :meth:`write`,
        with the same outcome."""
        checked = checked_tables(nodes or {}, symmetric_turned(ties or {}))
        if checked is None or not keys_unique(*checked):
            return super().bulk_write(nodes, ties)
        node_tables, tie_tables = checked
        changes = Changes()
        if node_tables or tie_tables:
            # The statements are made afresh by each attempt: a retried transaction starts from the tables.
            changes = self._transaction(
                neo4j.WRITE_ACCESS, lambda tx: run_statements(tx, table_statements(node_tables, tie_tables))
            )
        return WriteResult(
            nodes=sum(table.num_rows for table in node_tables.values()),
            ties=sum(table.num_rows for table in tie_tables.values()),
            created=changes.created,
            updated=changes.updated,
            unchanged=changes.unchanged,
        )

    def _write_batch(self, tx: Transaction, batch: Batch) -> Changes:
        """Write the batch in ``tx``; return what it created, updated and deleted."""
        changes = run_statements(tx, batch_statements(batch))
        doomed: dict[NodeLabel, list[str]] = defaultdict(list)
        for label, node_id in batch.deletions:
            doomed[label].append(node_id)
        for label, ids in doomed.items():
            changes.deleted += tx.run(render("delete_nodes", label=label), ids=ids).single(strict=True)["deleted"]
        return changes

    def clear(self) -> None:
        self._handed.written()
        with translated_errors(), self._session() as session:
            session.run(render("delete_all_ties")).consume()
            session.run(render("delete_all_nodes")).consume()

    # -- reads --------------------------------------------------------------------------------

    def get_node(self, label: NodeLabel, node_id: str) -> NodeRecord | None:
        label = NodeLabel(label)
        shared = self._open_reads()
        if shared is not None and (label, node_id) in shared.nodes:
            rows = shared.nodes[label, node_id]
        else:
            rows = self._read(render("get_node", label=label), id=node_id)
            shared = self._open_reads()  # the read may have ended the transaction
            if shared is not None:
                shared.nodes[label, node_id] = rows
        if not rows:
            return None
        record = NodeRecord(label=_kind(rows[0]["labels"]), id=node_id, properties=_without_id(rows[0]["properties"]))
        if label is not label.primary and record.label is not label:
            return None
        return record

    def neighbourhood(
        self, label: NodeLabel, node_id: str, types: Sequence[TieType] = (), limit: int = 100
    ) -> Neighbourhood:
        check_limit(limit)
        label = NodeLabel(label)
        center = self.get_node(label, node_id)
        if center is None:
            raise NotFound(f"no {label} with id {node_id!r}")
        rows = self._read(
            render("get_neighbourhood", label=label.primary),
            id=node_id,
            types=[TieType(tie_type).value for tie_type in types],
            limit=limit,
        )
        total, kept = (rows[0]["total"], rows[0]["kept"]) if rows else (0, [])
        neighbours: dict[tuple[str, str], NodeRecord] = {}
        ties = []
        for item in kept:
            kind = _kind(item["labels"])
            neighbours.setdefault(
                (kind.primary.value, item["id"]),
                NodeRecord(label=kind, id=item["id"], properties=_without_id(item["properties"])),
            )
            ties.append(
                TieRecord(
                    type=TieType(item["type"]),
                    source=item["source"],
                    target=item["target"],
                    properties=item["tie_properties"],
                )
            )
        return Neighbourhood(center=center, neighbours=list(neighbours.values()), ties=ties, omitted=total - len(kept))

    def nodes(self, label: NodeLabel) -> Iterator[NodeRecord]:
        # Pages in id order, each its own read transaction, walking the id index: one transaction over
        # every account of a large bank outlives the transaction timeout (analyze failed at 100k customers).
        label = NodeLabel(label)
        statement = render("list_nodes", label=label.primary)
        after = ""
        while True:
            page = self._read(statement, after=after, limit=READ_PAGE)[0]["page"]
            for node_id, labels, properties in page:
                record = NodeRecord(label=_kind(labels), id=node_id, properties=_without_id(properties))
                if label is label.primary or record.label is label:
                    yield record
            if len(page) < READ_PAGE:
                return
            after = page[-1][0]

    def node_ids(self, label: NodeLabel) -> list[str]:
        """Ids only, a page at a time; during a load, after the batches writing nodes of the label's primary."""
        label = NodeLabel(label)
        if label is not label.primary:
            return super().node_ids(label)
        self._handed.written(frozenset({label}))
        statement = render("list_node_ids", label=label)
        ids: list[str] = []
        while True:
            page = self._read_now(statement, {"after": ids[-1] if ids else "", "limit": ID_PAGE})[0]["page"]
            ids.extend(page)
            if len(page) < ID_PAGE:
                return ids

    def ties(self, types: Sequence[TieType] = ()) -> Iterator[TieRecord]:
        wanted = sorted({TieType(tie_type) for tie_type in types} or set(TieType), key=lambda t: t.value)
        for tie_type in wanted:
            # Paged by source node (in id order, on its index), so no transaction reads every tie at once.
            statement = render("list_ties", source=spec(tie_type).source, type=tie_type)
            after = ""
            while True:
                page = self._read(statement, after=after, limit=READ_PAGE)[0]["page"]
                for source, target, properties in page:
                    yield TieRecord(type=tie_type, source=source, target=target, properties=properties)
                if len({source for source, _, _ in page}) < READ_PAGE:
                    break
                after = page[-1][0]

    def node_values(self, label: NodeLabel, keys: Sequence[str]) -> Iterator[list[list[Any]]]:
        """The nodes of a primary label a page at a time, in id order, each as [id, kind (the most specific
        label), the value of each of ``keys`` or None]: what an export writes as columns, without a record and a
        map per node (most of the export's own time in this process)."""
        statement = render("list_node_values", label=NodeLabel(label).primary)
        after = ""
        while True:
            page = self._read(statement, after=after, limit=READ_PAGE, keys=list(keys))[0]["page"]
            yield page
            if len(page) < READ_PAGE:
                return
            after = page[-1][0]

    def tie_values(self, tie_type: TieType, keys: Sequence[str]) -> Iterator[list[list[Any]]]:
        """The ties of one type a page at a time (as :meth:`ties` pages them), each as [source, target, the
        value of each of ``keys`` or None] (see :meth:`node_values`)."""
        tie_type = TieType(tie_type)
        statement = render("list_tie_values", source=spec(tie_type).source, type=tie_type)
        after = ""
        while True:
            page = self._read(statement, after=after, limit=READ_PAGE, keys=list(keys))[0]["page"]
            yield page
            if len({row[0] for row in page}) < READ_PAGE:
                return
            after = page[-1][0]

    def property_types(self, of: NodeLabel | TieType) -> dict[str, set[str]]:
        """Each property of a primary label's nodes (or a tie type's ties) with the Cypher value types it holds
        (``INTEGER NOT NULL``, ``LIST<FLOAT NOT NULL> NOT NULL``...), found in the server a page at a time."""
        if isinstance(of, NodeLabel):
            statement = render("node_property_types", label=of.primary)
        else:
            statement = render("tie_property_types", source=spec(of).source, type=of)
        found: dict[str, set[str]] = defaultdict(set)
        after = ""
        while True:
            (page,) = self._read(statement, after=after, limit=TYPE_PAGE)
            for name, value_type in page["types"]:
                found[name].add(value_type)
            if page["size"] < TYPE_PAGE:
                return dict(found)
            after = page["last"]

    def run(self, query: NamedQuery, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        checkpoint()  # work of a request that has ended starts no further query
        return self._read(query.cypher, **(params or {}))

    def counts(self) -> GraphCounts:
        nodes = {label.value: self._read(render("count_nodes", label=label))[0]["count"] for label in NodeLabel}
        ties = {tie_type.value: self._read(render("count_ties", type=tie_type))[0]["count"] for tie_type in TieType}
        return GraphCounts(
            nodes={name: count for name, count in sorted(nodes.items()) if count},
            ties={name: count for name, count in sorted(ties.items()) if count},
        )

    def ping(self) -> None:
        with translated_errors():
            self._driver.verify_connectivity()

    def close(self) -> None:
        self._driver.close()


def _kind(labels: list[str]) -> NodeLabel:
    """The most specific label: Person or Company for customers, else the only label."""
    specific = [label for label in labels if label != NodeLabel.CUSTOMER.value]
    return NodeLabel(specific[0]) if specific else NodeLabel.CUSTOMER


def _without_id(properties: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in properties.items() if name != "id"}
