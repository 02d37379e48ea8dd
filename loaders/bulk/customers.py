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

from graph.model import NodeLabel
from loaders.bulk.cells import each_distinct
from loaders.bulk.sources import TypedFile, count_dates, prepare_files, record_at, start_report
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
) -> list[CustomerRecord] | str:
    """The records of a customer source read column-wise, in file order; or why the source cannot be
    read so (nothing read, nothing quarantined). ``seen_refs`` holds the refs of the records before it."""
    prepared = prepare_files(context, source, files)
    if isinstance(prepared, str):
        return prepared
    report = start_report(context, source, files, prepared, "customers")
    transform = context.row_transform(source)
    constants = transform.constants
    records: list[CustomerRecord] = []
    for file in prepared:
        kinds, kind_bad = _kinds(source, file)
        good = file.good & ~kind_bad
        properties = pa.table({column.name: column.values for column in file.typed}).to_pylist()
        identifiers = _identifiers(source, file)
        keys = file.keys.to_pylist()
        taken: list[int] = []
        for index, key in enumerate(keys):
            ref = f"{source.system}:{key}"
            if not good[index] or ref in seen_refs:
                record = by_row(transform, report, file.plain.path, record_at(source, file, index))
                if record is not None:
                    records.append(record)
                continue
            seen_refs.add(ref)
            taken.append(index)
            row = properties[index]
            if constants:
                row.update(constants)
            records.append(
                CustomerRecord(
                    source=source.name,
                    system=source.system,
                    key=key,
                    line=file.plain.line(index),
                    kind=kinds[index],
                    properties=row,
                    identifiers=identifiers[index],
                    mode=source.resolve,
                    id_prefix=source.id_prefix,
                )
            )
        count_dates(context, source, file, transform, taken)
    return records


def _kinds(source: Source, file: TypedFile) -> tuple[list[NodeLabel], np.ndarray]:
    """Each row's kind (Person or Company) and the rows whose kind code is not in the source's kind map."""
    assert source.node is not None
    count = file.plain.rows_in_bytes
    if source.node is not NodeLabel.CUSTOMER:
        return [source.node] * count, np.zeros(count, dtype=bool)
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
    return [NodeLabel(code) if code is not None else NodeLabel.CUSTOMER for code in values.to_pylist()], bad


def _identifiers(source: Source, file: TypedFile) -> list[dict[ValueType, str]]:
    """Per row, what ``RowTransform`` gives as its identifiers: per personal type the hash of its first
    column holding one, and the first credit code."""
    by_name = {column.name: column.values for column in file.typed}
    found: list[tuple[ValueType, list[Any]]] = []
    for name, column in source.columns.items():
        if column.from_ is None:
            continue
        if column.type in PERSONAL_TYPES and column.map is None:
            found.append((column.type, by_name[f"{name}_hash"].to_pylist()))
        elif column.type is ValueType.CREDIT_CODE:
            found.append((ValueType.CREDIT_CODE, by_name[name].to_pylist()))
    rows: list[dict[ValueType, str]] = [{} for _ in range(file.plain.rows_in_bytes)]
    for kind, values in found:
        for row, value in zip(rows, values, strict=True):
            if value is not None:
                row.setdefault(kind, value)
    return rows
