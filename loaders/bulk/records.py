"""Customer records kept as columns from reading to the store: one run of columns per customer source.

The column-wise path reads a customer source into Arrow columns; building a ``CustomerRecord`` (a dict of
properties, a dict of identifiers) for each row only to take the columns apart again for resolution and
for the store's tables was most of what the customer path still did per row. :class:`CustomerRecords`
holds the records as runs of columns and makes ``CustomerRecord`` objects only where Python code must see
one: the records entity resolution scores (``loaders.bulk.resolve``), the customers made of several records
when records of earlier loads take part (``loaders.bulk.survivorship``), and a batch that must go to the
store as rows.

A record of a run is exactly the record the row path makes of its row: the run's property columns in the
source's order (a property a source does not name is absent, not null), its identifiers (per type, the
first column holding one), its key, line and kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import NodeLabel
from loaders.bulk.tables import exact_array
from loaders.mapping import ResolveMode, ValueType
from loaders.resolve import CustomerRecord

_NATIONAL = {NodeLabel.PERSON.value: ValueType.RESIDENT_ID, NodeLabel.COMPANY.value: ValueType.CREDIT_CODE}


@dataclass
class RecordRun:
    """The records of one customer source, by column, in the order the row path makes them."""

    source: str
    system: str
    mode: ResolveMode
    id_prefix: str
    keys: pa.Array
    lines: pa.Array
    kinds: pa.Array
    """Each record's label (``NodeLabel`` value)."""
    properties: pa.Table
    identifiers: dict[ValueType, pa.Array]
    """Per identifier type, each record's value (null where it has none)."""

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def of_records(
        cls, source: str, system: str, mode: ResolveMode, id_prefix: str, records: Sequence[CustomerRecord]
    ) -> RecordRun | None:
        """The run of records made as objects (by the row path); None when their properties cannot be held
        as columns exactly (records naming different properties, a property of values of several types)."""
        names = list(records[0].properties) if records else []
        if any(list(record.properties) != names for record in records):
            return None
        columns = {}
        for name in names:
            column = exact_array([record.properties[name] for record in records])
            if column is None:
                return None
            columns[name] = column
        kinds = {kind for record in records for kind in record.identifiers}
        return cls(
            source,
            system,
            mode,
            id_prefix,
            pa.array([record.key for record in records], pa.string()),
            pa.array([record.line for record in records], pa.int64()),
            pa.array([record.kind.value for record in records], pa.string()),
            pa.table(columns) if names else pa.table({}).slice(0, 0),
            {kind: pa.array([record.identifiers.get(kind) for record in records], pa.string()) for kind in kinds},
        )

    def take(self, at: Sequence[int] | np.ndarray) -> RecordRun:
        """The run's records at the positions ``at``, in that order."""
        chosen = pa.array(np.asarray(at, dtype=np.int64))
        properties = self.properties.take(chosen) if self.properties.num_columns else pa.table({}).slice(0, 0)
        return RecordRun(
            self.source,
            self.system,
            self.mode,
            self.id_prefix,
            self.keys.take(chosen),
            self.lines.take(chosen),
            self.kinds.take(chosen),
            properties,
            {kind: values.take(chosen) for kind, values in self.identifiers.items()},
        )

    def slice(self, start: int, stop: int) -> RecordRun:
        """The run's records from ``start`` to ``stop`` (no copy)."""
        length = stop - start
        return RecordRun(
            self.source,
            self.system,
            self.mode,
            self.id_prefix,
            self.keys.slice(start, length),
            self.lines.slice(start, length),
            self.kinds.slice(start, length),
            self.properties.slice(start, length),
            {kind: values.slice(start, length) for kind, values in self.identifiers.items()},
        )

    def records(self) -> list[CustomerRecord]:
        """The run's records as objects."""
        count = len(self)
        properties = self.properties.to_pylist() if self.properties.num_columns else [{} for _ in range(count)]
        identifiers: list[dict[ValueType, str]] = [{} for _ in range(count)]
        for kind, values in self.identifiers.items():
            for row, value in zip(identifiers, values.to_pylist(), strict=True):
                if value is not None:
                    row[kind] = value
        return [
            CustomerRecord(
                source=self.source,
                system=self.system,
                key=key,
                line=line,
                kind=NodeLabel(kind),
                properties=row,
                identifiers=found,
                mode=self.mode,
                id_prefix=self.id_prefix,
            )
            for key, line, kind, row, found in zip(
                self.keys.to_pylist(),
                self.lines.to_pylist(),
                self.kinds.to_pylist(),
                properties,
                identifiers,
                strict=True,
            )
        ]

    def column(self, name: str) -> pa.Array:
        """A property's column; nulls where the source does not name it."""
        if name in self.properties.column_names:
            return self.properties.column(name).combine_chunks()
        return pa.nulls(len(self))

    @property
    def refs(self) -> pa.Array:
        """Each record's ref (``system:key``)."""
        return pc.binary_join_element_wise(pa.scalar(f"{self.system}:"), self.keys, "")

    @property
    def national(self) -> pa.Array:
        """Each record's ID number (the resident id's hash for persons, the credit code for companies) or null."""
        found = pa.nulls(len(self), pa.string())
        for kind, number_type in _NATIONAL.items():
            numbers = self.identifiers.get(number_type)
            if numbers is not None:
                found = pc.if_else(pc.equal(self.kinds, kind), numbers, found)
        return pc.if_else(pc.equal(found, ""), pa.scalar(None, pa.string()), found)


def joined(parts: Sequence[RecordRun]) -> RecordRun | None:
    """Runs of one source (files, rows the row path made) as one run; None when their columns differ in
    names or in type (a column of nulls only takes the type of the others)."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return None
    first = parts[0]
    names = first.properties.column_names
    if any(part.properties.column_names != names for part in parts):
        return None
    columns = {}
    for name in names:
        arrays = [part.properties.column(name).combine_chunks() for part in parts]
        types = {array.type for array in arrays if not pa.types.is_null(array.type)}
        if len(types) > 1:
            return None
        kind = types.pop() if types else pa.null()
        columns[name] = pa.concat_arrays([array.cast(kind) for array in arrays])
    kinds = {kind for part in parts for kind in part.identifiers}
    return RecordRun(
        first.source,
        first.system,
        first.mode,
        first.id_prefix,
        pa.concat_arrays([part.keys for part in parts]),
        pa.concat_arrays([part.lines for part in parts]),
        pa.concat_arrays([part.kinds for part in parts]),
        pa.table(columns) if names else pa.table({}).slice(0, 0),
        {
            kind: pa.concat_arrays([part.identifiers.get(kind, pa.nulls(len(part), pa.string())) for part in parts])
            for kind in kinds
        },
    )


class CustomerRecords(Sequence[CustomerRecord]):
    """Records of several customer sources, run after run, as one sequence: a record is made as an object
    only when asked for (:meth:`take`, indexing)."""

    def __init__(self, runs: Sequence[RecordRun]) -> None:
        self.runs = [run for run in runs if len(run)]
        self.starts = np.cumsum([0, *(len(run) for run in self.runs)])

    def __len__(self) -> int:
        return int(self.starts[-1])

    @overload
    def __getitem__(self, index: int) -> CustomerRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[CustomerRecord]: ...
    def __getitem__(self, index: int | slice) -> CustomerRecord | list[CustomerRecord]:
        if isinstance(index, slice):
            return self.take(range(len(self))[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.take([index])[0]

    def __iter__(self) -> Iterator[CustomerRecord]:
        for run in self.runs:
            yield from run.records()

    def take(self, at: Sequence[int] | np.ndarray) -> list[CustomerRecord]:
        """The records at the positions ``at``, in that order, as objects."""
        positions = np.asarray(at, dtype=np.int64)
        found: list[Any] = [None] * len(positions)
        run_of = np.searchsorted(self.starts, positions, side="right") - 1
        for number in np.unique(run_of).tolist():
            chosen = np.flatnonzero(run_of == number)
            records = self.runs[number].take(positions[chosen] - self.starts[number]).records()
            for place, record in zip(chosen.tolist(), records, strict=True):
                found[place] = record
        return found

    def column(self, name: str) -> pa.Array | None:
        """A property's values over every record (null where a record's source does not name it); None when
        the sources hold it as values of different types."""
        return _concat([run.column(name) for run in self.runs])

    def each(self, name: str) -> pa.Array:
        """A per-record column of the runs (``keys``, ``lines``, ``kinds``, ``refs``, ``national``), all records."""
        if not self.runs:
            return pa.array([], pa.int64() if name == "lines" else pa.string())
        found = _concat([getattr(run, name) for run in self.runs])
        assert found is not None  # one type in every run
        return found

    def identifiers(self, kind: ValueType) -> pa.Array:
        """Every record's identifier of a type, or null."""
        found = _concat([run.identifiers.get(kind, pa.nulls(len(run), pa.string())) for run in self.runs])
        assert found is not None
        return found.cast(pa.string())

    def per_run(self, values: Sequence[Any], arrow_type: pa.DataType) -> pa.Array:
        """One value per run repeated over its records."""
        counts = np.diff(self.starts)
        codes = np.repeat(np.arange(len(self.runs)), counts)
        return pa.array(list(values), arrow_type).take(pa.array(codes))


def _concat(arrays: list[pa.Array]) -> pa.Array | None:
    """The arrays as one; None when they hold values of several types (a column of nulls takes any)."""
    types = {array.type for array in arrays if not pa.types.is_null(array.type)}
    if len(types) > 1:
        return None
    kind = types.pop() if types else pa.null()
    return pa.concat_arrays([array.cast(kind) for array in arrays]) if arrays else pa.nulls(0)
