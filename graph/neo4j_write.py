"""How batches reach Neo4j: rows as ``UNWIND`` statements of at most :data:`STATEMENT_ROWS` rows, run in one
transaction, pipelined.

Both ``write`` (checked rows) and ``bulk_write`` (checked Arrow tables) end here. One batch is one transaction
in one session, so a refused batch leaves the store as it was; a second session would need a second
transaction, and a failure in one would leave the other's half written.
A load's batches, each its own transaction, may be written several at once: see :mod:`graph.parallel_writes`.

Pipelined: a statement is sent before the previous one's answer is read. The driver returns from ``run`` once
the server has accepted the statement, so while the server merges one part the client builds and packs the
next (about a quarter of a load's time, measured, was the client's); the answers are read one behind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, LiteralString

import pyarrow as pa
import pyarrow.compute as pc
from neo4j import Result, Transaction

from graph.batch import Batch
from graph.cypher import render
from graph.errors import MissingEndpoint
from graph.model import NodeLabel, TieType
from graph.ties import spec

STATEMENT_ROWS = 5_000
"""Rows per ``UNWIND`` statement; a batch with more is sent as several statements of its transaction."""

_KINDS = (NodeLabel.PERSON, NodeLabel.COMPANY)
_TIE_TYPES: dict[Any, TieType] = dict(TieType._value2member_map_)


@dataclass
class Changes:
    """What the statements of one batch reported: rows created, updated (some value differed) and unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def add(self, created: int, updated: int, rows: int) -> None:
        self.created += created
        self.updated += updated
        self.unchanged += rows - created - updated


@dataclass(frozen=True)
class Statement:
    """One ``UNWIND`` statement and its rows; ``tie_type`` for ties, whose rows carry their input row numbers."""

    text: LiteralString
    rows: list[dict[str, Any]]
    tie_type: TieType | None = None


@dataclass
class _Missing:
    """The smallest-numbered tie row found with a missing end, over every statement."""

    found: list[tuple[int, str]] = field(default_factory=list)

    def note(self, statement: Statement, number: int, source_missing: bool) -> None:
        assert statement.tie_type is not None
        bad = next(row for row in statement.rows if row["number"] == number)
        end = "source" if source_missing else "target"
        ends = spec(statement.tie_type)
        label = ends.source if source_missing else ends.target
        self.found.append((number, f"{statement.tie_type} {end} {label} {bad[end]!r} does not exist"))


def run_statements(tx: Transaction, statements: Iterable[Statement]) -> Changes:
    """Run the statements in ``tx``, pipelined (see the module docstring); what they did.

    A tie statement with a missing end merges nothing; after every statement has run, ``MissingEndpoint``
    names the smallest-numbered such row over all of them, which rolls the transaction back.
    """
    changes, missing = Changes(), _Missing()
    pending: tuple[Statement, Result] | None = None
    for statement in statements:
        sent = tx.run(statement.text, rows=statement.rows)
        if pending is not None:
            _take(*pending, changes, missing)
        pending = statement, sent
    if pending is not None:
        _take(*pending, changes, missing)
    if missing.found:
        number, message = min(missing.found)
        raise MissingEndpoint(message, row=number, kind="tie")
    return changes


def _take(statement: Statement, sent: Result, changes: Changes, missing: _Missing) -> None:
    answer = sent.single(strict=True)
    if statement.tie_type is not None and answer["number"] is not None:
        missing.note(statement, answer["number"], answer["source_missing"])
    else:
        changes.add(answer["created"], answer["updated"], len(statement.rows))
    # The driver keeps each statement's parameters until the transaction ends (for its summary): emptied here,
    # the rows of a large batch (several times their Arrow size as Python objects) do not all stay until then.
    statement.rows.clear()


def node_statement(label: NodeLabel) -> LiteralString:
    """The merge statement for nodes of ``label``: a customer's kind (Person or Company) or a primary label."""
    if label in _KINDS:
        return render("merge_customers", kind=label, other=_KINDS[1 - _KINDS.index(label)])
    return render("merge_nodes", label=label)


def tie_statement(tie_type: TieType) -> LiteralString:
    ends = spec(tie_type)
    return render("merge_ties", source=ends.source, target=ends.target, type=tie_type)


def parts(text: LiteralString, rows: list[dict[str, Any]], tie_type: TieType | None = None) -> Iterator[Statement]:
    """``rows`` as statements of at most :data:`STATEMENT_ROWS` rows."""
    for start in range(0, len(rows), STATEMENT_ROWS):
        yield Statement(text, rows[start : start + STATEMENT_ROWS], tie_type)


# -- Arrow tables (bulk_write) ------------------------------------------------------------------


def table_statements(nodes: Mapping[NodeLabel, pa.Table], ties: Mapping[TieType, pa.Table]) -> Iterator[Statement]:
    """Checked tables (see :func:`graph.embedded.bulk_checks.checked_tables`: ``id`` and ``kind`` first, ties'
    ``source`` and ``target`` first, keys unique) as statements: nodes, then ties numbered from 1 across the tables.

    Lazy, a statement's rows made only when it is to be sent: Python rows take several times the Arrow size.
    """
    for label, table in nodes.items():
        kinds = _KINDS if label is NodeLabel.CUSTOMER else (label,)
        for kind in kinds:
            own = table.filter(pc.equal(table.column("kind"), kind.value)) if len(kinds) > 1 else table
            text = node_statement(kind)
            for part in _slices(own.drop_columns(["kind"])):
                yield Statement(text, [{"id": row.pop("id"), "properties": row} for row in part.to_pylist()])
    number = 0
    for tie_type, table in ties.items():
        text = tie_statement(tie_type)
        for part in _slices(table):
            rows = []
            for row in part.to_pylist():
                number += 1
                rows.append(
                    {"number": number, "source": row.pop("source"), "target": row.pop("target"), "properties": row}
                )
            yield Statement(text, rows, tie_type)


def _slices(table: pa.Table) -> Iterator[pa.Table]:
    for start in range(0, table.num_rows, STATEMENT_ROWS):
        yield table.slice(start, STATEMENT_ROWS)


def symmetric_turned(ties: Mapping[Any, pa.Table]) -> dict[Any, pa.Table]:
    """The tie tables with each symmetric tie given from the larger id turned round, as ``write`` stores it
    (a family source lists each pair as it comes); a table this cannot read is left for the checks to refuse."""
    turned = dict(ties)
    for given, table in ties.items():
        tie_type = _TIE_TYPES.get(given)
        if tie_type is None or not spec(tie_type).symmetric or not isinstance(table, pa.Table):
            continue
        names = table.column_names
        if "source" not in names or "target" not in names:
            continue
        source, target = table.column("source"), table.column("target")
        if source.type != target.type or not (pa.types.is_string(source.type) or pa.types.is_large_string(source.type)):
            continue
        larger = pc.fill_null(pc.greater(source, target), False)
        table = table.set_column(names.index("source"), "source", pc.if_else(larger, target, source))
        turned[given] = table.set_column(names.index("target"), "target", pc.if_else(larger, source, target))
    return turned


def keys_unique(nodes: Mapping[NodeLabel, pa.Table], ties: Mapping[TieType, pa.Table]) -> bool:
    """Whether no key comes twice in the tables (the row path merges such rows first)."""
    for table in nodes.values():
        if pc.count_distinct(table.column("id")).as_py() != table.num_rows:
            return False
    for table in ties.values():
        pairs = table.select(["source", "target"]).group_by(["source", "target"]).aggregate([])
        if pairs.num_rows != table.num_rows:
            return False
    return True


def batch_statements(batch: Batch) -> Iterator[Statement]:
    """A checked batch's rows as statements: nodes by their own label, then ties by type with their row numbers."""
    by_label: dict[NodeLabel, list[dict[str, Any]]] = defaultdict(list)
    for row in batch.nodes:
        by_label[row.label].append({"id": row.id, "properties": row.properties})
    for label, rows in by_label.items():
        yield from parts(node_statement(label), rows)
    by_type: dict[TieType, list[dict[str, Any]]] = defaultdict(list)
    for number, tie in zip(batch.tie_numbers, batch.ties, strict=True):
        by_type[tie.type].append(
            {"number": number, "source": tie.source, "target": tie.target, "properties": tie.properties}
        )
    for tie_type, rows in by_type.items():
        yield from parts(tie_statement(tie_type), rows, tie_type)
