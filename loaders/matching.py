"""Entity resolution's comparisons: a small Fellegi-Sunter scorer on name, birth date, phone hash and address,
and the blocking that chooses which records are compared (:mod:`loaders.resolve` decides with the scores).

Why not splink: it was the first choice (it is the reference implementation of this method), but it
estimates m and u probabilities per run (EM and random sampling), so the same files loaded twice or
together with a newer export could score pairs differently, and reload stability is a requirement here;
it also brings DuckDB and a training step into every load. The comparisons needed are four, so fixed,
documented m/u values below give deterministic scores with no dependency. A bank that wants trained
weights can estimate them with splink offline and put them in ``FIELD_WEIGHTS``.
On Spark (``crm-graph load --engine spark``) splink does run the blocking and scoring, with these same
values saved once as a splink model and only read afterwards: ``loaders.spark_resolve``.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from loaders.mapping import ResolveMode

if TYPE_CHECKING:
    from loaders.resolve import CustomerRecord

PRIOR_MATCH = 1e-4
"""Prior probability that two records in the same block are one customer."""

BLOCK_LIMIT = 500
"""Blocks larger than this (e.g. a default birth date) are not compared pairwise: too common to tell anyone apart."""


@dataclass(frozen=True)
class Level:
    m: float  # probability of this agreement level when the records are the same customer
    u: float  # ... when they are not

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


FIELD_WEIGHTS: dict[str, dict[str, Level]] = {
    "name": {"exact": Level(0.90, 0.001), "similar": Level(0.08, 0.01), "different": Level(0.02, 0.989)},
    "birth_date": {"exact": Level(0.95, 1 / 3650), "different": Level(0.05, 1 - 1 / 3650)},
    "phone": {"exact": Level(0.90, 1e-4), "different": Level(0.10, 1 - 1e-4)},
    "address": {"exact": Level(0.70, 0.001), "similar": Level(0.20, 0.02), "different": Level(0.10, 0.979)},
}


@dataclass(frozen=True)
class ScoredPair:
    left: int  # record indices, left < right
    right: int
    probability: float


def normalise_text(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def within_one_edit(left: str, right: str) -> bool:
    """Whether two texts are at most one insertion, deletion or substitution apart (Levenshtein distance
    of 0 or 1): past their common start, the rest of one is the rest of the other with one character
    dropped or changed. Linear, where the distance itself takes a table per pair."""
    if len(left) > len(right):
        left, right = right, left
    if len(right) - len(left) > 1:
        return False
    start = 0
    for char_left, char_right in zip(left, right, strict=False):
        if char_left != char_right:
            break
        start += 1
    if len(left) == len(right):
        return left[start + 1 :] == right[start + 1 :]
    return left[start:] == right[start + 1 :]


def text_level(left: str, right: str) -> str | None:
    """How two normalised texts agree: exact, similar (one edit apart, or alike by difflib's ratio), different;
    None when either is empty."""
    if not left or not right:
        return None
    if left == right:
        return "exact"
    if within_one_edit(left, right):
        return "similar"
    # quick_ratio() bounds ratio() from above at a fraction of its cost; most compared pairs differ.
    matcher = SequenceMatcher(None, left, right)
    return "similar" if matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8 else "different"


def _equal_level(left: str | None, right: str | None) -> str | None:
    if not left or not right:
        return None
    return "exact" if left == right else "different"


def comparison_levels(left: CustomerRecord, right: CustomerRecord) -> dict[str, str | None]:
    """The agreement level of each compared field (None when either side lacks it)."""
    return {
        "name": text_level(left.compared_name, right.compared_name),
        "birth_date": _equal_level(left.properties.get("birth_date"), right.properties.get("birth_date")),
        "phone": _equal_level(left.phone_hash, right.phone_hash),
        "address": text_level(left.compared_address, right.compared_address),
    }


def match_probability(left: CustomerRecord, right: CustomerRecord) -> float:
    """Fellegi-Sunter match probability of two records (prior odds times the fields' likelihood ratios)."""
    return probability_of_levels(comparison_levels(left, right))


def probability_of_levels(levels: Mapping[str, str | None]) -> float:
    """The match probability of two records agreeing on each field as ``levels`` say (``comparison_levels``)."""
    weight = math.log2(PRIOR_MATCH / (1 - PRIOR_MATCH))
    for name, level in levels.items():
        if level is not None:
            weight += FIELD_WEIGHTS[name][level].weight
    return 1 / (1 + 2 ** (-weight))


PairScorer = Callable[[Sequence["CustomerRecord"], float], list[ScoredPair]]
"""Scores the candidate pairs of some records and keeps those scoring at least the bound given (indices into the
records). In this process by default (:func:`scored_pairs`); ``loaders.spark_resolve`` does it on Spark."""


def scored_pairs(records: Sequence[CustomerRecord], review_above: float) -> list[ScoredPair]:
    """The candidate pairs (:func:`candidate_pairs`) scoring at least ``review_above``, scored in this process."""
    scored = (
        ScoredPair(left, right, match_probability(records[left], records[right]))
        for left, right in candidate_pairs(records)
    )
    return [pair for pair in scored if pair.probability >= review_above]


def candidate_pairs(records: Sequence[CustomerRecord]) -> list[tuple[int, int]]:
    """Pairs sharing a block, with at least one side lacking a usable ID; sorted, without repeats."""
    blocks: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if record.mode is ResolveMode.AUTO:
            for key in block_keys(record):
                blocks[key].append(index)
    has_id = [bool(record.national_id) for record in records]
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) > BLOCK_LIMIT:
            continue
        # Pairs of two IDs are settled by the IDs: only records lacking one are paired, with everyone.
        for lacking in (member for member in members if not has_id[member]):
            pairs.update((min(lacking, other), max(lacking, other)) for other in members if other != lacking)
    return sorted(pairs)


def block_keys(record: CustomerRecord) -> list[tuple[str, str, str]]:
    """The blocks an ``auto`` record falls into: (kind, birth date and the name's first character), (kind,
    phone hash), (kind, name and the birth date's month and day).

    A birth date alone, or a name alone, makes blocks that grow with the bank: at 1,000,000 customers a birth
    date's block held 46 records on average, and the candidate pairs grew 92 times from 100,000 customers. Each
    is split by something the other field's typical error leaves alone: the birth date by the name's first
    character (a surname, an initial: a typo in a name seldom changes it), the name by the birth date's
    month and day (what a wrong year or century leaves). A record lacking the splitting field is blocked
    with the others lacking it (:func:`birth_block`, :func:`name_block`)."""
    kind = record.kind.value
    keys = []
    name = record.compared_name
    birth = str(record.properties.get("birth_date") or "")
    if birth:
        keys.append((kind, "birth", birth_block(birth, name)))
    if record.phone_hash:
        keys.append((kind, "phone", record.phone_hash))
    if name:
        keys.append((kind, "name", name_block(name, birth)))
    return keys


def birth_block(birth: str, compared_name: str) -> str:
    """The birth block's value: the birth date (as text) and the first character of the compared name
    (empty when there is none), apart by a space (which a compared name never holds)."""
    return f"{birth} {compared_name[:1]}"


def name_block(compared_name: str, birth: str) -> str:
    """The name block's value: the compared name and the last five characters of the birth date as text
    (its month and day, ``MM-DD``; empty when there is none), apart by a space."""
    return f"{compared_name} {birth[-5:]}"
