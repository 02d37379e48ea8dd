"""Resolved customer records held as columns (:class:`loaders.bulk.records.CustomerRecords`) cut into the
store's writes and made into its tables column by column.

The batches are ``loaders.customers.customer_batches``'s, the tables ``CustomerBatch.tables``'s, for the same
records: one source per batch, each customer written in the batch of its first record, a customer made of
several records (this load's or earlier ones') combined by the survivorship rule. Only those customers'
records are made as objects (for ``loaders.survivorship.combine``); a customer of one record is its record's
columns. A batch whose tables would not write what its rows write (see :mod:`loaders.bulk.tables`) is
given back as objects for the row path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import NodeLabel, TieType
from loaders.bulk.records import CustomerRecords, RecordRun
from loaders.bulk.tables import IsNew, Tables, exact_array
from loaders.resolve import CustomerRecord
from loaders.survivorship import KEPT_FIELDS, NO_ALIASES, combined_customers

_PLAIN = {pa.string(), pa.bool_(), pa.int64(), pa.float64()}
"""The Arrow types ``loaders.bulk.tables.arrow_column`` makes of Python values (and the items of lists)."""


@dataclass
class RecordBatch:
    """One atomic write of customer records of one source (``loaders.customers.CustomerBatch``), by column."""

    run: RecordRun
    """The batch's records."""
    customer_ids: list[str]
    makers: np.ndarray
    """The records (positions in the batch) that make their customer's node."""
    combined: dict[int, dict[str, Any]]
    """The makers whose customer is combined from several records: its properties."""

    @property
    def source(self) -> str:
        return self.run.source

    @property
    def rows(self) -> int:
        return len(self.run)

    @property
    def loaded(self) -> int:
        return len(self.makers)

    @property
    def merged(self) -> int:
        return self.rows - self.loaded

    def as_objects(self) -> tuple[list[CustomerRecord], list[str], dict[int, dict[str, Any] | None]]:
        """The batch as ``CustomerBatch`` holds it: its records, their customers, the makers' combined properties."""
        customers: dict[int, dict[str, Any] | None] = {
            index: self.combined.get(index) for index in self.makers.tolist()
        }
        return self.run.records(), self.customer_ids, customers

    def tables(self, is_new: IsNew) -> Tables | None:
        """``CustomerBatch.tables`` of the same batch: the tables, or None when it must go as rows."""
        run, makers = self.run, self.makers
        kinds = run.kinds.take(pa.array(makers, pa.int64()))
        if pc.any(pc.equal(kinds, NodeLabel.CUSTOMER.value)).as_py():
            return None  # a customer of no kind keeps the kind held: rows know how
        ids = [self.customer_ids[index] for index in makers.tolist()]
        plain = np.array([index not in self.combined for index in makers.tolist()], dtype=bool)
        own = run.properties.column_names
        names = _names(own, plain, [self.combined[index] for index in makers.tolist() if index in self.combined])
        names.update(NO_ALIASES)
        named = [
            len(own) + len(NO_ALIASES) if is_plain else len(self.combined[index])
            for index, is_plain in zip(makers.tolist(), plain.tolist(), strict=True)
        ]
        for count, customer_id in zip(named, ids, strict=True):
            if count != len(names) and not is_new(NodeLabel.CUSTOMER, customer_id):
                return None  # it would remove what the row leaves alone
        plain_at = pa.array(makers[plain], pa.int64())
        combined_rows = [self.combined[index] for index in makers[~plain].tolist()]
        # Rows of plain makers first, then combined ones; put back into the makers' order.
        order = pa.array(np.argsort(np.concatenate([np.flatnonzero(plain), np.flatnonzero(~plain)]), kind="stable"))
        columns: dict[str, pa.Array] = {
            "id": pa.array(ids, pa.string()),
            "kind": kinds.cast(pa.string()),
        }
        for name in names:
            held = run.column(name).take(plain_at) if name in own else pa.nulls(len(plain_at))
            values = _joined(held, [row.get(name) for row in combined_rows])
            if values is None:
                return None
            columns[name] = values.take(order)
        refs = run.refs
        lineage: dict[str, pa.Array] = {
            "id": refs,
            "kind": pa.array([NodeLabel.SOURCE_RECORD.value] * len(run), pa.string()),
            "system": pa.array([run.system] * len(run), pa.string()),
            "source": pa.array([run.source] * len(run), pa.string()),
            "line": run.lines,
        }
        for name in KEPT_FIELDS:
            kept = _joined(run.column(name), [])
            if kept is None:
                return None
            lineage[name] = kept
        ties = pa.table({"source": pa.array(self.customer_ids, pa.string()), "target": refs})
        nodes = {NodeLabel.CUSTOMER: pa.table(columns), NodeLabel.SOURCE_RECORD: pa.table(lineage)}
        return {label: table for label, table in nodes.items() if table.num_rows}, {TieType.FROM_SOURCE: ties}


def record_batches(
    records: CustomerRecords,
    customer_ids: list[str],
    batch_size: int,
    ranks: Mapping[str, int] | None = None,
    earlier: Mapping[str, list[CustomerRecord]] | None = None,
) -> list[RecordBatch]:
    """``loaders.customers.customer_batches`` of records held as columns. Pure."""
    encoded = pc.dictionary_encode(pa.array(customer_ids, pa.string()))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    distinct = encoded.dictionary.to_pylist()
    counts = np.bincount(codes, minlength=len(distinct))
    code_of = {customer_id: code for code, customer_id in enumerate(distinct)}
    before = np.zeros(len(distinct), dtype=np.int64)
    for customer_id, kept in (earlier or {}).items():
        if customer_id in code_of:
            before[code_of[customer_id]] = len(kept)
    several = counts + before > 1
    # Customers of several records: their records as objects, in order, after their earlier ones.
    members: dict[str, list[CustomerRecord]] = defaultdict(list)
    at = np.flatnonzero(several[codes])
    for index, record in zip(at.tolist(), records.take(at), strict=True):
        customer_id = customer_ids[index]
        if customer_id not in members and earlier and customer_id in earlier:
            members[customer_id].extend(earlier[customer_id])
        members[customer_id].append(record)
    combined = combined_customers(members, ranks or {})
    first = np.zeros(len(customer_ids), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    batches: list[RecordBatch] = []
    for number, run in enumerate(records.runs):
        run_start = int(records.starts[number])
        for start in range(0, len(run), batch_size):
            stop = min(start + batch_size, len(run))
            low, high = run_start + start, run_start + stop
            makers = np.flatnonzero(first[low:high])
            ids = customer_ids[low:high]
            batch_combined = {index: combined[ids[index]] for index in makers.tolist() if ids[index] in combined}
            batches.append(RecordBatch(run.slice(start, stop), ids, makers, batch_combined))
    return batches


def _names(own: list[str], plain: np.ndarray, combined: list[dict[str, Any]]) -> dict[str, None]:
    """The property names of the makers' rows, in the order they first appear (``CustomerBatch.tables``)."""
    shapes: list[tuple[str, ...]] = []
    combined_rows = iter(combined)
    own_shape = tuple(own)
    for is_plain in plain.tolist():
        shapes.append(own_shape if is_plain else tuple(next(combined_rows)))
    return dict.fromkeys(name for shape in dict.fromkeys(shapes) for name in shape)


def _joined(held: pa.Array, values: list[Any]) -> pa.Array | None:
    """A column of ``held`` (a run's typed values) then ``values`` (Python values), as the one array
    ``loaders.bulk.tables.arrow_column`` makes of all of them as Python values; None where it makes None."""
    taken = exact_array(values)
    if taken is None:
        return None
    parts = [part for part in (held, taken) if part.null_count < len(part)]
    types = {part.type for part in parts}
    if len(types) > 1:  # lists without items (no item type) join lists of one
        types -= {pa.list_(pa.null())}
    if len(types) > 1:
        return None
    if not types:
        return pa.nulls(len(held) + len(taken))
    kind = types.pop()
    item = kind.value_type if pa.types.is_list(kind) else kind
    if item not in _PLAIN:
        return None
    joined = pa.concat_arrays([part.cast(kind) for part in (held, taken)])
    if pa.types.is_list(kind) and len(pc.list_flatten(joined)) == 0:
        return None  # lists without a single item: their item type is unknown
    return joined
