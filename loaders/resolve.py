"""Entity resolution: which source records are the same customer.

1. Records with the same resident ID (persons) or unified social credit code (companies) are one
   customer, whatever system they come from. Its id is derived from the keyed hash of that ID
   (``P…`` / ``C…``), so a reload or a load in another order gives the same id. Unless they disagree
   on name or birth date: then the ID alone does not decide. The records are split into parts that
   agree; the part holding the record the store already knows under that id (else the part of the
   record that survives by ``loaders.survivorship``) keeps the id, each other part becomes a customer
   of its own, and every such pair goes to the review list, where a person merges or separates them.
2. Records without a usable ID are compared with a small Fellegi-Sunter scorer on name, birth date,
   phone hash and address. Candidate pairs come from blocking on (kind, birth date and the name's first
   character), (kind, phone hash) and (kind, name and the birth date's month and day); pairs scoring at
   least ``merge_above`` merge, pairs from ``review_above`` go to the review list (``loaders.review``), the
   rest stay apart. Two records with different valid IDs never merge, whatever their score.
3. Sources with ``resolve: key_only`` skip both steps: every record is its own customer ``id_prefix`` + key.

The comparisons, their weights and the blocking: :mod:`loaders.matching`.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from graph.model import NodeLabel
from loaders.identifiers import keyed_hash, keyed_hashes
from loaders.mapping import ResolveMode, ValueType
from loaders.matching import PairScorer, ScoredPair, match_probability, normalise_text, scored_pairs
from loaders.survivorship import source_ranks, survivor_order


@dataclass(frozen=True)
class CustomerRecord:
    """One source record of a customer, as entity resolution sees it."""

    source: str
    system: str
    key: str
    line: int
    kind: NodeLabel  # PERSON or COMPANY
    properties: dict[str, Any]
    identifiers: dict[ValueType, str] = field(default_factory=dict)
    mode: ResolveMode = ResolveMode.AUTO
    id_prefix: str = ""

    @property
    def ref(self) -> str:
        """The record's id as a SourceRecord node: ``<system>:<key>``."""
        return f"{self.system}:{self.key}"

    @property
    def national_id_type(self) -> ValueType:
        """The identifier that makes records one customer: resident id for persons, credit code for companies."""
        return _RESIDENT_ID if self.kind is _PERSON else _CREDIT_CODE

    @property
    def national_id(self) -> str | None:
        """The keyed hash of the resident id, or the credit code."""
        # Not a cached_property: its first call takes a lock (Python 3.11), ten times this lookup.
        return self.identifiers.get(_RESIDENT_ID if self.kind is _PERSON else _CREDIT_CODE)

    @cached_property
    def compared_name(self) -> str:
        """The name as blocked on and compared (:func:`loaders.matching.normalise_text`), made once per record,
        not per pair."""
        return normalise_text(self.properties.get("name"))

    @cached_property
    def compared_address(self) -> str:
        """The address as compared (:func:`loaders.matching.normalise_text`)."""
        return normalise_text(self.properties.get("address"))

    @property
    def phone_hash(self) -> str | None:
        return self.identifiers.get(_MOBILE)


# Read once per record by resolution: module names, not an enum's class attribute each time (several times slower).
_PERSON, _RESIDENT_ID, _CREDIT_CODE, _MOBILE = (
    NodeLabel.PERSON,
    ValueType.RESIDENT_ID,
    ValueType.CREDIT_CODE,
    ValueType.MOBILE,
)


@dataclass(frozen=True)
class ReviewCandidate:
    """A pair of customers that may be one; a person decides (``crm-graph review``)."""

    left_customer: str
    right_customer: str
    left_records: tuple[str, ...]
    right_records: tuple[str, ...]
    probability: float
    differs: tuple[str, ...] = ()
    """For records sharing an ID number: the fields they disagree on (``name``, ``birth_date``).
    Empty for a pair found by the score."""

    @property
    def pair_key(self) -> str:
        """Stable identity of the question, from the records' refs (customer ids may change)."""
        return "|".join(sorted((min(self.left_records), min(self.right_records))))


@dataclass
class Resolved:
    customer_ids: list[str]  # per record
    review: list[ReviewCandidate]
    merges_by_score: int = 0
    stored_customer_ids: list[str] = field(default_factory=list)  # per stored record


def conflict_name(name: Any) -> str:
    """A name as two records of one ID number are compared on it."""
    # Spaces, case, width and punctuation (the middle dot of 阿依古丽·买买提) are how systems write a
    # name, not a different name.
    return "".join(char for char in normalise_text(name) if not unicodedata.category(char).startswith("P"))


def conflicting_fields(left: CustomerRecord, right: CustomerRecord) -> tuple[str, ...]:
    """The fields on which two records of the same ID number disagree (both sides holding a value)."""
    found: list[str] = []
    left_name = conflict_name(left.properties.get("name"))
    right_name = conflict_name(right.properties.get("name"))
    if left_name and right_name and left_name != right_name:
        found.append("name")
    left_birth, right_birth = left.properties.get("birth_date"), right.properties.get("birth_date")
    if left_birth and right_birth and left_birth != right_birth:
        found.append("birth_date")
    return tuple(found)


Identity = tuple[str, str]
"""What ties a cluster to an ID number: (number, part). Part ``""`` is the customer that carries the
number's id; a part split off for disagreeing on name or birth date is named by its smallest record ref."""


class _Clusters:
    def __init__(self, size: int, national_ids: list[str | None]) -> None:
        self.parent = list(range(size))
        self.identity: list[Identity | None] = [(number, "") if number else None for number in national_ids]

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def can_join(self, left: int, right: int) -> bool:
        a, b = self.identity[self.find(left)], self.identity[self.find(right)]
        return a is None or b is None or a == b

    def same_number(self, left: int, right: int) -> bool:
        """Both sides carry the same ID number (split apart or not): a reviewer may join them."""
        a, b = self.identity[self.find(left)], self.identity[self.find(right)]
        return a is not None and b is not None and a[0] == b[0]

    def join(self, left: int, right: int) -> None:
        a, b = self.find(left), self.find(right)
        if a == b:
            return
        low, high = min(a, b), max(a, b)
        self.parent[high] = low
        known = [identity for identity in (self.identity[low], self.identity[high]) if identity is not None]
        # The part carrying the number's id ("" sorts first) absorbs a part a reviewer merged into it.
        self.identity[low] = min(known) if known else None

    def split_off(self, member: int, part: str) -> None:
        root = self.find(member)
        identity = self.identity[root]
        assert identity is not None, "only records with an ID number are split off"
        self.identity[root] = (identity[0], part)


def resolve(
    records: list[CustomerRecord],
    *,
    merge_above: float,
    review_above: float,
    hash_key: bytes,
    existing: Mapping[str, str] | None = None,
    forced_merges: Iterable[tuple[str, str]] = (),
    separated: Iterable[str] = (),
    source_priority: Sequence[str] = (),
    stored: Sequence[CustomerRecord] = (),
    score_pairs: PairScorer = scored_pairs,
) -> Resolved:
    """Assign a customer id to every record and list the pairs a person should look at.

    ``records`` come in the order they were read. ``existing`` maps record refs to the customer ids
    they already have in the store (kept for records without an ID, so reloads are stable);
    ``forced_merges`` are record-ref pairs a reviewer merged; ``separated`` are review pair keys a
    reviewer kept apart; ``source_priority`` ranks sources for survivorship. ``stored`` are records of
    earlier loads (from their SourceRecord nodes) that share an ID number with this load's records but
    are not in it: they count as read before this load's records when the records of one ID number
    are checked for agreement, and are not scored. ``score_pairs`` finds and scores the candidate pairs.
    """
    existing = existing or {}
    real = len(stored)  # from here on, records of this load
    records = [*stored, *records]
    clusters = _Clusters(len(records), [record.national_id for record in records])
    by_id: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if record.mode is ResolveMode.AUTO and record.national_id:
            by_id[(record.kind.value, record.national_id)].append(index)
    ranks = source_ranks(source_priority)
    conflicts: list[tuple[int, int, tuple[str, ...]]] = []
    for group in by_id.values():
        if len(group) == 1:
            continue
        parts = _agreeing_parts(records, group)
        for part in parts:
            for member in part[1:]:
                clusters.join(part[0], member)
        if len(parts) == 1:
            continue
        kept = _part_keeping_the_id(records, parts, existing, ranks, hash_key)
        for part in parts:
            if part is not kept:
                clusters.split_off(part[0], min(records[i].ref for i in part))
                conflicts.append((kept[0], part[0], conflicting_fields(records[kept[0]], records[part[0]])))
    index_of_ref = {record.ref: index for index, record in enumerate(records)}
    for left_ref, right_ref in forced_merges:
        if left_ref in index_of_ref and right_ref in index_of_ref:
            left, right = index_of_ref[left_ref], index_of_ref[right_ref]
            if clusters.can_join(left, right) or clusters.same_number(left, right):
                clusters.join(left, right)

    scored = [
        ScoredPair(real + pair.left, real + pair.right, pair.probability)
        for pair in score_pairs(records[real:], review_above)
    ]
    scored.sort(key=lambda pair: (-pair.probability, pair.left, pair.right))
    merges = 0
    maybe: list[ScoredPair] = []
    for pair in scored:
        if clusters.find(pair.left) == clusters.find(pair.right):
            continue
        if pair.probability >= merge_above and clusters.can_join(pair.left, pair.right):
            clusters.join(pair.left, pair.right)
            merges += 1
        else:
            maybe.append(pair)

    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(records)):
        members[clusters.find(index)].append(index)
    cluster_ids = _cluster_ids(
        {root: [records[i] for i in group] for root, group in members.items()}, hash_key, existing, clusters
    )
    customer_ids = [cluster_ids[clusters.find(index)] for index in range(len(records))]
    stored_customer_ids, customer_ids = customer_ids[:real], customer_ids[real:]

    separated_keys = set(separated)
    review: dict[str, ReviewCandidate] = {}
    # Same-ID conflicts first: a scored pair between the same two customers asks the same question.
    questions = [
        (kept, other, round(match_probability(records[kept], records[other]), 6), differs)
        for kept, other, differs in conflicts
    ]
    questions += [(pair.left, pair.right, round(pair.probability, 6), ()) for pair in maybe]
    for left, right, probability, differs in questions:
        left_root, right_root = clusters.find(left), clusters.find(right)
        if left_root == right_root:
            continue
        candidate = ReviewCandidate(
            cluster_ids[left_root],
            cluster_ids[right_root],
            tuple(sorted(records[i].ref for i in members[left_root])),
            tuple(sorted(records[i].ref for i in members[right_root])),
            probability,
            differs,
        )
        if candidate.pair_key not in separated_keys:
            review.setdefault(candidate.pair_key, candidate)
    return Resolved(customer_ids, list(review.values()), merges, stored_customer_ids)


def _agreeing_parts(records: list[CustomerRecord], group: list[int]) -> list[list[int]]:
    """Records of one ID number split into parts whose members agree on name and birth date, in read order."""
    parts: list[list[int]] = []
    for index in group:
        for part in parts:
            if not any(conflicting_fields(records[index], records[other]) for other in part):
                part.append(index)
                break
        else:
            parts.append([index])
    return parts


def _part_keeping_the_id(
    records: list[CustomerRecord],
    parts: list[list[int]],
    existing: Mapping[str, str],
    ranks: Mapping[str, int],
    hash_key: bytes,
) -> list[int]:
    """The part that keeps the ID number's customer id: the one the store already has under it (so an
    earlier load's customer keeps its records), else the part of the record that survives."""
    first = records[parts[0][0]]
    assert first.national_id is not None
    number_id = national_customer_id(first, first.national_id, hash_key)
    for part in parts:
        if any(existing.get(records[index].ref) == number_id for index in part):
            return part
    group = sorted(index for part in parts for index in part)
    survivor = group[survivor_order([records[index].source for index in group], ranks)[0]]
    return next(part for part in parts if survivor in part)


def national_customer_id(record: CustomerRecord, national_id: str, hash_key: bytes) -> str:
    """The id of the customer an ID number makes (``P…`` for persons, ``C…`` for companies)."""
    return national_customer_ids([record], [national_id], hash_key)[0]


def national_customer_ids(records: Sequence[CustomerRecord], national_ids: Sequence[str], hash_key: bytes) -> list[str]:
    """:func:`national_customer_id` of each record and its ID number, hashed a letter's worth at a time."""
    return national_ids_of(
        [record.kind for record in records], [record.id_prefix for record in records], national_ids, hash_key
    )


def national_ids_of(
    kinds: Sequence[NodeLabel], prefixes: Sequence[str], national_ids: Sequence[str], hash_key: bytes
) -> list[str]:
    """The customer ids of ID numbers, each of a record's kind and ``id_prefix`` (:func:`national_customer_ids`)."""
    letters = ["P" if kind is NodeLabel.PERSON else "C" for kind in kinds]
    hashes: dict[str, Iterator[str]] = {}
    for letter in set(letters):
        numbers = [number for number, of in zip(national_ids, letters, strict=True) if of == letter]
        hashes[letter] = iter(keyed_hashes(numbers, hash_key, purpose=f"customer-{letter}"))
    return [prefix + letter + next(hashes[letter])[:20] for prefix, letter in zip(prefixes, letters, strict=True)]


def _cluster_ids(
    groups: dict[int, list[CustomerRecord]], hash_key: bytes, existing: Mapping[str, str], clusters: _Clusters
) -> dict[int, str]:
    """The customer id of each cluster (by root), from its records; the ID numbers' ids hashed in one batch."""
    firsts = {root: min(group, key=lambda record: record.ref) for root, group in groups.items()}
    numbered = {
        root: identity[0]
        for root, first in firsts.items()
        if first.mode is not ResolveMode.KEY_ONLY
        and (identity := clusters.identity[root]) is not None
        and not identity[1]
    }
    ids = national_customer_ids([firsts[root] for root in numbered], list(numbered.values()), hash_key)
    cluster_ids = dict(zip(numbered, ids, strict=True))
    for root, group in groups.items():
        if root not in cluster_ids:
            cluster_ids[root] = _customer_id(firsts[root], group, clusters.identity[root], hash_key, existing)
    return cluster_ids


def _customer_id(
    first: CustomerRecord,
    group: list[CustomerRecord],
    identity: Identity | None,
    hash_key: bytes,
    existing: Mapping[str, str],
) -> str:
    """The id of a cluster not named after an ID number (``first`` is its record with the smallest ref)."""
    if first.mode is ResolveMode.KEY_ONLY:
        return first.id_prefix + first.key
    letter = "P" if first.kind is NodeLabel.PERSON else "C"
    if identity is not None:
        # A part split off its ID number: named by its own smallest ref, never by the number's id.
        return first.id_prefix + letter + keyed_hash(identity[1], hash_key, purpose=f"record-{letter}")[:20]
    known = sorted(existing[record.ref] for record in group if record.ref in existing)
    if known:
        return known[0]
    return first.id_prefix + letter + keyed_hash(first.ref, hash_key, purpose=f"record-{letter}")[:20]
