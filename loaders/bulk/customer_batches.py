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
from loaders.bulk.survivorship import Combined, ObjectCombined, combined_by_columns
from loaders.bulk.tables import IsNew, Tables
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
    combined: Combined
    """The properties of the customers made of several records."""

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
        customers: dict[int, dict[str, Any] | None] = {}
        for index in self.makers.tolist():
            customer_id = self.customer_ids[index]
            customers[index] = self.combined.properties(customer_id) if customer_id in self.combined else None
        return self.run.records(), self.customer_ids, customers

    def tables(self, is_new: IsNew) -> Tables | None:
        """``CustomerBatch.tables`` of the same batch: the tables, or None when it must go as rows."""
        run, makers = self.run, self.makers
        kinds = run.kinds.take(pa.array(makers, pa.int64()))
        if pc.any(pc.equal(kinds, NodeLabel.CUSTOMER.value)).as_py():
            return None  # a customer of no kind keeps the kind held: rows know how
        ids = [self.customer_ids[index] for index in makers.tolist()]
        plain = np.array([customer_id not in self.combined for customer_id in ids], dtype=bool)
        combined_ids = [customer_id for customer_id, is_plain in zip(ids, plain.tolist(), strict=True) if not is_plain]
        own = tuple(run.properties.column_names)
        shapes: list[tuple[str, ...]] = [own] * len(ids)
        named = np.full(len(ids), len(own) + len(NO_ALIASES))
        for place, customer_id in zip(np.flatnonzero(~plain).tolist(), combined_ids, strict=True):
            shapes[place] = self.combined.shape(customer_id)
            named[place] = len(shapes[place])
        # The names in the order they first appear (the first plain maker's, then each combined maker's).
        firsts = sorted({*np.flatnonzero(plain)[:1].tolist(), *np.flatnonzero(~plain).tolist()})
        # (Each distinct shape once: a repeated one adds no name, and the makers share a few shapes.)
        names = dict.fromkeys(name for shape in dict.fromkeys(shapes[place] for place in firsts) for name in shape)
        names.update(NO_ALIASES)
        for place in np.flatnonzero(named != len(names)).tolist():
            if not is_new(NodeLabel.CUSTOMER, ids[place]):
                return None  # it would remove what the row leaves alone
        plain_at = pa.array(makers[plain], pa.int64())
        # Rows of plain makers first, then combined ones; put back into the makers' order.
        order = pa.array(np.argsort(np.concatenate([np.flatnonzero(plain), np.flatnonzero(~plain)]), kind="stable"))
        columns: dict[str, pa.Array] = {"id": pa.array(ids, pa.string()), "kind": kinds.cast(pa.string())}
        combined = self.combined.values(combined_ids, names)
        for name in names:
            held = run.column(name).take(plain_at) if name in own else pa.nulls(len(plain_at))
            values = _joined(held, combined[name])
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
            kept = _joined(run.column(name), pa.nulls(0))
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
    before = np.array([len((earlier or {}).get(customer_id, ())) for customer_id in distinct], dtype=np.int64)
    at = np.flatnonzero((counts + before > 1)[codes])
    combined = _combined(records, customer_ids, at, ranks or {}, earlier or {}) if len(at) else ObjectCombined({})
    first = np.zeros(len(customer_ids), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    batches: list[RecordBatch] = []
    for number, run in enumerate(records.runs):
        run_start = int(records.starts[number])
        for start in range(0, len(run), batch_size):
            stop = min(start + batch_size, len(run))
            low, high = run_start + start, run_start + stop
            makers = np.flatnonzero(first[low:high])
            batches.append(RecordBatch(run.slice(start, stop), customer_ids[low:high], makers, combined))
    return batches


def _combined(
    records: CustomerRecords,
    customer_ids: list[str],
    at: np.ndarray,
    ranks: Mapping[str, int],
    earlier: Mapping[str, list[CustomerRecord]],
) -> Combined:
    """The customers of the records ``at`` combined: by column, unless records of earlier loads take part
    (they are objects) or the columns cannot hold a property."""
    if not any(customer_ids[index] in earlier for index in at.tolist()):
        by_columns = combined_by_columns(records, customer_ids, at, ranks)
        if by_columns is not None:
            return by_columns
    members: dict[str, list[CustomerRecord]] = defaultdict(list)
    for index, record in zip(at.tolist(), records.take(at), strict=True):
        customer_id = customer_ids[index]
        if customer_id not in members and customer_id in earlier:
            members[customer_id].extend(earlier[customer_id])
        members[customer_id].append(record)
    return ObjectCombined(combined_customers(members, ranks))


def _joined(held: pa.Array, taken: pa.Array | None) -> pa.Array | None:
    """A column of ``held`` then ``taken`` (both typed as they were read) as the one array
    ``loaders.bulk.tables.arrow_column`` makes of all their values as Python values; None where it makes None."""
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
