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

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from loaders.mapping import ResolveMode
from loaders.resolve import CustomerRecord, Resolved, block_keys, conflict_name, national_customer_ids, resolve


def resolve_grouped(
    records: list[CustomerRecord],
    *,
    hash_key: bytes,
    forced_merges: Iterable[tuple[str, str]] = (),
    stored: Sequence[CustomerRecord] = (),
    **options: Any,
) -> Resolved:
    """What :func:`loaders.resolve.resolve` gives for the same arguments (``options`` are its others),
    scoring only the records that need it."""
    forced = list(forced_merges)
    scored = needs_scoring(records, forced, stored)
    part = [records[index] for index in scored]
    resolved = resolve(part, hash_key=hash_key, forced_merges=forced, stored=stored, **options)
    customer_ids: list[str | None] = [None] * len(records)
    for index, customer_id in zip(scored, resolved.customer_ids, strict=True):
        customer_ids[index] = customer_id
    by_number: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if customer_ids[index] is not None:
            continue
        if record.mode is ResolveMode.KEY_ONLY:
            customer_ids[index] = record.id_prefix + record.key
        else:
            assert record.national_id is not None, "a record without an ID number is scored"
            by_number[(record.kind.value, record.national_id)].append(index)
    firsts = [min((records[index] for index in group), key=lambda record: record.ref) for group in by_number.values()]
    numbers = [number for _, number in by_number]
    for group, customer_id in zip(by_number.values(), national_customer_ids(firsts, numbers, hash_key), strict=True):
        for index in group:
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
    auto = [record.mode is ResolveMode.AUTO for record in records]
    lacking = [index for index, record in enumerate(records) if auto[index] and not record.national_id]
    chosen = set(lacking)
    if lacking:
        wanted = {key for index in lacking for key in block_keys(records[index])}
        members: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for index, record in enumerate(records):
            if auto[index]:
                for key in block_keys(record):
                    if key in wanted:
                        members[key].append(index)
        for block in members.values():
            chosen.update(block)
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if auto[index] and record.national_id:
            numbers[(record.kind.value, record.national_id)].append(index)
    shared = {(record.kind.value, record.national_id) for record in stored if record.national_id}
    for number, group in numbers.items():
        if number in shared or (len(group) > 1 and _disagree(records, group)):
            chosen.update(group)
    refs = {ref for pair in forced_merges for ref in pair}
    chosen.update(index for index, record in enumerate(records) if record.ref in refs)
    for index in list(chosen):
        record = records[index]
        if auto[index] and record.national_id:
            chosen.update(numbers[(record.kind.value, record.national_id)])
    return sorted(chosen)


def _disagree(records: Sequence[CustomerRecord], group: list[int]) -> bool:
    """Whether two records of one ID number disagree on name or birth date (both holding one)."""
    names = {conflict_name(records[index].properties.get("name")) for index in group} - {""}
    births = {birth for index in group if (birth := records[index].properties.get("birth_date"))}
    return len(names) > 1 or len(births) > 1
