"""Entity resolution with the exact merges done as group-bys, and only the records that need the scorer or a
reviewer given to ``loaders.resolve.resolve``.

Most records settle without comparing anything: a record with an ID number is one customer with the
other records of that number, and a ``key_only`` record is a customer of its own. Scoring, splitting
and review concern only some records, and they touch nothing outside a part of the records closed
under the ways records meet: ``resolve`` on that part gives those records what it gives them when it
sees every record. The part (:func:`needs_scoring`) holds

- every record without a usable ID number (``auto``), and every member of each block it falls into
  (the whole block, so that a block too large to compare is as large as on all records);
- every record of an ID number whose records disagree on name or birth date (split and reviewed), or
  that an earlier load's stored record shares;
- the records a reviewer merged;
- and every record of an ID number one of the above carries (they join into one customer).

The other records take the id ``resolve`` would give them: their ID number's customer id, named
after the record with the smallest ref, or ``id_prefix`` + key for ``key_only`` records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow.compute as pc

from loaders.bulk.blocking import RecordColumns, records_to_score, scored_pairs_by_columns
from loaders.resolve import CustomerRecord, PairScorer, Resolved, national_customer_ids, resolve


def resolve_grouped(
    records: list[CustomerRecord],
    *,
    hash_key: bytes,
    forced_merges: Iterable[tuple[str, str]] = (),
    stored: Sequence[CustomerRecord] = (),
    score_pairs: PairScorer = scored_pairs_by_columns,
    **options: Any,
) -> Resolved:
    """What :func:`loaders.resolve.resolve` gives for the same arguments (``options`` are its others),
    scoring only the records that need it, found on columns (``loaders.bulk.blocking``)."""
    forced = list(forced_merges)
    columns = RecordColumns.of(records)
    if columns is None:  # values the columns cannot hold as the records compare them: every record is seen
        return resolve(
            records, hash_key=hash_key, forced_merges=forced, stored=stored, score_pairs=score_pairs, **options
        )
    scored = _needs_scoring(records, columns, forced, stored)
    part = [records[index] for index in scored]
    resolved = resolve(part, hash_key=hash_key, forced_merges=forced, stored=stored, score_pairs=score_pairs, **options)
    customer_ids: list[str | None] = [None] * len(records)
    for index, customer_id in zip(scored.tolist(), resolved.customer_ids, strict=True):
        customer_ids[index] = customer_id
    settled = np.ones(len(records), dtype=bool)
    settled[scored] = False
    for index in np.flatnonzero(settled & ~columns.auto).tolist():
        record = records[index]
        customer_ids[index] = record.id_prefix + record.key
    # The other records: one customer per ID number, named after the number's record with the smallest ref.
    numbers = columns.keys("national")
    numbered = np.flatnonzero(settled & (numbers >= 0))
    ref_rank = np.empty(len(records), dtype=np.int64)
    ref_rank[pc.sort_indices(columns.refs).to_numpy()] = np.arange(len(records))
    numbered = numbered[np.lexsort((ref_rank[numbered], numbers[numbered]))]
    starts = np.flatnonzero(np.diff(numbers[numbered], prepend=-1))
    firsts = numbered[starts]
    ids = national_customer_ids(
        [records[index] for index in firsts.tolist()], columns.national.take(firsts).to_pylist(), hash_key
    )
    bounds = [*starts.tolist(), len(numbered)]
    for start, end, customer_id in zip(bounds[:-1], bounds[1:], ids, strict=True):
        for index in numbered[start:end].tolist():
            customer_ids[index] = customer_id
    return Resolved(
        [customer_id for customer_id in customer_ids if customer_id is not None],
        resolved.review,
        resolved.merges_by_score,
        resolved.stored_customer_ids,
    )


def needs_scoring(
    records: Sequence[CustomerRecord], forced_merges: Iterable[tuple[str, str]], stored: Sequence[CustomerRecord]
) -> list[int]:
    """The indices, in order, of the records ``resolve`` must see (the part described in the module's docstring)."""
    columns = RecordColumns.of(records)
    if columns is None:
        return list(range(len(records)))
    return _needs_scoring(records, columns, list(forced_merges), stored).tolist()


def _needs_scoring(
    records: Sequence[CustomerRecord],
    columns: RecordColumns,
    forced_merges: list[tuple[str, str]],
    stored: Sequence[CustomerRecord],
) -> np.ndarray:
    forced = {ref for pair in forced_merges for ref in pair}
    stored_numbers = {(record.kind, record.national_id) for record in stored if record.national_id}
    return records_to_score(records, columns, forced, stored_numbers)
