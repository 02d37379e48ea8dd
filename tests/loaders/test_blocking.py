"""Blocking and comparison on columns (loaders.bulk.blocking) against the record-by-record functions of
loaders.resolve: the same candidate pairs, the same scored pairs with the same probabilities, on random records
with texts that normalisation changes, on the generated bank with its planted duplicates, and on FinBench."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from loaders import matching
from loaders.bulk.blocking import (
    BLOCKS,
    RecordColumns,
    _codes,
    _distinct_per_key,
    _may_be_similar,
    candidate_pairs_by_columns,
    scored_pairs_by_columns,
)
from loaders.bulk.resolve import resolve_grouped
from loaders.generator import generate
from loaders.generator.people import SURNAMES, given_names, surnames
from loaders.load import load_mapping
from loaders.mapping import ResolveMode, ValueType
from loaders.matching import ScoredPair, candidate_pairs, scored_pairs, text_level, within_one_edit
from loaders.resolve import CustomerRecord, resolve
from tests.loaders.test_finbench import DATA as FINBENCH_DATA
from tests.loaders.test_finbench import MAPPING as FINBENCH_MAPPING

# Texts that normalisation changes (width, case, spaces of several kinds, a dotted capital I, punctuation),
# near misses one edit apart, and texts alike only by difflib's ratio.
NAMES = [
    "张三",
    "张 三",
    "张\u3000三",
    "ＺＨＡＮＧ san",
    "zhang san",
    "張三",
    "张叁",
    "张三丰",
    "İlhan",
    "i̇lhan",
    "阿依古丽·买买提",
    "",
]
ADDRESSES = ["杭州市学院路1号", "杭州市学院路１号", "杭州市 学院路1号", "杭州市学院路2号", "宁波市延安路18号", "", None]
BIRTHS = ["1990-03-07", "1990-03-08", "1985-05-12", "", None]
PHONES = ["p1", "p2", "", None]


def random_record(rng: random.Random, index: int) -> CustomerRecord:
    kind = rng.choice([NodeLabel.PERSON, NodeLabel.PERSON, NodeLabel.COMPANY])
    identifiers: dict[ValueType, str] = {}
    if rng.random() < 0.5:
        identifiers[ValueType.RESIDENT_ID if kind is NodeLabel.PERSON else ValueType.CREDIT_CODE] = (
            f"n{rng.randrange(8)}"
        )
    if phone := rng.choice(PHONES):
        identifiers[ValueType.MOBILE] = phone
    properties = {"name": rng.choice(NAMES), "birth_date": rng.choice(BIRTHS), "address": rng.choice(ADDRESSES)}
    return CustomerRecord(
        source="core",
        system=rng.choice(["core", "card"]),
        key=f"K{index}",
        line=index + 2,
        kind=kind,
        properties=properties,
        identifiers=identifiers,
        mode=ResolveMode.KEY_ONLY if rng.random() < 0.1 else ResolveMode.AUTO,
    )


@pytest.mark.parametrize("seed", range(30))
def test_pairs_and_scores_are_those_of_the_records(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    if seed % 3 == 0:  # blocks too large to compare are left out alike
        monkeypatch.setattr(matching, "BLOCK_LIMIT", 4)
    records = [random_record(rng, index) for index in range(rng.randrange(2, 80))]
    columns = RecordColumns.of(records)
    assert columns is not None
    assert [tuple(pair) for pair in candidate_pairs_by_columns(columns).tolist()] == candidate_pairs(records)
    for bound in (0.0, 0.2, 0.7, 0.95):
        assert scored_pairs_by_columns(records, bound) == scored_pairs(records, bound)


def test_birth_dates_that_are_not_text_are_compared_as_the_records_compare_them() -> None:
    born = [date(1990, 3, 7), "1990-03-07", date(1990, 3, 7)]
    records = [
        CustomerRecord("crm", "crm", f"K{index}", index, NodeLabel.PERSON, {"name": "王五", "birth_date": birth})
        for index, birth in enumerate(born)
    ]
    assert RecordColumns.of(records) is None
    assert scored_pairs_by_columns(records, 0.0) == scored_pairs(records, 0.0)
    options = {"merge_above": 0.9, "review_above": 0.2, "hash_key": b"k"}
    assert resolve_grouped(records, **options) == resolve(records, **options)  # type: ignore[arg-type]


def levenshtein(left: str, right: str) -> int:
    previous = list(range(len(right) + 1))
    for i, char_left in enumerate(left, start=1):
        current = [i]
        for j, char_right in enumerate(right, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_left != char_right)))
        previous = current
    return previous[-1]


def test_one_edit_apart_is_a_levenshtein_distance_of_at_most_one() -> None:
    rng = random.Random(3)
    for _ in range(20000):
        left = "".join(rng.choice("ab张三") for _ in range(rng.randrange(0, 6)))
        right = "".join(rng.choice("ab张三") for _ in range(rng.randrange(0, 6)))
        assert within_one_edit(left, right) == (levenshtein(left, right) <= 1), (left, right)


def test_texts_told_apart_by_their_characters_are_those_text_level_finds_different() -> None:
    rng = random.Random(5)
    # Characters of one bin (code points 61 apart) and one outside the basic plane, so that bins are shared.
    alphabet = ["a", chr(ord("a") + 61), "b", "张", "三", "丰", "\U00020000", "路", "1"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 14))) for _ in range(400)]
    left = np.array([rng.randrange(len(texts)) for _ in range(20000)])
    right = np.array([rng.randrange(len(texts)) for _ in range(20000)])
    apart = np.array([texts[a] != texts[b] for a, b in zip(left, right, strict=True)])
    left, right = left[apart], right[apart]
    alike = _may_be_similar(pa.array(texts), left, right)
    similar = np.array([text_level(texts[a], texts[b]) == "similar" for a, b in zip(left, right, strict=True)])
    assert similar.sum() > 100 and not (similar & ~alike).any()  # never a similar pair told apart
    assert (~alike).sum() > len(left) // 4  # and many different pairs told apart without difflib


class ComparingScorer:
    """Scores by columns, checking every call against the record-by-record scorer (at the bound asked and
    with no bound, so that every candidate pair's score is compared)."""

    def __init__(self) -> None:
        self.pairs = 0

    def __call__(self, records: Sequence[CustomerRecord], review_above: float) -> list[ScoredPair]:
        assert scored_pairs_by_columns(records, 0.0) == scored_pairs(records, 0.0)
        found = scored_pairs_by_columns(records, review_above)
        assert found == scored_pairs(records, review_above)
        self.pairs += len(found)
        return found


def test_the_generated_banks_planted_duplicates_score_alike(tmp_path: Path) -> None:
    generate(1500, 11, tmp_path / "bank")
    scorer = ComparingScorer()
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        report = load_mapping(store, tmp_path / "bank" / "mapping.yaml", tmp_path / "report", score_pairs=scorer)
    assert scorer.pairs > 0
    assert sum(source.merged for source in report.sources) > 0


@pytest.mark.slow
@pytest.mark.skipif(not FINBENCH_DATA.is_dir(), reason="FinBench snapshot not found")
def test_finbench_customers_score_alike(tmp_path: Path) -> None:
    scorer = ComparingScorer()
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        load_mapping(store, FINBENCH_MAPPING, tmp_path / "report", data_dir=FINBENCH_DATA, score_pairs=scorer)


@pytest.mark.parametrize("seed", range(6))
def test_distinct_values_per_key_are_those_of_the_unique_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(0, 300))
    high = [5, 1_000, 1 << 40][seed % 3]  # the last: pairs too large for one number each
    keys, values = rng.integers(0, high, size), rng.integers(0, [3, 1_000, 1 << 30][seed % 3], size)
    pairs = np.unique(np.stack([keys, values], axis=1), axis=0).reshape(-1, 2)
    expected_keys, expected_counts = np.unique(pairs[:, 0], return_counts=True)
    found_keys, found_counts = _distinct_per_key(keys.astype(np.int64), values.astype(np.int64))
    assert found_keys.tolist() == expected_keys.tolist()
    assert found_counts.tolist() == expected_counts.tolist()


def test_a_pair_sharing_several_blocks_is_made_once_by_a_block_small_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "BLOCK_LIMIT", 3)

    def person(index: int, name: str, birth: str, phone: str | None, national: str | None) -> CustomerRecord:
        identifiers = {ValueType.MOBILE: phone} if phone else {}
        if national:
            identifiers[ValueType.RESIDENT_ID] = national
        properties = {"name": name, "birth_date": birth, "address": ""}
        return CustomerRecord("core", "core", f"K{index}", index + 2, NodeLabel.PERSON, properties, identifiers)

    # 0 and 1 share a birth date (a block of four: too large), a phone and a name; 2 and 3 share the birth
    # date only; 0 and 4 share a name and a phone. Records 0, 1 and 4 lack an ID number.
    records = [
        person(0, "王五", "1990-03-07", "p1", None),
        person(1, "王五", "1990-03-07", "p1", None),
        person(2, "李四", "1990-03-07", None, "n2"),
        person(3, "赵六", "1990-03-07", None, "n3"),
        person(4, "王五", "1985-05-12", "p1", None),
    ]
    columns = RecordColumns.of(records)
    assert columns is not None
    found = [tuple(pair) for pair in candidate_pairs_by_columns(columns).tolist()]
    assert found == candidate_pairs(records) == [(0, 1), (0, 4), (1, 4)]


def card_person(index: int, name: str, birth: str, phone: str, national: str | None) -> CustomerRecord:
    identifiers = {ValueType.MOBILE: phone, **({ValueType.RESIDENT_ID: national} if national else {})}
    properties = {"name": name, "birth_date": birth, "address": "杭州市学院路1号"}
    return CustomerRecord("card", "card", f"K{index}", index + 2, NodeLabel.PERSON, properties, identifiers)


def test_a_duplicate_with_a_typo_in_its_name_and_no_id_number_is_found_among_many_of_its_birth_date() -> None:
    # 王玮 is 王伟 keyed with a typo, without an ID number and with another phone: neither the name nor the phone
    # pairs them, and their birth date is shared by more records than a block may hold.
    crowd_surnames = [surname for surname in SURNAMES if surname != "王"]
    crowd = [
        card_person(index, crowd_surnames[index % len(crowd_surnames)] + "强", "1990-03-07", f"c{index}", f"n{index}")
        for index in range(2, matching.BLOCK_LIMIT + 2)
    ]
    records = [
        card_person(0, "王伟", "1990-03-07", "p1", "h1"),
        card_person(1, "王 玮", "1990-03-07", "p2", None),
        *crowd,
    ]
    columns = RecordColumns.of(records)
    assert columns is not None
    found = [tuple(pair) for pair in candidate_pairs_by_columns(columns).tolist()]
    assert found == candidate_pairs(records)
    assert (0, 1) in found
    assert len(found) < 10  # the lacking record against its birth date and surname only
    options = {"merge_above": 0.95, "review_above": 0.7, "hash_key": b"k"}
    resolved = resolve_grouped(records, **options)  # type: ignore[arg-type]
    assert resolved == resolve(records, **options)  # type: ignore[arg-type]
    assert resolved.customer_ids[0] == resolved.customer_ids[1]
    assert resolved.merges_by_score


def test_blocks_stay_small_where_a_birth_date_or_a_name_alone_would_not() -> None:
    # Generated names (Zipfian surnames, a few dozen given-name characters) and birth dates over ten years, a
    # sixth without an ID number: a birth date alone holds 11 records on average (the largest 24), one name
    # up to 15; the blocks made hold at most 5, and the pairs are fewer than the records lacking an ID number.
    rng = np.random.default_rng(7)
    size = 40_000
    male = rng.random(size) < 0.5
    names = [
        SURNAMES[surname] + given
        for surname, given in zip(surnames(rng, size).tolist(), given_names(rng, male), strict=True)
    ]
    born = np.datetime64("1950-01-01") + rng.integers(0, 10 * 365, size)
    lacking = rng.random(size) < 1 / 6
    records = [
        card_person(index, name, str(birth), f"p{index}", None if lacks else f"n{index}")
        for index, (name, birth, lacks) in enumerate(zip(names, born.tolist(), lacking.tolist(), strict=True))
    ]
    columns = RecordColumns.of(records)
    assert columns is not None

    def largest(keys: np.ndarray) -> int:
        return int(np.unique(keys[keys >= 0], return_counts=True)[1].max())

    assert largest(_codes(columns.birth)) >= 20 and largest(_codes(columns.name)) >= 15
    assert max(largest(columns.keys(block)) for block in BLOCKS) <= 5
    assert len(candidate_pairs_by_columns(columns)) < lacking.sum()
