"""Bulk writes into the embedded graph: whole Arrow tables merged into the columns, no Python per new row.

:func:`graph.embedded.bulk_checks.checked_tables` gives the tables in the store's types, or None when only the
row path can write them; so does :func:`prepare` when it finds a key given twice (``NeedsRows``): the store then
writes them as rows, so both paths always agree. :func:`prepare` merges checked tables into new node and
tie tables (a key already there is updated: a property column replaces the property, a null removes it,
a property without a column stays), refusing a tie whose end does not exist before anything changes;
the store logs the checked tables and then installs what ``prepare`` made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.batch import TIE_ENDS
from graph.embedded.bulk_checks import NodeTables, TieTables
from graph.embedded.columns import compact_column, is_json, one_array, placed_columns, plain_values, unified
from graph.embedded.keys import IdNumbers, id_order, merged_order, positions_in
from graph.embedded.layout import (
    ID,
    KIND,
    SOURCE,
    STORED,
    TARGET,
    NodeTable,
    fixed_width_ids,
    id_bytes,
    kind_codes,
    with_leading,
)
from graph.embedded.tie_table import IN_ORDER, TieTable, in_order, merged_in_order, tie_keys
from graph.errors import MissingEndpoint
from graph.model import NodeLabel, TieType

PLACE_SHARE = 1.0
"""A node table's property columns given by bulk merges are kept as parts (see
:class:`~graph.embedded.layout.PendingColumns`) until the parts given since the last placing hold this share of
the rows placed then: the held columns are copied when they double, not at every merge."""


@dataclass
class Prepared:
    """New node and tie tables for the labels and types a bulk write touches, and what it did."""

    nodes: dict[NodeLabel, NodeTable] = field(default_factory=dict)
    ties: dict[TieType, TieTable] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class NeedsRows(Exception):
    """The tables hold what only the row path merges (two rows of one key): write them as rows."""


def _same_rows(before: pa.Table, after: pa.Table, rows: int) -> np.ndarray:
    """Row by row, whether each column of ``after`` holds what ``before`` holds (null: absent), as Python's ==
    compares them: column-wise where both columns have one plain type, value by value otherwise."""
    same = np.ones(rows, dtype=bool)
    for name in after.column_names:
        new = after.column(name)
        if name not in before.column_names:
            same &= np.asarray(pc.is_null(new).to_numpy(zero_copy_only=False), dtype=bool)
            continue
        field, old = before.schema.field(name), before.column(name)
        if pa.types.is_dictionary(old.type):
            old = pc.cast(old, old.type.value_type)
        if pa.types.is_null(old.type) or pa.types.is_null(new.type):  # no value on one side: same where none
            both_absent = pc.and_(pc.is_null(old), pc.is_null(new))
            same &= np.asarray(both_absent.to_numpy(zero_copy_only=False), dtype=bool)
        elif old.type == new.type and not pa.types.is_list(new.type) and not is_json(field):
            equal = pc.fill_null(pc.equal(old, new), False)
            both_absent = pc.and_(pc.is_null(old), pc.is_null(new))
            same &= np.asarray(pc.or_(equal, both_absent).to_numpy(zero_copy_only=False), dtype=bool)
        elif old.type == new.type and not is_json(field):
            same &= _same_lists(old, new)
        else:
            pairs = zip(plain_values(field, old), new.to_pylist(), strict=True)
            same &= np.array([one == two for one, two in pairs], dtype=bool)
    return same


def _same_lists(old: pa.Array | pa.ChunkedArray, new: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Row by row, whether two list columns of one type hold equal lists (or both none), without Python lists."""
    old, new = one_array(old), one_array(new)
    old_valid, new_valid = (
        np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool) for column in (old, new)
    )
    old_lengths, new_lengths = (
        np.asarray(pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        for column in (old, new)
    )
    compared = old_valid & new_valid & (old_lengths == new_lengths)
    if compared.all():  # the lists as they are: taking them would copy every item
        old_items, new_items = pc.list_flatten(old), pc.list_flatten(new)
    else:
        chosen = pa.array(np.flatnonzero(compared))
        old_items, new_items = (pc.list_flatten(column.take(chosen)) for column in (old, new))
    differs = ~np.asarray(
        pc.fill_null(pc.equal(old_items, new_items), False).to_numpy(zero_copy_only=False), dtype=bool
    )
    counted = np.concatenate([[0], np.cumsum(differs)])
    ends = np.cumsum(old_lengths[compared])
    equal_lists = counted[ends] == counted[ends - old_lengths[compared]]
    same = ~old_valid & ~new_valid
    same[compared] = equal_lists
    return same


def _merged_rows(
    base: pa.Table, found: np.ndarray, given: pa.Table, leading: list[str]
) -> tuple[pa.Table, pa.Table, np.ndarray, int]:
    """The given rows with the properties they leave alone taken from ``base`` (the held rows, by ``found``,
    -1 for a new row); the rows of ``base`` they do not name, and their numbers; and how many of the rows
    already held it leaves as they were (a node's kind counts)."""
    existing = found >= 0
    old = base.take(pa.array(found, mask=~existing)) if existing.any() else None
    merged, same = merged_given(old, existing, given, leading)
    keep = np.ones(base.num_rows, dtype=bool)
    keep[found[existing]] = False
    kept_rows = np.flatnonzero(keep)
    kept = base if len(kept_rows) == base.num_rows else base.take(pa.array(kept_rows))
    return merged, kept, kept_rows, int(same.sum())


def merged_given(
    old: pa.Table | None, existing: np.ndarray, given: pa.Table, leading: list[str]
) -> tuple[pa.Table, np.ndarray]:
    """The given rows with the properties they leave alone taken from ``old`` (the rows held for them, row
    for row, null where ``existing`` is False; its leading columns as ``given``'s), and which of them are
    held already and left as they were (a node's kind counts)."""
    columns = {}
    if old is not None:
        columns = {name: (old.schema.field(name), old.column(name)) for name in old.column_names[len(leading) :]}
    for name in given.column_names[len(leading) :]:
        columns[name] = (given.schema.field(name), given.column(name))
    merged = with_leading(
        {name: given.column(name) for name in leading},
        pa.Table.from_arrays(
            [column for _, column in columns.values()], schema=pa.schema([f for f, _ in columns.values()])
        ),
    )
    same = np.zeros(len(existing), dtype=bool)
    rows = np.flatnonzero(existing)
    if old is not None and len(rows):
        compared = given.column_names[1 if leading[0] == ID else 2 :]  # a node's kind counts
        if len(rows) < len(existing):
            old, given = old.take(pa.array(rows)), given.take(pa.array(rows))
        same[rows] = _same_rows(old, given.select(compared), len(rows))
    return merged, same


def prepare(
    nodes: Mapping[NodeLabel, NodeTable],
    ties: Mapping[TieType, TieTable],
    given_nodes: NodeTables,
    given_ties: TieTables,
) -> Prepared:
    """New tables for what the checked tables touch (the graph's overlay must be empty); ``MissingEndpoint``
    naming the row when a tie's end is neither held nor written by the same call, ``NeedsRows`` when a key
    comes twice. Changes nothing it is given."""
    prepared = Prepared()
    new_rows: dict[NodeLabel, np.ndarray] = {}
    for label, given in given_nodes.items():
        table = nodes[label]
        given_ids = id_bytes(given.column(ID))
        given_order = id_order(given_ids)  # sorted once: for the search and the merge
        found = table.base_rows_of(given_ids, given_order)
        if len(found) and bool((found >= 0).all()):  # updates alone (analyze writing back): rows stay
            written, unchanged = _updated_nodes(table, found, given)
            if written is not None:  # else every row is as held: the label's table stays as it is
                prepared.nodes[label] = written
            prepared.unchanged += unchanged
            prepared.updated += len(found) - unchanged
            continue
        prepared.nodes[label], new_rows[label], unchanged = _merged_nodes(table, found, given, given_ids, given_order)
        prepared.created += int((found < 0).sum())
        prepared.unchanged += unchanged
        prepared.updated += int((found >= 0).sum()) - unchanged
    end_rows = _tie_ends(nodes, prepared.nodes, given_ties)
    for tie_type, tie_table in ties.items():
        source_label, target_label = TIE_ENDS[tie_type]
        given = given_ties.get(tie_type)
        if given is None and source_label not in new_rows and target_label not in new_rows:
            continue
        sources_now = new_rows.get(source_label, np.arange(nodes[source_label].base_count))
        targets_now = new_rows.get(target_label, np.arange(nodes[target_label].base_count))
        source_nodes = prepared.nodes.get(source_label, nodes[source_label])
        target_nodes = prepared.nodes.get(target_label, nodes[target_label])
        if given is None:  # the ends moved: the order by target and the columns (placed or not) stay
            ends = pa.table(tie_table.remapped_ends(sources_now, targets_now)).replace_schema_metadata(STORED)
            prepared.ties[tie_type] = TieTable(
                source_nodes.base_count, target_nodes.base_count, ends, pending=tie_table.pending
            )
            continue
        source_rows, target_rows = end_rows[tie_type]
        given_keys = tie_keys(source_rows, target_rows)
        given_order = np.argsort(given_keys, kind="stable")  # sorted once: for the search and the merge
        if len(given_keys) > 1 and bool(np.any(np.diff(given_keys[given_order]) == 0)):
            raise NeedsRows
        given_ends = {
            SOURCE: pa.array(source_rows.astype(np.int32)),
            TARGET: pa.array(target_rows.astype(np.int32)),
        }
        if not tie_table.overlay_size():  # the base's ends on the new node rows, its columns left as they are
            held_ends = {
                SOURCE: pa.array(sources_now[tie_table.sources].astype(np.int32)),
                TARGET: pa.array(targets_now[tie_table.targets].astype(np.int32)),
            }
            held_keys = tie_keys(held_ends[SOURCE].to_numpy(), held_ends[TARGET].to_numpy())
            found = positions_in(given_keys, held_keys, given_order)
            if not bool((found >= 0).any()):  # ties created alone: their columns are a part to place later
                leading, order = _merged_tie_ends(
                    pa.table(held_ends), pa.table(given_ends), given_order, (tie_table.in_order, None)
                )
                pending = tie_table.pending.appended(None, given.select(given.column_names[2:]), order)
                if pending.unplaced_rows() >= PLACE_SHARE * pending.placed_rows():
                    pending.placed()
                prepared.created += len(found)
                prepared.ties[tie_type] = TieTable(
                    source_nodes.base_count,
                    target_nodes.base_count,
                    pa.table(leading).replace_schema_metadata(STORED),
                    pending=pending,
                )
                continue
        held = tie_table.merged(sources_now, targets_now)
        held_keys = tie_keys(held.column(SOURCE).to_numpy(), held.column(TARGET).to_numpy())
        found = positions_in(given_keys, held_keys, given_order)
        rows_given = with_leading(given_ends, given.select(given.column_names[2:]))
        merged, kept, kept_rows, unchanged = _merged_rows(held, found, rows_given, [SOURCE, TARGET])
        prepared.created += int((found < 0).sum())
        prepared.unchanged += unchanged
        prepared.updated += int((found >= 0).sum()) - unchanged
        # The held ties' order by target is the base's own (the overlay is empty: rebuilt before a merge).
        held_in_order = None if tie_table.overlay_size() else (tie_table.in_order, kept_rows)
        built = _merged_ties(kept, merged, given_order, held_in_order)
        prepared.ties[tie_type] = TieTable(source_nodes.base_count, target_nodes.base_count, built)
    return prepared


def _merged_ties(
    kept: pa.Table, given: pa.Table, given_order: np.ndarray, held_in_order: tuple[np.ndarray, np.ndarray] | None
) -> pa.Table:
    """The held ties a write leaves (in (source, target) order) and the given ones as one table in the form a
    snapshot holds (see :func:`~graph.embedded.tie_table.stored_ties`): the given ties sorted and placed among
    the held ones (``given_order`` sorts them), the held property columns taken as they are held, and the order
    by target made from the held ties' (``held_in_order``: it, and the kept ones' rows among them) when known."""
    leading, order = _merged_tie_ends(kept, given, given_order, held_in_order)
    properties = placed_columns(kept.drop_columns([SOURCE, TARGET]), given.drop_columns([SOURCE, TARGET]), order)
    return with_leading(leading, properties).replace_schema_metadata(STORED)


def _merged_tie_ends(
    kept: pa.Table,
    given: pa.Table,
    given_order: np.ndarray,
    held_in_order: tuple[np.ndarray, np.ndarray | None] | None,
) -> tuple[dict[str, pa.Array], np.ndarray]:
    """The leading columns of :func:`_merged_ties` (ends and order by target; ``held_in_order``'s kept rows
    None when every held tie is kept), and the order that places the kept ties then the given ones."""
    ends = [
        [np.asarray(table.column(end).to_numpy(), dtype=np.int32) for table in (kept, given)]
        for end in (SOURCE, TARGET)
    ]
    kept_keys, given_keys = tie_keys(ends[0][0], ends[1][0]), tie_keys(ends[0][1], ends[1][1])
    if len(kept_keys) < 2 or bool(np.all(kept_keys[1:] > kept_keys[:-1])):
        order = merged_order(kept_keys, given_keys, given_order)
    else:  # held ties not in order: every key sorted
        order = np.argsort(np.concatenate([kept_keys, given_keys]), kind="stable")
        held_in_order = None
    sources, targets = (np.concatenate(end)[order] for end in ends)
    if held_in_order is None:
        by_target = in_order(targets)
    else:
        held_order, kept_rows = held_in_order
        kept_rows = np.arange(len(kept_keys)) if kept_rows is None else kept_rows
        by_target = merged_in_order(held_order, kept_rows, order, sources, targets)
    return {SOURCE: pa.array(sources), TARGET: pa.array(targets), IN_ORDER: pa.array(by_target)}, order


def _merged_nodes(
    table: NodeTable, found: np.ndarray, given: pa.Table, given_ids: np.ndarray, given_order: np.ndarray
) -> tuple[NodeTable, np.ndarray, int]:
    """The node table with the given rows (at ``found`` when held, -1 when new) merged in, each old row's new
    row (-1: none), and how many held rows the given ones leave as they were. Built in the form a snapshot
    holds (see :meth:`NodeTable.merged_as_stored`): the held ids, kinds and columns are not turned into texts,
    sorted again and converted back; only the given rows are sorted and placed among the held ones."""
    existing = found >= 0
    old = None
    if existing.any():  # the held rows of the given ones, null for a new one
        held_at, absent = np.maximum(found, 0), pa.array(~existing)
        old = with_leading(
            {
                ID: pc.if_else(absent, pa.scalar(None, pa.large_string()), table.id_column(held_at)),
                KIND: pc.if_else(absent, pa.scalar(None, pa.large_string()), table.kind_column(held_at)),
            },
            table.properties.take(pa.array(found, mask=~existing)),
        )
    merged, same = merged_given(old, existing, given, [ID, KIND])
    in_order = given_ids[given_order]
    if len(in_order) > 1 and bool(np.any(in_order[1:] == in_order[:-1])):  # held ones are not kept twice
        raise NeedsRows
    keep = np.ones(table.base_count, dtype=bool)
    keep[found[existing]] = False
    kept_rows = np.flatnonzero(keep)
    every_row = len(kept_rows) == table.base_count
    kept_ids = table.base_ids if every_row else table.base_ids[kept_rows]
    order, numbers = _merged_id_order(table, None if every_row else kept_rows, kept_ids, given_ids, given_order)
    given_kinds = kind_codes(one_array(merged.column(KIND)), table.kinds)
    kept_kinds = table.base_kinds if every_row else table.base_kinds[kept_rows]
    kinds = np.concatenate([kept_kinds, given_kinds])[order]
    leading = {
        ID: fixed_width_ids(np.concatenate([kept_ids, given_ids])[order]),
        KIND: pa.DictionaryArray.from_arrays(
            pa.array(kinds, pa.int8()), pa.array([kind.value for kind in table.kinds], pa.large_string())
        ),
    }
    # The columns are placed once the parts given since they were last hold as many rows as they do: each
    # merge then costs its own rows (and an order over the held ones), not a copy of every held column.
    pending = table.pending.appended(None if every_row else kept_rows, merged.drop_columns([ID, KIND]), order)
    if pending.unplaced_rows() >= PLACE_SHARE * pending.placed_rows():
        pending.placed()
    built = NodeTable(table.label, pa.table(leading).replace_schema_metadata(STORED), pending=pending)
    if numbers is not None:
        built.share_numbers(numbers[0].sharing(built.base_ids, numbers[1]))
    old_rows = np.concatenate([kept_rows, found])[order]
    mapping = np.full(table.base_count, -1, dtype=np.int64)
    mapping[old_rows[old_rows >= 0]] = np.flatnonzero(old_rows >= 0)
    return built, mapping, int(same.sum())


def _merged_id_order(
    table: NodeTable, kept_rows: np.ndarray | None, kept_ids: np.ndarray, given_ids: np.ndarray, given_order: np.ndarray
) -> tuple[np.ndarray, tuple[IdNumbers, np.ndarray] | None]:
    """The order of the kept ids (``kept_rows`` of the base, all when None) followed by the given ones, and
    the base's coding and their numbers in that order when the given ones fit it (see :mod:`graph.embedded.keys`):
    then the ids are placed as numbers, and the new base is coded as the old one was, not coded again."""
    numbers = table.id_numbers() if table.base_count else None
    if numbers is not None:
        given_numbers, fits = numbers.numbers_of(given_ids)
        if bool(fits.all()):
            kept = numbers.numbers if kept_rows is None else numbers.numbers[kept_rows]
            if numbers.exact:  # distinct numbers, which given_order sorts as it sorts the ids
                order = merged_order(kept, given_numbers, given_order)
            else:
                order = merged_order(kept_ids, given_ids, given_order)
            return order, (numbers, np.concatenate([kept, given_numbers])[order])
    return merged_order(kept_ids, given_ids, given_order), None


def _updated_nodes(table: NodeTable, found: np.ndarray, given: pa.Table) -> tuple[NodeTable | None, int]:
    """The node table with the given rows, every one held already at ``found``, written: the ids, their
    order and the columns the rows do not name stay the base's own arrays (a memory-mapped snapshot's stay
    its file's pages, not copied), and only the named columns are built again; with how many given rows leave
    their node as it was. None for the table when every row is left as it was (a loader's same files again:
    building every column anew would double the label's memory for nothing). ``NeedsRows`` when an id comes
    twice."""
    if len(np.unique(found)) < len(found):
        raise NeedsRows
    rows, held = table.base_count, table.properties
    named = given.column_names[2:]
    # Every row given in the order held (a write-back of the whole label, a loader's same files again): the
    # held columns are compared as they are, not copied first.
    every_row = len(found) == rows and bool(np.array_equal(found, np.arange(rows)))
    held_named = held.select([name for name in named if name in held.column_names])
    before = with_leading(
        {KIND: table.kind_column(None if every_row else found)},
        held_named if every_row else held_named.take(pa.array(found)),
    )
    unchanged = int(_same_rows(before, given.select([KIND, *named]), len(found)).sum())
    if unchanged == len(found):
        return None, unchanged

    given_at = np.full(rows, -1, dtype=np.int64)  # each row's row in the given table, -1: not given
    given_at[found] = np.arange(len(found))
    from_either = pa.array(np.where(given_at < 0, np.arange(rows), rows + given_at))  # into base, then given
    fields, arrays = [], []
    for held_field, column in zip(held.schema, held.columns, strict=True):
        if held_field.name not in named:
            fields.append(held_field)
            arrays.append(column)
            continue
        both = unified([held.select([held_field.name]), given.select([held_field.name])])
        built_field, built = compact_column(both.schema.field(0), both.column(0).take(from_either))
        fields.append(built_field)
        arrays.append(built)
    only_given = pa.array(given_at, mask=given_at < 0)
    for name in named:
        if name not in held.column_names:
            built_field, built = compact_column(given.schema.field(name), given.column(name).take(only_given))
            fields.append(built_field)
            arrays.append(built)

    kinds = table.base_kinds.copy()
    kinds[found] = kind_codes(one_array(given.column(KIND)), table.kinds)
    leading = {
        ID: fixed_width_ids(table.base_ids),
        KIND: pa.DictionaryArray.from_arrays(
            pa.array(kinds, pa.int8()), pa.array([kind.value for kind in table.kinds], pa.large_string())
        ),
    }
    written = with_leading(leading, pa.Table.from_arrays(arrays, schema=pa.schema(fields)))
    # In the form a snapshot holds (every column compact already), so nothing is converted again.
    return NodeTable(table.label, written.replace_schema_metadata(STORED), table.id_slots()), unchanged


def _tie_ends(
    nodes: Mapping[NodeLabel, NodeTable],
    new_nodes: Mapping[NodeLabel, NodeTable],
    given_ties: TieTables,
) -> dict[TieType, tuple[np.ndarray, np.ndarray]]:
    """The node rows of each given tie's ends; ``MissingEndpoint`` for the first tie (in the order given, rows
    numbered across the tables) with an end that does not exist."""
    # Every end naming one label is looked up in one pass (sorted once), not once per tie type and end.
    wanted: dict[NodeLabel, list[pa.Array]] = {}
    for tie_type, given in given_ties.items():
        for label, column in zip(TIE_ENDS[tie_type], (SOURCE, TARGET), strict=True):
            wanted.setdefault(label, []).append(one_array(given.column(column)))
    rows_of: dict[NodeLabel, list[np.ndarray]] = {}
    for label, columns in wanted.items():
        table = new_nodes.get(label, nodes[label])
        rows = table.base_rows_of(id_bytes(pa.concat_arrays(columns)))
        rows_of[label] = np.split(rows, np.cumsum([len(column) for column in columns[:-1]]).tolist())
    found, number, taken = {}, 0, dict.fromkeys(wanted, 0)
    for tie_type, given in given_ties.items():
        source_label, target_label = TIE_ENDS[tie_type]
        source_rows = rows_of[source_label][taken[source_label]]
        taken[source_label] += 1
        target_rows = rows_of[target_label][taken[target_label]]
        taken[target_label] += 1
        missing = np.flatnonzero((source_rows < 0) | (target_rows < 0))
        if len(missing):
            at = int(missing[0])
            end, label, column = (
                ("source", source_label, SOURCE) if source_rows[at] < 0 else ("target", target_label, TARGET)
            )
            node_id = given.column(column)[at].as_py()
            raise MissingEndpoint(
                f"{tie_type} {end} {label} {node_id!r} does not exist", row=number + at + 1, kind="tie"
            )
        found[tie_type] = (source_rows, target_rows)
        number += given.num_rows
    return found
