"""Tie sources loaded column-wise: ends found by joins of whole key columns on the ids known, checks as column
kernels, and ties counted and made unique per batch with numpy, written through ``GraphStore.bulk_write``.

As for node sources (:mod:`loaders.bulk.sources`), a row the column checks take is loaded here and any
other row (a failed column check, an unknown type code, an empty or unknown end, a self tie) is handed,
in file order, to the row path's own :class:`loaders.ties.TieRows`, which quarantines it with its usual
reason and message. The accounting follows the row path's: a row whose ties were all made before (by an
earlier row of this load) is merged, else loaded; a tie given by several rows of a batch is written once,
from its first row's ends with its last row's properties. The rows the row path takes in a batch are
counted before the batch's other rows (the row path refuses every row these checks refuse, so none of
them makes a tie in practice).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import NodeLabel, TieType
from loaders.bulk.cells import read_distinct
from loaders.bulk.sources import (
    TypedFile,
    chunks,
    count_dates,
    prepare_files,
    records_at,
    start_report,
    take_rows,
    with_columns,
    write_batch,
)
from loaders.context import LoadContext, Pending
from loaders.identifiers import to_half_width
from loaders.known_ids import IdLookup
from loaders.mapping import Source
from loaders.ties import TieRows
from loaders.ties_seen import TiesSeen


@dataclass(frozen=True)
class _TypeEnds:
    """One tie type of a tie source's file: per row, whether its row makes a tie of this type, and the tie."""

    tie_type: TieType
    wanted: np.ndarray
    """Rows whose type code gives this type (every row, for a source of one type)."""
    made: np.ndarray
    """Rows whose tie of this type has both ends and joins two nodes (not a node to itself)."""
    sources: pa.Array
    targets: pa.Array
    symmetric: bool
    keys: np.ndarray
    """An integer per row, the same for rows making the same tie, in this file and in any other of the load
    (its ends' node codes; meaningful where ``made``)."""

    def key_ends(self, rows: pa.Array) -> tuple[pa.Array, pa.Array]:
        """The ends of the ties of ``rows`` as the tie's key names them: a symmetric tie's smaller id first."""
        sources, targets = self.sources.take(rows), self.targets.take(rows)
        if not self.symmetric:
            return sources, targets
        reversed_ = pc.less(targets, sources)
        return pc.if_else(reversed_, targets, sources), pc.if_else(reversed_, sources, targets)


@dataclass(frozen=True)
class _EndIds:
    """A tie end column's node ids: per row (null: none), and as read once per distinct cell."""

    ids: pa.Array
    codes: np.ndarray
    """Per row, the code of its node (``loaders.bulk.lookup.NodeCodes``; -1: none)."""


def tie_source_by_columns(context: LoadContext, source: Source, files: list[Path]) -> str | None:
    """Load a tie source column-wise; return why not (nothing read, nothing written) when it cannot be."""
    assert source.tie is not None and source.source is not None and source.target is not None
    started = time.perf_counter()
    prepared = prepare_files(context, source, files)
    if isinstance(prepared, str):
        return prepared
    report = start_report(context, source, files, prepared, "ties")
    rows = TieRows(context, source, report)
    constants = rows.ends.transform.constants
    for file in prepared:
        taken_by_columns, by_type = _file_ties(context, rows, source, file)
        for start, stop in chunks(file, context.table_batch_size):
            fallback = Pending()
            refused = (np.flatnonzero(~taken_by_columns[start:stop]) + start).tolist()
            for record in records_at(source, file, refused):
                rows.take(file.plain.path, record, fallback)
            taken = np.flatnonzero(taken_by_columns[start:stop]) + start
            loaded = np.zeros(stop - start, dtype=bool)
            ties: dict[TieType, list[pa.Table]] = {}
            for type_ends in by_type:
                table = _batch_ties(context.ties_seen, type_ends, taken, start, loaded, file, constants)
                if table is not None:
                    ties[type_ends.tie_type] = [table]
            report.loaded += int(np.count_nonzero(loaded))
            report.merged += len(taken) - int(np.count_nonzero(loaded))
            count_dates(context, source, file, rows.ends.transform, taken)
            write_batch(context, report, {}, ties, fallback, stop)
    report.seconds = round(time.perf_counter() - started, 3)
    return None


def _file_ties(
    context: LoadContext, rows: TieRows, source: Source, file: TypedFile
) -> tuple[np.ndarray, list[_TypeEnds]]:
    """The rows the column checks take (every other row is the row path's) and the ties of each type."""
    tie = source.tie
    assert tie is not None
    count = file.plain.rows_in_bytes
    taken = file.good.copy()
    if tie.type is not None:
        wanted_by_type = {tie.type: np.ones(count, dtype=bool)}
    else:
        codes = pc.dictionary_encode(file.cells[tie.type_from or ""])
        code_types = [tie.types_for(code.strip()) for code in codes.dictionary.to_pylist()]
        indices = codes.indices.to_numpy(zero_copy_only=False)
        taken &= np.array([types is not None for types in code_types], dtype=bool)[indices]
        present = sorted({tie_type for types in code_types if types for tie_type in types})
        wanted_by_type = {
            tie_type: np.array([tie_type in (types or ()) for types in code_types], dtype=bool)[indices]
            for tie_type in present
        }
    by_type = []
    for tie_type, wanted in wanted_by_type.items():
        type_ends = _type_ends(context, rows, file, tie_type, wanted)
        taken &= type_ends.made | ~wanted
        by_type.append(type_ends)
    return taken, by_type


def _type_ends(
    context: LoadContext,
    rows: TieRows,
    file: TypedFile,
    tie_type: TieType,
    wanted: np.ndarray,
) -> _TypeEnds:
    tie_spec, end_specs = rows.ends.spec_for(tie_type)
    sources, targets = (_file_end_ids(context, file, end.from_, label, prefix) for end, label, prefix in end_specs)
    source_codes, target_codes = sources.codes, targets.codes
    made = (source_codes >= 0) & (target_codes >= 0)
    if tie_spec.source is tie_spec.target:
        made &= source_codes != target_codes
    if tie_spec.symmetric:  # a tie either way round is one tie
        source_codes, target_codes = np.minimum(source_codes, target_codes), np.maximum(source_codes, target_codes)
    # Both codes in one int64 (fewer than 2**31 nodes of a label): the tie's integer for the ties seen.
    assert max(int(source_codes.max(initial=0)), int(target_codes.max(initial=0))) < 1 << 31
    keys = (source_codes << 32) | (target_codes & 0xFFFFFFFF)
    return _TypeEnds(tie_type, wanted, made, sources.ids, targets.ids, tie_spec.symmetric, keys)


def _batch_ties(
    ties_seen: TiesSeen,
    type_ends: _TypeEnds,
    taken: np.ndarray,
    start: int,
    loaded: np.ndarray,
    file: TypedFile,
    constants: dict[str, object],
) -> pa.Table | None:
    """The table of one tie type's ties made by the rows ``taken`` of a batch (each tie once, in the order
    of its first row, with its last row's properties); marks in ``loaded`` (indexed from ``start``) the
    rows that made a tie not seen before, and adds the batch's ties to ``ties_seen``."""
    rows = taken[type_ends.wanted[taken]]
    if not len(rows):
        return None
    first, last = _first_and_last(type_ends.keys[rows])
    key_sources, key_targets = type_ends.key_ends(pa.array(rows[first], pa.int64()))
    keys = type_ends.keys[rows[first]]
    new = ~ties_seen.seen_columns(type_ends.tie_type, keys, key_sources, key_targets)
    loaded[rows[first[new]] - start] = True
    chosen = pa.array(np.flatnonzero(new), pa.int64())
    ties_seen.add_columns(type_ends.tie_type, keys[new], key_sources.take(chosen), key_targets.take(chosen))
    order = np.argsort(first, kind="stable")
    first_rows = pa.array(rows[first[order]], pa.int64())
    ends = {"source": take_rows(type_ends.sources, first_rows), "target": take_rows(type_ends.targets, first_rows)}
    return with_columns(ends, file, constants, pa.array(rows[last[order]], pa.int64()))


def _first_and_last(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct key, in the keys' order, the position of its first and of its last occurrence: what
    ``np.unique(..., return_index=True)`` gives of the keys and of them reversed, from one stable sort."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    change = np.ones(len(ordered), dtype=bool)
    change[1:] = ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(ordered))[: len(starts)] - 1
    return order[starts], order[ends]


def _file_end_ids(context: LoadContext, file: TypedFile, column: str, label: NodeLabel, prefix: str) -> _EndIds:
    """:func:`_end_ids` of a file's column, looked up once for the tie types of a row and for the other
    sources that read the file (an account number column is the target of the owners' ties and the source
    of the products'), while the nodes of ``label`` known stay the same."""
    lookup = context.id_lookup(label)
    found = file.ends.get((column, label, prefix))
    if found is None or found[0] is not lookup:
        found = file.ends[column, label, prefix] = (lookup, _end_ids(file.cells[column], prefix, lookup))
    return cast(_EndIds, found[1])


def _end_ids(cells: pa.Array, prefix: str, lookup: IdLookup) -> _EndIds:
    """Per row, the id and code of the node a tie end column names, or null (-1) when it is empty or names
    none: the ref of each distinct cell read in Arrow where it is ASCII (in Python otherwise), then all the
    refs joined on the ids known at once."""

    def ref(text: str) -> str | None:
        key = to_half_width(text).strip()
        return prefix + key if key else None

    def ascii_refs(distinct: pa.Array) -> tuple[pa.Array, pa.Array]:
        # ASCII cells need only trimming (a plain file holds no control character).
        trimmed = pc.ascii_trim_whitespace(distinct)
        refs = pc.binary_join_element_wise(prefix, trimmed, "")
        blank = pc.equal(pc.utf8_length(trimmed), 0)
        return pc.string_is_ascii(distinct), pc.if_else(blank, pa.scalar(None, pa.string()), refs)

    refs, _, indices = read_distinct(cells, ref, ascii_refs)
    distinct, codes = lookup.join(refs.cast(pa.string()), prefix)
    if indices is None:  # read cell by cell: a ref per row
        return _EndIds(distinct, codes)
    at = indices.fill_null(-1).to_numpy().astype(np.int64)
    # A null cell's index, -1, takes the -1 appended to the codes.
    return _EndIds(distinct.take(indices), np.append(codes, -1)[at])
