"""Entity resolution across systems, the scored matcher, and review decisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.store import GraphStore
from loaders import review as reviews
from loaders.load import load_mapping
from loaders.mapping import ResolveMode
from loaders.matching import candidate_pairs, match_probability
from loaders.resolve import CustomerRecord, resolve
from tests.loaders.conftest import RID_ZHANG, TODAY, lineage, write_bank

KEY = b"k"
PHONE = "13812345678"

# 张三 with an ID in core; a card-system record without ID, name typo'd (张叁), same birth date and phone.
CORE = f"cust_no,cust_name,id_no,birth,mobile,seg_cd\nC1,张三,{RID_ZHANG},19900307,{PHONE},01\n"
NO_TIES, NO_ACCOUNTS = "cust_a,cust_b,rel_cd\n", "acct_no,cust_no,bal\n"
TYPO = "holder_id,holder_name,cert_no,birth,mobile,card_no\nH9,张叁,,1990-03-07,{phone},\n"


def test_same_id_in_two_systems_is_one_customer_with_two_lineage_ties(bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load_mapping(store, bank, tmp_path / "r", today=TODAY)
        (zhang,) = [c for c, refs in lineage(store).items() if "core:C1" in refs]
        assert lineage(store)[zhang] == {"core:C1", "card:H1"}
        assert zhang.startswith("P")
        record = store.get_node(NodeLabel.SOURCE_RECORD, "card:H1")
        assert record is not None and record.properties == {
            "system": "card",
            "source": "card_customers",
            "line": 2,
            "name": "张三",
            "birth_date": "1990-03-07",
        }


def test_typo_with_same_birth_date_and_phone_merges(tmp_path: Path) -> None:
    mapping = write_bank(
        tmp_path / "bank",
        customers=CORE,
        holders=TYPO.format(phone=PHONE),
        family="cust_a,cust_b,rel_cd\n",
        accounts="acct_no,cust_no,bal\n",
    )
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load_mapping(store, mapping, tmp_path / "r", today=TODAY)
        assert report.merged_by_score == 1 and report.review_pending == 0
        assert list(lineage(store).values()) == [{"core:C1", "card:H9"}]


def test_same_pair_goes_to_review_under_a_stricter_threshold_then_merge(tmp_path: Path) -> None:
    mapping = write_bank(
        tmp_path / "bank",
        customers=CORE,
        holders=TYPO.format(phone=PHONE),
        merge_above=0.99999,
        family="cust_a,cust_b,rel_cd\n",
        accounts="acct_no,cust_no,bal\n",
    )
    review_path = tmp_path / "review.json"
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load_mapping(store, mapping, tmp_path / "r", today=TODAY, review_path=review_path)
        assert report.review_pending == 1 and store.counts().nodes["Person"] == 2
        (pair,) = reviews.ReviewList.read(review_path).pending()
        assert 0.99 < pair.probability < 0.99999
        reviews.merge(store, review_path, pair.id)
        assert lineage(store) == {pair.left_customer: {"core:C1", "card:H9"}}
        assert store.get_node(NodeLabel.CUSTOMER, pair.right_customer) is None
        assert store.counts().nodes["Person"] == 1
        assert reviews.ReviewList.read(review_path).pending() == []
        # A reload honours the decision: both records stay with the kept customer, nothing is asked again.
        report = load_mapping(store, mapping, tmp_path / "r2", today=TODAY, review_path=review_path)
        assert report.review_pending == 0
        assert lineage(store) == {pair.left_customer: {"core:C1", "card:H9"}}
        assert store.counts().nodes["Person"] == 1


def test_separated_pair_is_not_asked_again(tmp_path: Path) -> None:
    mapping = write_bank(
        tmp_path / "bank",
        customers=CORE,
        holders=TYPO.format(phone=PHONE),
        merge_above=0.99999,
        family="cust_a,cust_b,rel_cd\n",
        accounts="acct_no,cust_no,bal\n",
    )
    review_path = tmp_path / "review.json"
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load_mapping(store, mapping, tmp_path / "r", today=TODAY, review_path=review_path)
        (pair,) = reviews.ReviewList.read(review_path).pending()
        reviews.separate(review_path, pair.id)
        report = load_mapping(store, mapping, tmp_path / "r2", today=TODAY, review_path=review_path)
        assert report.review_pending == 0 and store.counts().nodes["Person"] == 2


def test_typo_with_a_different_phone_stays_apart(tmp_path: Path) -> None:
    mapping = write_bank(
        tmp_path / "bank",
        customers=CORE,
        holders=TYPO.format(phone="13900001111"),
        family="cust_a,cust_b,rel_cd\n",
        accounts="acct_no,cust_no,bal\n",
    )
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load_mapping(store, mapping, tmp_path / "r", today=TODAY)
        assert report.merged_by_score == 0 and store.counts().nodes["Person"] == 2


def person(system: str, key: str, name: str, *, mode: ResolveMode = ResolveMode.AUTO, **ids: str) -> CustomerRecord:
    from loaders.mapping import ValueType

    identifiers = {ValueType(kind): value for kind, value in ids.items()}
    return CustomerRecord(
        system,
        system,
        key,
        2,
        NodeLabel.PERSON,
        {"name": name, "birth_date": "1990-03-07"},
        identifiers,
        mode,
        "fb-p-" if mode is ResolveMode.KEY_ONLY else "",
    )


def test_key_only_sources_never_merge_on_equal_names() -> None:
    records = [
        person("fb", "1", "Neale", mode=ResolveMode.KEY_ONLY),
        person("fb", "2", "Neale", mode=ResolveMode.KEY_ONLY),
    ]
    resolved = resolve(records, merge_above=0.9, review_above=0.5, hash_key=KEY)
    assert resolved.customer_ids == ["fb-p-1", "fb-p-2"] and resolved.review == []


def test_different_valid_ids_never_merge_even_through_a_bridge_record() -> None:
    records = [
        person("a", "1", "张三", resident_id="h1", mobile="m"),
        person("b", "2", "张三", resident_id="h2", mobile="m"),
        person("c", "3", "张三", mobile="m"),
    ]
    resolved = resolve(records, merge_above=0.9, review_above=0.5, hash_key=KEY)
    assert resolved.customer_ids[0] != resolved.customer_ids[1]
    assert resolved.customer_ids[2] in resolved.customer_ids[:2]
    assert len(resolved.review) == 1


def test_scores_are_deterministic_and_ordered() -> None:
    exact = match_probability(person("a", "1", "张三", mobile="m"), person("b", "2", "张三", mobile="m"))
    typo = match_probability(person("a", "1", "张三", mobile="m"), person("b", "2", "张叁", mobile="m"))
    stranger = match_probability(person("a", "1", "张三", mobile="m"), person("b", "2", "李四", mobile="x"))
    assert exact > typo > 0.99 > 0.01 > stranger
    ids = resolve([person("a", "1", "x"), person("b", "2", "y")], merge_above=0.9, review_above=0.5, hash_key=KEY)
    again = resolve([person("a", "1", "x"), person("b", "2", "y")], merge_above=0.9, review_above=0.5, hash_key=KEY)
    assert ids.customer_ids == again.customer_ids


def test_candidate_pairs_are_the_block_mates_of_records_lacking_an_id() -> None:
    # All pairs sharing a block (here: every record, one birth date and surname) but those where both sides
    # have an ID.
    records = [
        person("a", "1", "张三", resident_id="h1"),
        person("b", "2", "张四", resident_id="h2"),
        person("c", "3", "张五"),
        person("d", "4", "张六", resident_id="h3"),
        person("e", "5", "张五"),
    ]
    expected = [
        (left, right)
        for left in range(len(records))
        for right in range(left + 1, len(records))
        if not (records[left].national_id and records[right].national_id)
    ]
    assert candidate_pairs(records) == expected


def test_cli_review_lists_and_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = write_bank(
        tmp_path / "bank",
        customers=CORE,
        holders=TYPO.format(phone=PHONE),
        merge_above=0.99999,
        family=NO_TIES,
        accounts=NO_ACCOUNTS,
    )
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("CRM_GRAPH_REVIEW_PATH", str(tmp_path / "review.json"))
    runner = CliRunner()
    assert runner.invoke(app, ["load", str(mapping), "--report-dir", str(tmp_path / "rep")]).exit_code == 0
    (pair,) = reviews.ReviewList.read(tmp_path / "review.json").pending()
    listed = runner.invoke(app, ["review"])
    assert listed.exit_code == 0 and pair.id in listed.output
    assert runner.invoke(app, ["review", "--merge", pair.id]).exit_code == 0
    assert reviews.ReviewList.read(tmp_path / "review.json").pending() == []
    assert runner.invoke(app, ["review", "--separate", "nope"]).exit_code == 1


@pytest.mark.parametrize("neighbours", [1000, 1])
def test_review_merge_moves_every_tie_and_deletes_the_dropped_customer(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, neighbours: int
) -> None:
    # With a neighbourhood limit of 1 the merge must fall back to reading every tie, and find the same.
    monkeypatch.setattr(reviews, "MAX_NEIGHBOURS", neighbours)
    store.write(
        [
            {"label": "Person", "id": "k", "properties": {"name": "张三", "city": "杭州"}},
            {"label": "Person", "id": "d", "properties": {"name": "张叁", "phone_masked": "138****5678"}},
            {"label": "Person", "id": "w", "properties": {"name": "李四"}},
            {"label": "Account", "id": "d"},
            {"label": "Manager", "id": "m"},
        ],
        [
            {"type": "SPOUSE_OF", "source": "d", "target": "w", "properties": {"since": "2010-01-01"}},
            {"type": "SIBLING_OF", "source": "d", "target": "k"},
            {"type": "OWNS", "source": "d", "target": "d", "properties": {"role": "owner"}},
            {"type": "MANAGES", "source": "m", "target": "d"},
            {"type": "OWNS", "source": "w", "target": "d", "properties": {"role": "joint"}},
        ],
    )
    review_path = tmp_path / "review.json"
    pair = reviews.ReviewPair(
        id="p1",
        pair_key="x",
        left_customer="k",
        right_customer="d",
        left_records=["a:1"],
        right_records=["b:2"],
        probability=0.9,
    )
    reviews.ReviewList(pairs=[pair]).write(review_path)
    reviews.merge(store, review_path, "p1")
    assert store.get_node(NodeLabel.CUSTOMER, "d") is None
    kept = store.get_node(NodeLabel.CUSTOMER, "k")
    assert kept is not None and kept.properties == {
        "name": "张三",
        "city": "杭州",
        "phone_masked": "138****5678",
        "name_aliases": ["张叁"],  # the dropped customer's name is kept
    }
    assert [(t.type, t.source, t.target, t.properties) for t in store.ties()] == [
        ("MANAGES", "m", "k", {}),
        ("OWNS", "k", "d", {"role": "owner"}),
        ("OWNS", "w", "d", {"role": "joint"}),
        ("SPOUSE_OF", "k", "w", {"since": "2010-01-01"}),
    ]
    assert reviews.ReviewList.read(review_path).pairs[0].status == "merged"
