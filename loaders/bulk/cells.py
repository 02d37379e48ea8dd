"""Typed columns from text columns: each distinct cell read once by the row path's own transform.

A bank's columns hold few distinct values for most of their cells (dates, codes, branches, amounts
repeat), so a column is dictionary-encoded and the row path's cell transform (``loaders.transform``)
runs once per distinct text; the results are then taken for every row by index (Arrow, in C++). The
typed values are the row path's by construction, whatever the type; only the per-cell Python call is
saved. A distinct text the transform refuses marks its rows bad: the bulk path hands those rows to the
row path, which words the quarantine message (the first problem in column order) as it always does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.identifiers import to_half_width
from loaders.mapping import PERSONAL_TYPES, Column, ValueType
from loaders.quarantine import QuarantineReason
from loaders.transform import PLAUSIBLE_YEARS, RowProblem, cell_transform, personal_values

_REFUSED = object()


@dataclass(frozen=True)
class TypedColumn:
    """One property column: its values (null for bad rows and empty cells) and which rows it refuses."""

    name: str
    values: pa.Array
    bad: np.ndarray


def each_distinct(cells: pa.Array, read: Callable[[str], Any]) -> tuple[pa.Array, np.ndarray]:
    """``read`` applied to every distinct cell once and taken for every row; rows where it raised
    :class:`RowProblem` are marked in the returned mask (their value is null)."""
    results, indices, bad = _distinct(cells, read)
    return _taken(results, indices), bad


def _distinct(cells: pa.Array, read: Callable[[str], Any]) -> tuple[list[Any], pa.Array, np.ndarray]:
    """The results of ``read`` per distinct cell (None where refused), each row's index into them, and
    the rows refused."""
    encoded = pc.dictionary_encode(cells)
    results: list[Any] = []
    refused: list[bool] = []
    for text in encoded.dictionary.to_pylist():
        try:
            results.append(read(text))
            refused.append(False)
        except RowProblem:
            results.append(None)
            refused.append(True)
    indices = encoded.indices
    return results, indices, np.array(refused, dtype=bool)[indices.to_numpy(zero_copy_only=False)]


def _taken(results: list[Any], indices: pa.Array) -> pa.Array:
    return pa.array(results).take(indices)


def without_nulls(cells: pa.Array, null_values: Iterable[str]) -> pa.Array:
    """Cells equal (trimmed) to one of a source's null markers made empty, as the row path reads them."""
    nulls = frozenset(null_values)
    if not nulls:
        return cells
    values, _ = each_distinct(cells, lambda text: "" if text.strip() in nulls else text)
    return values


def typed_columns(
    columns: dict[str, Column], cells: dict[str, pa.Array], hash_key: bytes, today: date | None
) -> list[TypedColumn]:
    """Every property of the source's mapping, in the row path's order (a personal column gives two:
    ``<name>_hash`` and ``<name>_masked``); constant columns are left to the caller."""
    typed: list[TypedColumn] = []
    for name, column in columns.items():
        if column.from_ is None:
            continue
        raw = cells[column.from_]
        if column.type in PERSONAL_TYPES and column.map is None:
            pairs, indices, bad = _distinct(raw, _personal_reader(column, hash_key, today))
            hashes = _taken([pair[0] if pair else None for pair in pairs], indices)
            masks = _taken([pair[1] if pair else None for pair in pairs], indices)
            typed += [TypedColumn(f"{name}_hash", hashes, bad), TypedColumn(f"{name}_masked", masks, bad)]
            continue
        if column.type is ValueType.CREDIT_CODE:
            column = column.model_copy(update={"half_width": True})
        values, bad = each_distinct(raw, cell_transform(column, today=today))
        typed.append(TypedColumn(name, values, bad))
    return typed


def _personal_reader(column: Column, hash_key: bytes, today: date | None) -> Callable[[str], Any]:
    nulls = frozenset(column.null_values or ())
    required, kind = column.required, column.type

    def read(raw: str) -> tuple[str, str] | None:
        text = to_half_width(raw).strip()
        if not text or text in nulls:
            if required:
                raise RowProblem(QuarantineReason.MISSING_VALUE, "required value is empty")
            return None
        return personal_values(kind, text, hash_key, today=today)

    return read


def date_counts(
    columns: dict[str, Column], typed: list[TypedColumn], rows: np.ndarray, today: date
) -> tuple[dict[str, int], dict[str, int]]:
    """Per date property, how many of ``rows`` (a mask) hold a date after ``today`` (unless expected) and
    how many one over :data:`PLAUSIBLE_YEARS` back: the row path's warnings, counted on whole columns."""
    latest = today.isoformat()
    earliest = today.replace(year=today.year - PLAUSIBLE_YEARS, day=min(today.day, 28)).isoformat()
    future: dict[str, int] = {}
    ancient: dict[str, int] = {}
    by_name = {column.name: column for column in typed}
    for name, column in columns.items():
        dated = column.type in (ValueType.DATE, ValueType.DATETIME) and column.map is None
        if column.from_ is None or not dated:
            continue
        days = pc.utf8_slice_codeunits(by_name[name].values, 0, 10).to_numpy(zero_copy_only=False)[rows]
        present = days[days != None]  # noqa: E711 (an object array: elementwise comparison)
        after = int((present > latest).sum()) if not column.expect_future else 0
        before = int((present < earliest).sum())
        if after:
            future[name] = after
        if before:
            ancient[name] = before
    return future, ancient
