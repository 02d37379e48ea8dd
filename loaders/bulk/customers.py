"""Customer sources read column-wise: whole files typed, checked and hashed by column into the records entity
resolution takes.

As for node and tie sources (``loaders.bulk.sources``), a row every column check passes becomes its
record here, and any other row (a problem in a column, an unknown kind, a repeated key) is handed in
its place to the row path's own per-row code, which quarantines it with its usual reason and message
or makes its record after all. The records, the quarantine and the date warnings are the row path's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import NodeLabel
from loaders.bulk.cells import each_distinct
from loaders.bulk.records import RecordRun, joined
from loaders.bulk.sources import TypedFile, count_dates, prepare_files, record_at, records_at, start_report
from loaders.context import LoadContext
from loaders.mapping import PERSONAL_TYPES, Source, ValueType
from loaders.quarantine import QuarantineReason
from loaders.raw import RawRecord
from loaders.report import SourceReport
from loaders.resolve import CustomerRecord
from loaders.transform import RowProblem, RowTransform

RowRecord = Callable[[RowTransform, SourceReport, Path, RawRecord], CustomerRecord | None]
"""The row path's record of one row (``loaders.customers``): quarantines the row and gives None when it is refused."""


def customer_records_by_columns(
    context: LoadContext, source: Source, files: list[Path], seen_refs: set[str], by_row: RowRecord
) -> RecordRun | list[CustomerRecord] | str:
    """The records of a customer source read column-wise, in file order: as a run of columns, or as objects
    when the records the row path made of some rows cannot join the columns exactly; or why the source
    cannot be read so (nothing read, nothing quarantined). ``seen_refs`` holds the refs of the records
    before it."""
    prepared = prepare_files(context, source, files)
    if isinstance(prepared, str):
        return prepared
    report = start_report(context, source, files, prepared, "customers")
    transform = context.row_transform(source)
    read: list[tuple[RecordRun, list[CustomerRecord], list[int]]] = []
    for file in prepared:
        kinds, kind_bad = _kinds(source, file)
        good_rows = file.good & ~kind_bad
        good = good_rows.tolist()
        bad = np.flatnonzero(~good_rows).tolist()
        refused = dict(zip(bad, records_at(source, file, bad), strict=True))
        # Good rows whose key no other row of the file holds (nor an earlier file's: ``seen_refs``) are taken
        # whatever comes before them; the others are looked at one by one, in file order.
        refs = pc.binary_join_element_wise(source.system, file.keys, ":").to_pylist()
        alone = good_rows & _alone_in_file(file.keys)
        alone[alone] = [refs[index] not in seen_refs for index in np.flatnonzero(alone).tolist()]
        taken_alone = np.flatnonzero(alone)
        seen_refs.update(refs[index] for index in taken_alone.tolist())
        alone_before = np.cumsum(alone) - alone  # per row, the rows taken above it so
        taken: list[int] = []
        made: list[CustomerRecord] = []
        places: list[int] = []  # the place of each record the row path made among the file's records
        for index in np.flatnonzero(~alone).tolist():
            if not good[index] or refs[index] in seen_refs:
                raw = refused[index] if index in refused else record_at(source, file, index)
                record = by_row(transform, report, file.plain.path, raw)
                if record is not None:
                    places.append(int(alone_before[index]) + len(taken) + len(made))
                    made.append(record)
                continue
            seen_refs.add(refs[index])
            taken.append(index)
        taken = np.union1d(taken_alone, np.asarray(taken, dtype=np.int64)).tolist()
        count_dates(context, source, file, transform, taken)
        read.append((_run(source, file, kinds, taken, transform.constants), made, places))
    runs = [_with_row_records(*file_read) for file_read in read]
    whole = joined([run for run in runs if run is not None]) if all(run is not None for run in runs) else None
    if whole is not None:
        return whole
    return [record for by_columns, made, places in read for record in _interleaved(by_columns.records(), made, places)]


def _run(source: Source, file: TypedFile, kinds: pa.Array, taken: list[int], constants: dict[str, Any]) -> RecordRun:
    """The run of a file's rows ``taken`` (every column check passed them)."""
    chosen = pa.array(taken, pa.int64())
    properties = {column.name: column.values.take(chosen) for column in file.typed}
    for name, value in constants.items():
        properties[name] = pa.array([value] * len(taken))
    if file.plain.records is None:
        lines = pa.array(np.asarray(taken, dtype=np.int64) + 2)
    else:
        lines = pa.array([file.plain.line(index) for index in taken], pa.int64())
    return RecordRun(
        source.name,
        source.system,
        source.resolve,
        source.id_prefix,
        file.keys.take(chosen),
        lines,
        kinds.take(chosen),
        pa.table(properties) if properties else pa.table({}).slice(0, 0),
        {kind: values.take(chosen) for kind, values in _identifiers(source, file).items()},
    )


def _alone_in_file(keys: pa.Array) -> np.ndarray:
    """The rows whose key (not null) no other row of the file holds."""
    codes = pc.dictionary_encode(keys).indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=1)
    alone = codes >= 0
    alone[alone] = counts[codes[alone]] == 1
    return alone


def _with_row_records(run: RecordRun, made: list[CustomerRecord], places: list[int]) -> RecordRun | None:
    """The run with the records the row path made put in their places; None when they cannot join it."""
    if not made:
        return run
    made_run = RecordRun.of_records(run.source, run.system, run.mode, run.id_prefix, made)
    both = joined([run, made_run]) if made_run is not None else None
    if both is None:
        return None
    in_columns = np.ones(len(run) + len(made), dtype=bool)
    in_columns[places] = False
    order = np.concatenate([np.flatnonzero(in_columns), np.asarray(places, dtype=np.int64)])
    return both.take(np.argsort(order, kind="stable"))


def _interleaved(
    by_columns: list[CustomerRecord], made: list[CustomerRecord], places: list[int]
) -> list[CustomerRecord]:
    records: list[CustomerRecord] = []
    columns, rows = iter(by_columns), iter(made)
    at = set(places)
    for place in range(len(by_columns) + len(made)):
        records.append(next(rows) if place in at else next(columns))
    return records


def _kinds(source: Source, file: TypedFile) -> tuple[pa.Array, np.ndarray]:
    """Each row's kind (a ``NodeLabel`` value: Person or Company) and the rows whose kind code is not in
    the source's kind map."""
    assert source.node is not None
    count = file.plain.rows_in_bytes
    if source.node is not NodeLabel.CUSTOMER:
        return pa.array([source.node.value] * count, pa.string()), np.zeros(count, dtype=bool)
    kind_map = source.kind_map or {"Person": "Person", "Company": "Company"}

    def kind(code: str) -> str:
        found = kind_map.get(code.strip())
        if found is None:
            raise RowProblem(QuarantineReason.UNKNOWN_CODE, "")  # the row path words the message
        return found

    codes = file.cells.get(source.kind_from or "")
    if codes is None:  # no kind column: every code is empty
        codes = pa.array([""] * count, pa.string())
    values, bad = each_distinct(codes, kind)
    return pc.fill_null(values.cast(pa.string()), NodeLabel.CUSTOMER.value), bad


def _identifiers(source: Source, file: TypedFile) -> dict[ValueType, pa.Array]:
    """Per identifier type, what ``RowTransform`` gives each row: for a personal type the hash of its first
    column holding one, and the first credit code."""
    by_name = {column.name: column.values for column in file.typed}
    found: dict[ValueType, list[pa.Array]] = {}
    for name, column in source.columns.items():
        if column.from_ is None:
            continue
        if column.type in PERSONAL_TYPES and column.map is None:
            found.setdefault(column.type, []).append(by_name[f"{name}_hash"])
        elif column.type is ValueType.CREDIT_CODE:
            found.setdefault(ValueType.CREDIT_CODE, []).append(by_name[name])
    return {
        kind: pc.coalesce(*(values.cast(pa.string()) for values in arrays))
        if len(arrays) > 1
        else arrays[0].cast(pa.string())
        for kind, arrays in found.items()
    }
