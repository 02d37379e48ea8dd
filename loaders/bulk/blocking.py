"""Entity resolution's blocking and comparison on columns: what ``loaders.resolve`` finds record by record
(the candidate pairs, their scores) and what ``loaders.bulk.resolve`` must hand it (the records to score),
found on the records' columns, each block key one integer (the value's dictionary code and the kind), with
numpy's sorts, group counts and set tests instead of dictionaries of records and a Python call per pair.

What is compared stays the row path's own, so that the pairs, the scores and the decisions are the same:

- names and addresses are normalised by ``loaders.matching.normalise_text`` itself, once per record (Arrow's
  NFKC and lower-casing follow another Unicode version and a simpler case mapping, and took as long on the
  30k bank's names: 18 ms against 22);
- a pair's score comes from the scores ``loaders.matching.probability_of_levels`` gives each combination of
  field levels (a few dozen), so no float is computed differently;
- the one level that needs the texts themselves (similar or different) is asked of ``text_level`` only for
  pairs whose texts differ, whose lengths allow them to be similar, and whose score could reach the bound
  if they were.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Sequence
from functools import cache, cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import NodeLabel
from loaders import matching
from loaders.bulk.records import CustomerRecords
from loaders.mapping import ResolveMode, ValueType
from loaders.matching import FIELD_WEIGHTS, ScoredPair, normalise_text, probability_of_levels, text_level
from loaders.resolve import CustomerRecord, conflict_name

BLOCKS = ("birth", "phone", "name")
"""The fields records are blocked on (each with the record's kind), as ``loaders.matching.block_keys``."""

LEVELS = (None, "exact", "similar", "different")
"""Agreement levels by code: 0 when either side lacks the field."""

_EXACT, _SIMILAR, _DIFFERENT = 1, 2, 3
_FIELDS = ("name", "birth_date", "phone", "address")
"""The compared fields, in the order ``comparison_levels`` adds their weights."""
_TEXTS = {"name", "address"}


class RecordColumns:
    """What blocking and comparison read of each record, by column (row ``i`` is record ``i``), each made
    when first asked for.

    ``kind`` is a small code per label; ``birth``, ``phone``, ``name`` and ``address`` are null where the
    record lacks the field (as ``block_keys`` and the comparisons see it: an empty text is lacking)."""

    def __init__(self, size: int, read: Callable[[str], pa.Array | list[Any]]) -> None:
        self.size = size
        # Each field read once: a field of records held as runs is their columns concatenated anew per read.
        self._read = cache(read)
        self._keys: dict[str, np.ndarray] = {}
        """A field of every record: a property's values (``name``, ``birth_date``, ``address``), or one of
        ``kind`` (label values), ``auto`` (bools), ``national``, ``phone``, ``ref``, ``prefix`` (``id_prefix``)
        and ``key_id`` (the customer id of a ``key_only`` record)."""

    @classmethod
    def of(cls, records: Sequence[CustomerRecord]) -> RecordColumns | None:
        """The records' columns; None when a birth date is not text (the row path compares such values as
        they are, not as their text)."""
        if isinstance(records, CustomerRecords):
            return cls._of_runs(records)
        fields: dict[str, Callable[[CustomerRecord], Any]] = {
            "kind": lambda record: record.kind.value,
            "auto": lambda record: record.mode is ResolveMode.AUTO,
            "national": lambda record: record.national_id,
            "phone": lambda record: record.phone_hash,
            "ref": lambda record: record.ref,
            "key_id": lambda record: record.id_prefix + record.key,
            "prefix": lambda record: record.id_prefix,
        }

        def read(name: str) -> list[Any]:
            if name in fields:
                return [fields[name](record) for record in records]
            return [record.properties.get(name) for record in records]

        columns = cls(len(records), read)
        births = {type(value or "") for value in read("birth_date")}
        return columns if births <= {str} else None

    @classmethod
    def _of_runs(cls, records: CustomerRecords) -> RecordColumns | None:
        def read(name: str) -> pa.Array:
            if name == "auto":
                return records.per_run([run.mode is ResolveMode.AUTO for run in records.runs], pa.bool_())
            if name == "prefix":
                return records.per_run([run.id_prefix for run in records.runs], pa.string())
            if name == "key_id":
                return pc.binary_join_element_wise(read("prefix"), records.each("keys"), "")
            if name == "phone":
                return records.identifiers(ValueType.MOBILE)
            if name in ("kind", "national", "ref"):
                return records.each({"kind": "kinds", "ref": "refs"}.get(name, name))
            found = records.column(name)
            if found is None:
                raise TypeError(name)
            return found

        try:
            birth = read("birth_date")
            read("name"), read("address")
        except TypeError:  # a field of values of several types: the records are compared as objects
            return None
        if not (pa.types.is_string(birth.type) or pa.types.is_null(birth.type)):
            return None
        return cls(len(records), read)

    def text(self, name: str) -> pa.Array:
        """A field as text, null where the record has none or an empty one (``value or None``)."""
        values = self._read(name)
        if isinstance(values, pa.Array):
            values = values.cast(pa.string())
            return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
        return pa.array([value or None for value in values], pa.string())

    def values(self, name: str) -> pa.Array | list[Any]:
        """A field's values as they are (an array where the records are held as columns)."""
        return self._read(name)

    @cached_property
    def kind(self) -> np.ndarray:
        codes = _kind_codes()
        labels = self._read("kind")
        if isinstance(labels, pa.Array):
            encoded = pc.dictionary_encode(labels)
            by_code = np.array([codes[NodeLabel(label)] for label in encoded.dictionary.to_pylist()], dtype=np.int16)
            return by_code[encoded.indices.to_numpy(zero_copy_only=False)] if len(by_code) else np.zeros(0, np.int16)
        return np.array([codes[NodeLabel(label)] for label in labels], dtype=np.int16)

    @cached_property
    def auto(self) -> np.ndarray:
        values = self._read("auto")
        if isinstance(values, pa.Array):
            return values.to_numpy(zero_copy_only=False).astype(bool)
        return np.array(values, dtype=bool)

    @cached_property
    def national(self) -> pa.Array:
        return self.text("national")

    @cached_property
    def birth(self) -> pa.Array:
        return self.text("birth_date")

    @cached_property
    def phone(self) -> pa.Array:
        return self.text("phone")

    @cached_property
    def name(self) -> pa.Array:
        return _each_distinct(self._read("name"), normalise_text)

    def normalised(self, name: str, rows: np.ndarray) -> pa.Array:
        """A text field of the records ``rows`` as compared (:attr:`name`, :attr:`address`), normalising
        only theirs."""
        values = self._read(name)
        if isinstance(values, pa.Array):
            return _each_distinct(values.take(pa.array(rows, pa.int64())), normalise_text)
        return _each_distinct([values[row] for row in rows.tolist()], normalise_text)

    @cached_property
    def refs(self) -> pa.Array:
        return self.text("ref")

    @cached_property
    def has_id(self) -> np.ndarray:
        return self.national.is_valid().to_numpy(zero_copy_only=False)

    @cached_property
    def lacking(self) -> np.ndarray:
        """The ``auto`` records without an ID number: the ones scored against their blocks."""
        return self.auto & ~self.has_id

    def keys(self, field: str) -> np.ndarray:
        """Per record, its (kind, value of ``field``) as one number, equal for equal pairs; -1 where the
        record is not ``auto`` or lacks the field. ``field`` is a block (``BLOCKS``: the birth date with the
        name's first character, the phone, the name with the birth date's month and day, as
        ``loaders.matching.block_keys``) or ``national``. Made once (the caller must not change it)."""
        if field not in self._keys:
            split_by = {"birth": self._initials, "name": self._month_days}.get(field)
            codes = _codes(getattr(self, field))
            if split_by is not None:  # the block's value and what splits it (loaders.matching.block_keys)
                splits = _codes(split_by()) + 1  # 0: the record lacks it
                codes = np.where(codes >= 0, codes * (int(splits.max(initial=0)) + 1) + splits, -1)
            keys = codes * len(NodeLabel) + self.kind
            self._keys[field] = np.where(self.auto & (codes >= 0), keys, -1)
        return self._keys[field]

    def _initials(self) -> pa.Array:
        """The first character of each compared name (``loaders.matching.birth_block``)."""
        return pc.utf8_slice_codeunits(self.name, 0, 1)

    def _month_days(self) -> pa.Array:
        """The last five characters of each birth date (``loaders.matching.name_block``)."""
        return pc.utf8_slice_codeunits(self.birth, -5)


def _codes(values: pa.Array) -> np.ndarray:
    """Each value's dictionary code, equal for equal values; -1 for a null."""
    return pc.dictionary_encode(values).indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def candidate_pairs_by_columns(columns: RecordColumns) -> np.ndarray:
    """``loaders.matching.candidate_pairs``: pairs sharing a block of at most ``BLOCK_LIMIT`` records, one side
    at least lacking an ID number; as an array of (left, right) rows, sorted, left < right."""
    left, right = _candidate_pairs(columns)
    order = np.lexsort((right, left))
    return np.stack([left[order], right[order]], axis=1)


def _candidate_pairs(columns: RecordColumns) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs (left < right) in no particular order, each once.

    A pair is made by the first block it shares (in the order of ``BLOCKS``), and within a block once: by
    its left record when both lack an ID number. Made once each they need no sort nor hash to be told apart."""
    lacking = columns.lacking
    lefts, rights = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    earlier: list[np.ndarray] = []  # per block field paired on already: each record's compared block, else -1
    for block in BLOCKS:
        keys = columns.keys(block)
        members = np.flatnonzero(keys >= 0)
        _, block_of, counts = np.unique(keys[members], return_inverse=True, return_counts=True)
        compared = counts <= matching.BLOCK_LIMIT
        # Each lacking member of a compared block against every member of it (itself left out below).
        order = np.argsort(block_of, kind="stable")
        starts = np.searchsorted(block_of[order], np.arange(len(counts)))
        chosen = np.flatnonzero(lacking[members] & compared[block_of])
        left_block = block_of[chosen]
        repeats = counts[left_block]
        left = np.repeat(members[chosen], repeats)
        offsets = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        right = members[order][np.repeat(starts[left_block], repeats) + offsets]
        kept = (left != right) & (~lacking[right] | (left < right))
        for blocks in earlier:
            kept &= (blocks[left] < 0) | (blocks[left] != blocks[right])
        left, right = left[kept], right[kept]
        lefts.append(np.minimum(left, right))
        rights.append(np.maximum(left, right))
        blocks = np.full(columns.size, -1, dtype=np.int64)
        blocks[members] = np.where(compared[block_of], block_of, -1)
        earlier.append(blocks)
    return np.concatenate(lefts), np.concatenate(rights)


def scored_pairs_by_columns(records: Sequence[CustomerRecord], review_above: float) -> list[ScoredPair]:
    """``loaders.matching.scored_pairs`` (a :data:`loaders.matching.PairScorer`): the candidate pairs scoring at
    least ``review_above``, in the same order with the same probabilities."""
    columns = RecordColumns.of(records)
    if columns is None:
        return matching.scored_pairs(records, review_above)
    left, right, probabilities = scored_on_columns(columns, review_above)
    return [
        ScoredPair(int(a), int(b), float(probability))
        for a, b, probability in zip(left.tolist(), right.tolist(), probabilities.tolist(), strict=True)
    ]


def scored_on_columns(columns: RecordColumns, review_above: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`scored_pairs_by_columns` as arrays: the left and right records and the probability of each pair.

    Names and addresses are normalised for the records of some candidate pair only (the addresses are not
    read otherwise)."""
    pair_left, pair_right = _candidate_pairs(columns)
    in_pairs = np.zeros(columns.size, dtype=bool)
    in_pairs[pair_left] = in_pairs[pair_right] = True
    involved = np.flatnonzero(in_pairs)
    # The pairs' records by their place in ``involved``: every text below is of those records only.
    place = np.zeros(columns.size, dtype=np.int64)
    place[involved] = np.arange(len(involved))
    left, right = place[pair_left], place[pair_right]
    at = pa.array(involved, pa.int64())
    names, addresses = columns.name.take(at), columns.normalised("address", involved)
    levels = {
        "name": _text_levels(names, left, right),
        "birth_date": _equal_levels(columns.birth.take(at), left, right),
        "phone": _equal_levels(columns.phone.take(at), left, right),
        "address": _text_levels(addresses, left, right),
    }
    table = _probabilities()
    # Names first (short, quick to tell apart), then addresses only for the pairs still able to reach the bound.
    for field, texts in (("name", names), ("address", addresses)):
        # A pair under the bound even with each undecided text similar is left under it, unread.
        best = {
            other: np.where(codes == _DIFFERENT, _SIMILAR, codes) if other in _TEXTS else codes
            for other, codes in levels.items()
        }
        possible = np.flatnonzero(table[_combination(best)] >= review_above)
        codes = levels[field]
        undecided = possible[codes[possible] == _DIFFERENT]
        alike = _may_be_similar(texts, left[undecided], right[undecided])
        codes[undecided[~alike]] = _DIFFERENT + 1
        undecided = undecided[alike]
        lefts, rights = texts.take(left[undecided]).to_pylist(), texts.take(right[undecided]).to_pylist()
        for position, left_text, right_text in zip(undecided.tolist(), lefts, rights, strict=True):
            codes[position] = _SIMILAR if text_level(left_text, right_text) == "similar" else _DIFFERENT + 1
    probabilities = table[_combination(levels)]
    kept = np.flatnonzero(probabilities >= review_above)
    kept = kept[np.lexsort((pair_right[kept], pair_left[kept]))]
    return pair_left[kept], pair_right[kept], probabilities[kept]


def _each_distinct(values: pa.Array | list[Any], read: Callable[[Any], str]) -> pa.Array:
    """``read`` of each value, called once per distinct text (each value when they are not all text); null
    where it gives an empty text."""
    try:
        texts = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
        if not (pa.types.is_string(texts.type) or pa.types.is_null(texts.type)):
            raise pa.ArrowTypeError(texts.type)
        encoded = texts.cast(pa.string()).dictionary_encode()
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        listed = values.to_pylist() if isinstance(values, pa.Array) else values
        return pa.array([read(value) or None for value in listed], pa.string())
    distinct = [read(text) or None for text in encoded.dictionary.to_pylist()]
    return pa.array(distinct, pa.string()).take(encoded.indices)


def _equal_levels(values: pa.Array, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair: 0 when either side lacks the value, exact when equal, else different. Compared as the
    values' dictionary codes: no text is copied or read per pair."""
    codes = pc.dictionary_encode(values).indices.fill_null(-1).to_numpy(zero_copy_only=False)
    left_codes, right_codes = codes[left], codes[right]
    both = (left_codes >= 0) & (right_codes >= 0)
    return np.where(both, np.where(left_codes == right_codes, _EXACT, _DIFFERENT), 0).astype(np.int8)


def _text_levels(values: pa.Array, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """:func:`_equal_levels`, with different meaning "different or similar" where the lengths allow
    similar: within one edit (lengths at most one apart), or ``SequenceMatcher.ratio()`` of 0.8 or more,
    which its bound ``real_quick_ratio()`` (twice the shorter length over both) must reach first."""
    codes = _equal_levels(values, left, right)
    lengths = pc.utf8_length(values).fill_null(0).to_numpy(zero_copy_only=False)
    left_length, right_length = lengths[left], lengths[right]
    shorter = np.minimum(left_length, right_length).astype(np.float64)
    whole = (left_length + right_length).astype(np.float64)
    could_be_similar = (np.abs(left_length - right_length) <= 1) | (
        2.0 * shorter / np.maximum(whole, 1.0) >= 0.8  # the same float expression as difflib's bound
    )
    certain = (codes == _DIFFERENT) & ~could_be_similar
    # Decided later (only where the score could reach the bound): left as different-or-similar.
    return np.where(certain, _DIFFERENT + 1, codes).astype(np.int8)


def _may_be_similar(texts: pa.Array, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair of different, non-empty texts, False where ``text_level`` certainly finds them different: it
    finds them similar only when they are one edit apart (lengths at most one apart, all characters but one
    of the longer in common) or when ``ratio()`` reaches 0.8, and both need enough characters in common.

    The characters two texts have in common (as multisets) are bounded from above by the characters counted
    per bin (a character's code point modulo ``_BINS``): the smaller count of each bin, summed."""
    found = np.zeros(len(left), dtype=bool)
    if not len(left):
        return found
    # Only the texts of these pairs are counted (of the addresses read, a few are asked about).
    used = np.zeros(len(texts), dtype=bool)
    used[left] = used[right] = True
    at = np.flatnonzero(used)
    place = np.zeros(len(texts), dtype=np.int64)
    place[at] = np.arange(len(at))
    texts, left, right = texts.take(pa.array(at, pa.int64())), place[left], place[right]
    counts, indices = _bin_counts(texts)
    lengths = pc.utf8_length(texts).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    for start in range(0, len(left), _PAIRS_AT_ONCE):
        lefts, rights = left[start : start + _PAIRS_AT_ONCE], right[start : start + _PAIRS_AT_ONCE]
        common = np.minimum(counts[indices[lefts]], counts[indices[rights]]).sum(axis=1, dtype=np.int64)
        left_length, right_length = lengths[lefts], lengths[rights]
        longer, whole = np.maximum(left_length, right_length), left_length + right_length
        one_edit = (np.abs(left_length - right_length) <= 1) & (common >= longer - 1)
        # ratio() is 2 * matches / both lengths, its matches never more than the characters in common.
        ratio = 2.0 * common / np.maximum(whole, 1) >= 0.8
        found[start : start + len(lefts)] = one_edit | ratio
    return found


_BINS = 61
"""Bins of characters counted per text by :func:`_may_be_similar` (a prime: code points spread over them)."""
_PAIRS_AT_ONCE = 1 << 16


def _bin_counts(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct text, its characters counted per bin (code point modulo ``_BINS``); and per text, its
    distinct text (0 for a null: never asked)."""
    encoded = pc.dictionary_encode(texts)
    distinct = encoded.dictionary.to_pylist()
    sizes = np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct))
    points = np.frombuffer("".join(distinct).encode("utf-32-le"), dtype=np.uint32)
    owners = np.repeat(np.arange(len(distinct), dtype=np.int64), sizes)
    counts = np.bincount(owners * _BINS + points % _BINS, minlength=len(distinct) * _BINS)
    indices = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return counts.reshape(len(distinct), _BINS).astype(np.int32), indices


def _combination(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Each pair's combination of level codes as one index into :func:`_probabilities` (a code past
    different means different, decided by the lengths)."""
    index = np.zeros(len(levels["name"]), dtype=np.int64)
    for field in _FIELDS:
        index = index * len(LEVELS) + np.minimum(levels[field], _DIFFERENT)
    return index


@cache
def _probabilities() -> np.ndarray:
    """The score of every combination of levels (name, birth date, phone, address), by combination index
    (NaN for a level a field does not have: a birth date is never similar)."""
    scores = []
    for combination in itertools.product(LEVELS, repeat=len(_FIELDS)):
        levels = dict(zip(_FIELDS, combination, strict=True))
        possible = all(level is None or level in FIELD_WEIGHTS[field] for field, level in levels.items())
        scores.append(probability_of_levels(levels) if possible else np.nan)
    return np.array(scores, dtype=np.float64)


def records_to_score(
    columns: RecordColumns,
    forced: Collection[str],
    stored_numbers: Collection[tuple[NodeLabel, str]],
    paired: np.ndarray | None = None,
) -> np.ndarray:
    """``loaders.bulk.resolve.needs_scoring`` on columns: the indices, sorted, of the records ``resolve``
    must see. ``forced`` are the refs a reviewer merged, ``stored_numbers`` the (kind, ID number) of earlier
    loads' records; ``paired``, when the pairs were scored on every record already, the records of the pairs
    kept (they stand for the whole blocks: no other pair can join or name anyone)."""
    lacking = columns.lacking
    chosen = lacking.copy()
    if paired is not None:
        chosen[paired] = True
    elif lacking.any():  # whole blocks of the records lacking an ID number
        for block in BLOCKS:
            keys = columns.keys(block)
            wanted = np.unique(keys[lacking & (keys >= 0)])
            chosen |= (keys >= 0) & np.isin(keys, wanted)
    numbers = columns.keys("national")
    numbered = np.flatnonzero(numbers >= 0)
    _, group_of, counts = np.unique(numbers[numbered], return_inverse=True, return_counts=True)
    several = numbered[counts[group_of] > 1]
    flagged = [_disagreeing(columns, several, numbers[several])]
    if stored_numbers:
        flagged.append(_number_keys(columns, stored_numbers))
    chosen[numbered[np.isin(numbers[numbered], np.concatenate(flagged))]] = True
    if forced:
        chosen |= pc.is_in(columns.refs, value_set=pa.array(list(forced), pa.string())).to_numpy(zero_copy_only=False)
    # Every record of an ID number a chosen record carries joins it into one customer.
    carried = numbers[numbered[chosen[numbered]]]
    chosen[numbered[np.isin(numbers[numbered], carried)]] = True
    return np.flatnonzero(chosen)


def _disagreeing(columns: RecordColumns, members: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """The ID numbers (keys) among ``members`` (every record of some numbers, ``numbers`` theirs) whose
    records disagree on name or birth date, both holding one (``loaders.bulk.resolve``'s rule)."""
    disagree = [np.empty(0, dtype=np.int64)]
    names = columns.values("name")
    at_members = names.take(pa.array(members)) if isinstance(names, pa.Array) else [names[i] for i in members.tolist()]
    for values in (_each_distinct(at_members, conflict_name), columns.birth.take(pa.array(members))):
        codes = pc.dictionary_encode(values).indices.fill_null(-1).to_numpy(zero_copy_only=False)
        held = codes >= 0
        held_numbers, distinct_values = _distinct_per_key(numbers[held], codes[held].astype(np.int64))
        disagree.append(held_numbers[distinct_values > 1])
    return np.concatenate(disagree)


def _distinct_per_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (sorted) and how many distinct values each holds (keys and values not negative):
    the (key, value) pairs made unique as one number each where they fit in one, not as rows (which numpy
    sorts as raw bytes, several times slower)."""
    base = int(values.max(initial=0)) + 1
    if int(keys.max(initial=0)) >= (1 << 62) // base:
        pairs = np.unique(np.stack([keys, values], axis=1), axis=0)
        return np.unique(pairs[:, 0], return_counts=True)
    combined = np.sort(keys * base + values)
    kept = np.ones(len(combined), dtype=bool)
    kept[1:] = combined[1:] != combined[:-1]
    pair_keys = combined[kept] // base  # sorted
    first = np.ones(len(pair_keys), dtype=bool)
    first[1:] = pair_keys[1:] != pair_keys[:-1]
    starts = np.flatnonzero(first)
    return pair_keys[starts], np.diff(np.append(starts, len(pair_keys)))


def _number_keys(columns: RecordColumns, numbers: Collection[tuple[NodeLabel, str]]) -> np.ndarray:
    """The keys (``RecordColumns.keys("national")``) of some (kind, ID number); numbers no record of
    ``columns`` holds are left out."""
    dictionary = pc.dictionary_encode(columns.national).dictionary
    found = pc.index_in(pa.array([number for _, number in numbers], pa.string()), value_set=dictionary)
    codes = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    kinds = np.array([_kind_codes()[kind] for kind, _ in numbers], dtype=np.int64)
    return (codes * len(NodeLabel) + kinds)[codes >= 0]


@cache
def _kind_codes() -> dict[NodeLabel, int]:
    return {label: code for code, label in enumerate(NodeLabel)}
