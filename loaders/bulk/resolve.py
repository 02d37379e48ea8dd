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
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import NodeLabel
from loaders.bulk.blocking import RecordColumns, records_to_score, scored_on_columns, scored_pairs_by_columns
from loaders.bulk.records import CustomerRecords
from loaders.matching import PairScorer, ScoredPair
from loaders.resolve import CustomerRecord, Resolved, national_ids_of, resolve


def resolve_grouped(
    records: Sequence[CustomerRecord],
    *,
    hash_key: bytes,
    forced_merges: Iterable[tuple[str, str]] = (),
    stored: Sequence[CustomerRecord] = (),
    score_pairs: PairScorer = scored_pairs_by_columns,
    **options: Any,
) -> Resolved:
    """What :func:`loaders.resolve.resolve` gives for the same arguments (``options`` are its others),
    scoring only the records that need it, found on columns (``loaders.bulk.blocking``). Records held as
    columns (:class:`loaders.bulk.records.CustomerRecords`) are made as objects only for that part."""
    forced = list(forced_merges)
    columns = RecordColumns.of(records)
    if columns is None:  # values the columns cannot hold as the records compare them: every record is seen
        return resolve(
            list(records), hash_key=hash_key, forced_merges=forced, stored=stored, score_pairs=score_pairs, **options
        )
    if score_pairs is scored_pairs_by_columns:
        # Scored on every record's columns once: the part is then the records of the pairs kept, not their
        # whole blocks (which grow with the bank, and the pairs in them with the square of their size).
        left, right, probabilities = scored_on_columns(columns, options["review_above"])
        scored = _needs_scoring(columns, forced, stored, np.concatenate([left, right]))
        score_pairs = _pairs_of_part(scored, left, right, probabilities)
    else:
        scored = _needs_scoring(columns, forced, stored)
    part = records.take(scored) if isinstance(records, CustomerRecords) else [records[index] for index in scored]
    resolved = resolve(part, hash_key=hash_key, forced_merges=forced, stored=stored, score_pairs=score_pairs, **options)
    customer_ids = np.full(len(records), None, dtype=object)
    customer_ids[scored] = resolved.customer_ids
    settled = np.ones(len(records), dtype=bool)
    settled[scored] = False
    own = np.flatnonzero(settled & ~columns.auto)
    customer_ids[own] = _at(columns.values("key_id"), own)
    # The other records: one customer per ID number, named after the number's record with the smallest ref.
    numbers = columns.keys("national")
    numbered = np.flatnonzero(settled & (numbers >= 0))
    ref_rank = np.empty(len(records), dtype=np.int64)
    ref_rank[pc.sort_indices(columns.refs).to_numpy()] = np.arange(len(records))
    numbered = numbered[np.lexsort((ref_rank[numbered], numbers[numbered]))]
    starts = np.flatnonzero(np.diff(numbers[numbered], prepend=-1))
    firsts = numbered[starts]
    ids = national_ids_of(
        [_LABELS[kind] for kind in _at(columns.values("kind"), firsts)],
        _at(columns.values("prefix"), firsts),
        columns.national.take(pa.array(firsts, pa.int64())).to_pylist(),
        hash_key,
    )
    sizes = np.diff([*starts.tolist(), len(numbered)])
    customer_ids[numbered] = np.repeat(np.array(ids, dtype=object), sizes)
    return Resolved(
        [customer_id for customer_id in customer_ids.tolist() if customer_id is not None],
        resolved.review,
        resolved.merges_by_score,
        resolved.stored_customer_ids,
    )


_LABELS = {label.value: label for label in NodeLabel}
"""Labels by value: an enum's call is several times slower than a dictionary's look-up, once per ID number."""


def _pairs_of_part(part: np.ndarray, left: np.ndarray, right: np.ndarray, probabilities: np.ndarray) -> PairScorer:
    """A scorer giving the pairs scored on all the records (``left``, ``right``: their indices) by their
    records' places in ``part`` (sorted indices holding every record of these pairs), in the same order."""
    lefts, rights = np.searchsorted(part, left).tolist(), np.searchsorted(part, right).tolist()
    pairs = [ScoredPair(a, b, p) for a, b, p in zip(lefts, rights, probabilities.tolist(), strict=True)]

    def scored(records: Sequence[CustomerRecord], review_above: float) -> list[ScoredPair]:
        assert len(records) == len(part)
        return [pair for pair in pairs if pair.probability >= review_above]

    return scored


def _at(values: pa.Array | list[Any], at: np.ndarray) -> list[Any]:
    """A column's values at the positions ``at``."""
    if isinstance(values, pa.Array):
        return values.take(pa.array(at, pa.int64())).to_pylist()
    return [values[index] for index in at.tolist()]


def needs_scoring(
    records: Sequence[CustomerRecord], forced_merges: Iterable[tuple[str, str]], stored: Sequence[CustomerRecord]
) -> list[int]:
    """The indices, in order, of the records ``resolve`` must see (the part described in the module's docstring)."""
    columns = RecordColumns.of(records)
    if columns is None:
        return list(range(len(records)))
    return _needs_scoring(columns, list(forced_merges), stored).tolist()


def _needs_scoring(
    columns: RecordColumns,
    forced_merges: list[tuple[str, str]],
    stored: Sequence[CustomerRecord],
    paired: np.ndarray | None = None,
) -> np.ndarray:
    forced = {ref for pair in forced_merges for ref in pair}
    stored_numbers = {(record.kind, record.national_id) for record in stored if record.national_id}
    return records_to_score(columns, forced, stored_numbers, paired)
