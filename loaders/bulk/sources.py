"""Node sources loaded column-wise, and what every column-wise source shares: whole files typed, checked and
looked up by column, written in large Arrow batches through ``GraphStore.bulk_write`` (tie sources:
:mod:`loaders.bulk.ties`).

The outcome is the row path's, row for row: a row every column check passes is loaded here; any other
row (a problem in any column, a repeated key, an orphan, a self tie) is handed, in its place in the
file, to the row path's own per-row code (:class:`loaders.nodes.NodeRows`, :class:`loaders.ties.TieRows`),
which quarantines it with its usual reason and message or, if it is fine after all, writes it. So the
quarantine, the report's accounting and the store content are the row path's; only the work per row
that passes is done on columns.

A source takes this path when it is a csv/tsv file source whose files are all plain
(:mod:`loaders.bulk.read`) and whose columns type into one Arrow type each; otherwise
:func:`node_source_by_columns` and :func:`loaders.bulk.ties.tie_source_by_columns` return why not before touching
anything, and the caller loads the source row by row.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import NodeLabel, TieType
from graph.ties import spec
from loaders.bulk.cells import TypedColumn, date_counts, each_distinct, typed_columns, without_nulls
from loaders.bulk.read import PlainFile, read_plain, read_records
from loaders.context import LoadContext, Pending, report_files
from loaders.identifiers import to_half_width
from loaders.mapping import Link, Source, SourceFormat
from loaders.nodes import NodeRows
from loaders.progress import Count
from loaders.quarantine import QuarantineReason
from loaders.raw import RawRecord
from loaders.report import SourceReport
from loaders.transform import RowProblem

_MIXED = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)
"""What Arrow raises for a column whose values are not of one type (a map to text and numbers)."""


@dataclass
class TypedFile:
    """A plain file with its columns typed: what is known of every row before any row is taken."""

    plain: PlainFile
    cells: dict[str, pa.Array]
    keys: pa.Array
    typed: list[TypedColumn]
    good: np.ndarray
    """Rows whose key and every column read well (and, for ties, whose ends were found)."""
    ends: dict[Any, Any] = field(default_factory=dict)
    """Tie end columns looked up, shared by the sources that read the file alike (:class:`FileRead`)."""


def why_not_by_columns(source: Source) -> str | None:
    """Why a source cannot take the column-wise path whatever its files hold, or None."""
    if source.query is not None:
        return "a query source"
    if source.format not in (SourceFormat.CSV, SourceFormat.TSV, SourceFormat.XLSX):
        return f"a {source.format} file"
    if source.node is not None and any(
        _other_end(source.node, link.type) is source.node.primary for link in source.links
    ):
        return "a link between two nodes of the source's own label"
    return None


def node_source_by_columns(context: LoadContext, source: Source, files: list[Path]) -> str | None:
    """Load a node source column-wise; return why not (nothing read, nothing written) when it cannot be."""
    assert source.node is not None
    started = time.perf_counter()
    prepared = prepare_files(context, source, files)
    if isinstance(prepared, str):
        return prepared
    label = source.node
    links = [_LinkColumn(context, label, link) for link in source.links]
    try:
        file_links = [[link.read(file) for link in links] for file in prepared]
    except _MIXED:
        return "a link column's values cannot be read column-wise"
    report = start_report(context, source, files, prepared, "nodes")
    rows = NodeRows(context, source, report)
    constants = rows.transform.constants
    for file, read_links in zip(prepared, file_links, strict=True):
        keys = file.keys.to_pylist()
        ids = [source.id_prefix + key if key is not None else "" for key in keys]
        id_column = pa.array(ids, pa.string())
        good = file.good.tolist()
        alone = _alone(file, rows.seen)
        for start, stop in chunks(file, context.table_batch_size):
            fallback = Pending()
            created: dict[NodeLabel, dict[str, str]] = defaultdict(dict)
            # Rows whose key no other row has: taken on columns; the others one by one, in file order.
            quick = (np.flatnonzero(alone[start:stop]) + start).tolist()
            quick_ids = [ids[index] for index in quick]
            rows.seen.update(keys[index] for index in quick)
            merged = len(rows.written.intersection(quick_ids))  # NodeRows.count_written, for all of them
            loaded = len(quick) - merged
            rows.written.update(quick_ids)
            rows.known.update_column(quick_ids, take_rows(id_column, quick))
            for link in read_links:
                link.created_for(quick, created)
            taken = list(quick)
            others = (np.flatnonzero(~alone[start:stop]) + start).tolist()
            bad = [index for index in others if not good[index]]
            refused = dict(zip(bad, records_at(source, file, bad), strict=True))
            for index in others:
                if good[index] and keys[index] not in rows.seen:
                    rows.seen.add(keys[index])
                    if ids[index] in rows.written:
                        merged += 1
                    else:
                        loaded += 1
                        rows.written.add(ids[index])
                    rows.known.add(ids[index])
                    taken.append(index)
                    for link in read_links:
                        link.created_at(index, created)
                else:
                    raw = refused[index] if index in refused else record_at(source, file, index)
                    rows.take(file.plain.path, raw, fallback)
            taken.sort()
            report.loaded += loaded
            report.merged += merged
            count_dates(context, source, file, rows.transform, taken)
            chosen = pa.array(taken, pa.int64())
            nodes = {label: with_columns({"id": take_rows(id_column, chosen)}, file, constants, chosen)}
            for other, names in created.items():
                nodes[other] = pa.table({"id": list(names), "name": list(names.values())})
            ties: dict[TieType, list[pa.Table]] = defaultdict(list)
            for link in read_links:
                link.add_ties(ids, taken, ties)
            write_batch(context, report, nodes, ties, fallback, stop)
    report.seconds = round(time.perf_counter() - started, 3)
    return None


def _alone(file: TypedFile, seen: set[str]) -> np.ndarray:
    """The good rows whose key no other row of the file (good or not) and no earlier file holds: each is
    taken whatever comes before it, so they need not be looked at one by one in file order."""
    codes = pc.dictionary_encode(file.keys).indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=1)
    alone = file.good & (codes >= 0)
    alone[alone] = counts[codes[alone]] == 1
    if seen:
        alone &= ~pc.is_in(file.keys, value_set=pa.array(list(seen), pa.string())).to_numpy(zero_copy_only=False)
    return alone


def chunks(file: TypedFile, rows: int) -> list[tuple[int, int]]:
    """The file's rows in batches of ``rows`` (``LoadContext.table_batch_size``): each batch is one atomic
    write, as on the row path, and a Neo4j transaction stays within its timeout."""
    count = file.plain.rows_in_bytes
    return [(start, min(start + rows, count)) for start in range(0, count, rows)]


class _LinkColumn:
    """One link of a node source, read on whole columns (see :meth:`read`)."""

    def __init__(self, context: LoadContext, label: NodeLabel, link: Link) -> None:
        self.context, self.link = context, link
        self.node_is_source = spec(link.type).source is label.primary
        self.other = _other_end(label, link.type)

    def read(self, file: TypedFile) -> _LinkRows:
        """Look the link up for every row of a file, once per distinct cell; the rows it refuses (an empty
        required end, an orphan) are taken off the file's good rows."""
        link, other = self.link, self.other
        known = None if other is NodeLabel.CUSTOMER else self.context.known(other)
        crosswalk = self.context.crosswalk() if other is NodeLabel.CUSTOMER else {}

        def find(text: str) -> tuple[str, str | None] | None:
            key = to_half_width(text).strip()
            found: str | None
            created = None
            if not key:
                found = None
            elif known is None:
                found = crosswalk.get(f"{link.system or ''}:{key}")
            else:
                found = link.prefix + key
                if found not in known:
                    created, found = (key, found) if link.create else (None, None)
            if found is None:
                if link.required:
                    raise RowProblem(QuarantineReason.ORPHAN, "")  # the row path words the message
                return None
            return found, created

        count = file.plain.rows_in_bytes
        column = pa.array([link.value] * count, pa.string()) if link.value is not None else file.cells[link.from_ or ""]
        values, bad = each_distinct(column, find)
        file.good &= ~bad
        outcomes = values.to_pylist()
        return _LinkRows(
            self,
            [outcome[0] if outcome else None for outcome in outcomes],
            [outcome[1] if outcome else None for outcome in outcomes],
        )


@dataclass
class _LinkRows:
    """A link read on one file: per row the other end's id (None: no tie) and the key of a node it creates."""

    link: _LinkColumn
    other_ids: list[str | None]
    created: list[str | None]

    def created_at(self, index: int, created: dict[NodeLabel, dict[str, str]]) -> None:
        """Note the node a row's link creates (its name is its key), once; it is known from then on."""
        name = self.created[index]
        if name is None:
            return
        other = self.link.other
        node_id = self.link.link.prefix + name
        known = self.link.context.known(other)
        if node_id not in known:
            known.add(node_id)
            created[other].setdefault(node_id, name)

    def created_for(self, indices: list[int], created: dict[NodeLabel, dict[str, str]]) -> None:
        """:meth:`created_at` of each of the rows ``indices``, in order."""
        if not self.link.link.create:
            return
        for index in indices:
            if self.created[index] is not None:
                self.created_at(index, created)

    def add_ties(self, ids: list[str], taken: list[int], ties: dict[TieType, list[pa.Table]]) -> None:
        """The link's ties for the rows taken: from or to each row's node, per the tie type's direction."""
        pairs = [(ids[index], other) for index in taken if (other := self.other_ids[index]) is not None]
        if not pairs:
            return
        nodes, others = [node for node, _ in pairs], [other for _, other in pairs]
        sources, targets = (nodes, others) if self.link.node_is_source else (others, nodes)
        table = pa.table({"source": pa.array(sources, pa.string()), "target": pa.array(targets, pa.string())})
        ties[self.link.link.type].append(table)


def _other_end(label: NodeLabel, tie_type: TieType) -> NodeLabel:
    tie_spec = spec(tie_type)
    return tie_spec.target if tie_spec.source is label.primary else tie_spec.source


def prepare_files(context: LoadContext, source: Source, files: list[Path]) -> list[TypedFile] | str:
    """Every file read and typed, or why the source cannot go column-wise (then nothing was changed)."""
    reason = why_not_by_columns(source)
    if reason is not None:
        return reason
    prepared: list[TypedFile] = []
    for path in files:
        read = context.reads.kept(source, path, partial(_read_file, context, source, path))
        if isinstance(read.plain, str):
            return read.plain
        cells = read.cells
        if source.null_values:
            cells = {name: without_nulls(column, source.null_values) for name, column in cells.items()}
        try:
            keys, key_bad = _keys(source, cells)
            typed = typed_columns(source.columns, cells, context.hash_key, context.today)
        except _MIXED:
            return "a column's values are not all of one type"
        good = ~key_bad
        for column in typed:
            good &= ~column.bad
        ends = read.ends.setdefault(tuple(sorted(source.null_values)), {})
        prepared.append(TypedFile(read.plain, cells, keys, typed, good, ends))
    return prepared


@dataclass(frozen=True)
class FileRead:
    """A file as the column-wise path reads it, once for all the sources of a load that read it (kept by
    ``SourceReads.kept``): at 1,000,000 customers the accounts file, read by three, is 445 MB."""

    plain: PlainFile | str
    """The file, or why it cannot be read column-wise."""
    cells: dict[str, pa.Array]
    """Its named columns' text (names are unique: ``check_header``), over the table's memory."""
    ends: dict[tuple[str, ...], dict[Any, Any]]
    """Per null markers, the tie end columns looked up (:mod:`loaders.bulk.ties`): its sources often share one."""


def _read_file(context: LoadContext, source: Source, path: Path) -> FileRead:
    xlsx = source.format is SourceFormat.XLSX
    plain = read_records(context.reads.read(source, path)) if xlsx else read_plain(source, path)
    if isinstance(plain, str):
        return FileRead(plain, {}, {})
    # One chunk per column, taken as the cells without a copy: a copy of the file per source cost as much.
    table = plain.table.combine_chunks()
    cells = {name: _one_chunk(table.column(position)) for position, name in enumerate(plain.columns) if name}
    return FileRead(replace(plain, table=table), cells, {})


def _one_chunk(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _keys(source: Source, cells: dict[str, pa.Array]) -> tuple[pa.Array, np.ndarray]:
    """The record key of every row (key parts half-width, trimmed, joined by ``|``) and the rows whose
    key part is empty or holds a control character (the row path refuses them)."""
    count = len(next(iter(cells.values())))
    bad = np.zeros(count, dtype=bool)
    if not source.key:  # a tie source
        return pa.nulls(count, pa.string()), bad
    parts = []
    for column in source.key:
        values, refused = each_distinct(cells[column], _key_part, _plain_key_parts)
        parts.append(values)
        bad |= refused
    keys = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")
    return keys, bad


def _plain_key_parts(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
    # ASCII cells of a plain file hold no control character: trimming is all the row path does to them.
    trimmed = pc.ascii_trim_whitespace(cells)
    return pc.and_(pc.string_is_ascii(cells), pc.greater(pc.utf8_length(trimmed), 0)), trimmed


def _key_part(text: str) -> str:
    part = to_half_width(text).strip()
    if not part or any(ord(char) < 32 or 127 <= ord(char) < 160 for char in part):
        raise RowProblem(QuarantineReason.MISSING_VALUE, "")
    return part


def start_report(
    context: LoadContext, source: Source, files: list[Path], prepared: list[TypedFile], role: str
) -> SourceReport:
    report = SourceReport(name=source.name, system=source.system, role=role, files=report_files(source, files))
    report.rows_read = sum(file.plain.rows_in_bytes for file in prepared)
    report.path = "columns"
    context.reports.append(report)
    if context.progress is not None:
        context.progress(source.name, 0, Count(report.rows_read, "rows"))
    return report


Rows = TypeVar("Rows", pa.Array, pa.ChunkedArray, pa.Table)


def take_rows(values: Rows, rows: pa.Array | np.ndarray | list[int]) -> Rows:
    """``values.take(rows)``, from the slice the rows lie in: Arrow joins every chunk of a chunked column
    before a take, a copy of the whole file per batch (at 1M customers about 2 of the 5 minutes of a load)."""
    at = np.asarray(rows.to_numpy(zero_copy_only=False) if isinstance(rows, pa.Array) else rows, dtype=np.int64)
    if not len(at):
        return values.slice(0, 0)
    first = int(at.min())
    return values.slice(first, int(at.max()) - first + 1).take(pa.array(at - first))


def count_dates(
    context: LoadContext, source: Source, file: TypedFile, transform: Any, taken: list[int] | np.ndarray
) -> None:
    """The date warnings' counts for the rows loaded here (the rows the row path took count there), on the
    stretch of the columns they lie in: a batch's rows, not the whole file again for every batch."""
    at = np.asarray(taken, dtype=np.int64)
    if not len(at):
        return
    first, stop = int(at.min()), int(at.max()) + 1
    rows = np.zeros(stop - first, dtype=bool)
    rows[at - first] = True
    typed = [
        TypedColumn(column.name, column.values.slice(first, stop - first), column.bad[first:stop])
        for column in file.typed
    ]
    future, ancient = date_counts(source.columns, typed, rows, context.today)
    transform.future_dates.update(future)
    transform.ancient_dates.update(ancient)


def with_columns(first: dict[str, pa.Array], file: TypedFile, constants: dict[str, Any], chosen: pa.Array) -> pa.Table:
    """A table of the rows ``chosen``: the given columns, then every property, then the constants."""
    columns = dict(first)
    for column in file.typed:
        columns[column.name] = take_rows(column.values, chosen)
    for name, value in constants.items():
        columns[name] = pa.array([value] * len(chosen))
    return pa.table(columns)


def record_at(source: Source, file: TypedFile, index: int) -> RawRecord:
    """Row ``index`` as the row reader gives it: the cells with null markers emptied, and the line's text
    (its cells joined: a plain line has no quotes)."""
    return records_at(source, file, [index])[0]


def records_at(source: Source, file: TypedFile, indices: list[int]) -> list[RawRecord]:
    """:func:`record_at` of each of the rows ``indices``, their cells taken from the columns at once (an
    Arrow scalar per cell cost a microsecond or two)."""
    if not indices:
        return []
    names = list(file.cells)
    columns = [take_rows(file.cells[name], indices).to_pylist() for name in names]
    values = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if names else []
    values = values or [{} for _ in indices]
    if file.plain.records is not None:
        records = file.plain.records
        return [replace(records[index], values=cells) for index, cells in zip(indices, values, strict=True)]
    table = take_rows(file.plain.table, indices)
    parts = [table.column(position).to_pylist() for position in range(table.num_columns)]
    texts = [source.separator.join(line) for line in zip(*parts, strict=True)]
    return [RawRecord(index + 2, text, cells) for index, text, cells in zip(indices, texts, values, strict=True)]


def write_batch(
    context: LoadContext,
    report: SourceReport,
    nodes: dict[NodeLabel, pa.Table],
    ties: dict[TieType, list[pa.Table]],
    fallback: Pending,
    done: int,
) -> None:
    """One atomic bulk write of the rows taken here, then the rows the row path took (their ends may be
    among the nodes just written), with the progress after them."""
    tables = {tie_type: pa.concat_tables(parts, promote_options="permissive") for tie_type, parts in ties.items()}
    nodes = {label: table for label, table in nodes.items() if table.num_rows}
    if nodes or tables:
        context.store.queue_bulk_write(nodes, tables, report.count_written)
    context.flush(report, fallback, done, report.rows_read)
