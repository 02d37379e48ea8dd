"""Which of a load's bulk writes waiting on the writer thread may be written as one, and the tables that one is.

A bulk write merged into the base copies every held row of the labels and tie types it touches (see
:mod:`graph.embedded.bulk`), so a load whose batches wait for the writer pays for the held rows once per batch.
Written as one, batches that only create pay for them once, and the store holds what writing them one after
another gives: each creates its own rows (so no row's outcome depends on the batch before it), and no tie of a
batch ends at a node a later batch creates (which, one after another, would be refused).

:func:`joinable` says which batches from the first may be joined on what they give; the store then writes the
joined tables only when every row is created (a key held already, or given twice, leaves each batch to be written
alone, as ever).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from graph.batch import TIE_ENDS
from graph.embedded.bulk_checks import NodeTables, TieTables, checked_tables
from graph.embedded.columns import one_array
from graph.embedded.layout import ID, SOURCE, TARGET
from graph.embedded.view import GraphView
from graph.model import NodeLabel, TieType

SAMPLE = 64
"""Rows of each table looked up before batches are joined: a reload's first rows are held already, and it is
written batch by batch (a joined write found to update rows is dropped, and costs a second write)."""

Checked = tuple[NodeTables, TieTables]
Given = tuple[Mapping[NodeLabel, pa.Table], Mapping[TieType, pa.Table]]


def joinable(batches: Sequence[Given], graph: GraphView) -> list[Checked | None]:
    """The checked tables (see :func:`checked_tables`; None for a batch written as rows) of the batches, from the
    first, that may be joined: tables of the same labels and tie types in the same columns, none of their first
    rows held already, no tie ending at a node a later batch gives. Just the first's when no other may join it
    (each batch is checked once it may follow the ones before)."""
    first = checked_tables(*batches[0])
    if first is None or _held(first, graph):
        return [first]
    parts: list[Checked] = [first]
    ends: dict[NodeLabel, list[pa.Array]] = {}
    for nodes, ties in batches[1:]:
        batch = checked_tables(nodes, ties)
        if batch is None or not _alike(first, batch) or _held(batch, graph):
            break
        _add_ends(parts[-1], ends)
        if _ends_given(batch[0], ends):
            break
        parts.append(batch)
    return list(parts)


def joined(batches: Sequence[Checked]) -> Checked:
    """The batches' tables one after another (their columns are alike: see :func:`joinable`)."""
    first = batches[0]
    nodes = {label: pa.concat_tables([batch[0][label] for batch in batches]) for label in first[0]}
    ties = {tie_type: pa.concat_tables([batch[1][tie_type] for batch in batches]) for tie_type in first[1]}
    return nodes, ties


def _alike(first: Checked, other: Checked) -> bool:
    pairs = [
        *zip(first[0].values(), other[0].values(), strict=False),
        *zip(first[1].values(), other[1].values(), strict=False),
    ]
    return (
        list(first[0]) == list(other[0])
        and list(first[1]) == list(other[1])
        and all(given.schema.equals(taken.schema, check_metadata=False) for given, taken in pairs)
    )


def _held(batch: Checked, graph: GraphView) -> bool:
    """Whether one of the first rows of a table of the batch is held already."""
    nodes, ties = batch
    for label, table in nodes.items():
        if graph.held(label, one_array(table.column(ID)[:SAMPLE])).any():
            return True
    for tie_type, table in ties.items():
        sources, targets = (one_array(table.column(end)[:SAMPLE]) for end in (SOURCE, TARGET))
        if graph.held_ties(tie_type, sources, targets).any():
            return True
    return False


def _add_ends(batch: Checked, ends: dict[NodeLabel, list[pa.Array]]) -> None:
    """Add the ends of the batch's ties, by label, to ``ends``."""
    for tie_type, table in batch[1].items():
        for label, column in zip(TIE_ENDS[tie_type], (SOURCE, TARGET), strict=True):
            ends.setdefault(label, []).extend(table.column(column).chunks)


def _ends_given(nodes: NodeTables, ends: dict[NodeLabel, list[pa.Array]]) -> bool:
    """Whether a node of ``nodes`` is the end of one of the ties in ``ends`` (given by the batches before)."""
    for label, table in nodes.items():
        chunks = [chunk for chunk in ends.get(label, []) if len(chunk)]
        if chunks and pc.any(pc.is_in(table.column(ID), value_set=pa.concat_arrays(chunks))).as_py():
            return True
    return False
