"""Merges keep what they merge: the surviving values, aliases, lineage values, and same-ID conflicts held for review."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.errors import ConfigurationError
from graph.model import NodeLabel, NodeRecord
from graph.store import GraphStore
from loaders import customers as customer_loading
from loaders import review as reviews
from loaders.load import load_mapping
from loaders.mapping import Mapping
from loaders.survivorship import combine, merged_aliases, survivor_order
from tests.loaders.conftest import RID_ZHANG, TODAY, lineage, write_bank

NO_TIES, NO_ACCOUNTS = "cust_a,cust_b,rel_cd\n", "acct_no,cust_no,bal\n"
CORE_HEADER = "cust_no,cust_name,id_no,birth,mobile,seg_cd\n"
CARD_HEADER = "holder_id,holder_name,cert_no,birth,mobile,card_no\n"


def bank(root: Path, core_row: str, card_row: str, **options: object) -> Path:
    """A bank of one core and one card record ("" for none), without accounts or ties."""
    return write_bank(
        root,
        customers=CORE_HEADER + (core_row and core_row + "\n"),
        holders=CARD_HEADER + (card_row and card_row + "\n"),
        family=NO_TIES,
        accounts=NO_ACCOUNTS,
        **options,  # type: ignore[arg-type]
    )


def people(store: GraphStore) -> list[NodeRecord]:
    return sorted(store.nodes(NodeLabel.PERSON), key=lambda node: node.id)


def test_the_most_recent_record_survives_and_the_other_values_stay_as_aliases(
    tmp_path: Path, store: GraphStore
) -> None:
    mapping = bank(
        tmp_path / "bank",
        f"C1,张伟,{RID_ZHANG},19900307,13812345678,01",
        f"H1,张 伟,{RID_ZHANG},1990-03-07,13900001111,",
    )
    report = load_mapping(store, mapping, tmp_path / "r", today=TODAY, review_path=tmp_path / "review.json")
    assert report.review_pending == 0
    assert [(s.loaded, s.merged, s.quarantined) for s in report.sources[:2]] == [(1, 0, 0), (0, 1, 0)]
    (customer,) = people(store)
    # The card record was read last: its values win, the core record's differing ones are kept.
    assert customer.properties["name"] == "张 伟" and customer.properties["name_aliases"] == ["张伟"]
    assert customer.properties["phone_masked"] == "139****1111"
    assert customer.properties["phone_masked_aliases"] == ["138****5678"]
    assert customer.properties["segment"] == "retail"  # filled from the core record, which alone has it
    assert "birth_date_aliases" not in customer.properties
    core = store.get_node(NodeLabel.SOURCE_RECORD, "core:C1")
    assert core is not None and core.properties == {
        "system": "core",
        "source": "core_customers",
        "line": 2,
        "name": "张伟",
        "birth_date": "1990-03-07",
        "phone_masked": "138****5678",
    }
    assert "13812345678" not in repr(core.properties) and "13812345678" not in repr(customer.properties)


def test_source_priority_in_the_mapping_picks_the_survivor(tmp_path: Path, store: GraphStore) -> None:
    mapping = bank(
        tmp_path / "bank",
        f"C1,张伟,{RID_ZHANG},19900307,13812345678,01",
        f"H1,张 伟,{RID_ZHANG},1990-03-07,13900001111,",
    )
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("review_above: 0.7}", "review_above: 0.7, source_priority: [core_customers]}"))
    load_mapping(store, mapping, tmp_path / "r", today=TODAY, review_path=tmp_path / "review.json")
    (customer,) = people(store)
    assert customer.properties["name"] == "张伟" and customer.properties["name_aliases"] == ["张 伟"]
    assert customer.properties["phone_masked"] == "138****5678"


def test_source_priority_must_name_customer_sources(tmp_path: Path) -> None:
    mapping = bank(tmp_path / "bank", "C1,张伟,,19900307,,01", "H1,张伟,,,,")
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("review_above: 0.7}", "review_above: 0.7, source_priority: [accounts, nope]}"))
    with pytest.raises(ConfigurationError, match="source_priority names no customer source: accounts, nope"):
        Mapping.from_file(mapping)


def test_same_id_with_two_names_waits_for_review_then_merge_keeps_both_names(tmp_path: Path, store: GraphStore) -> None:
    mapping = bank(
        tmp_path / "bank",
        f"C1,张伟,{RID_ZHANG},19900307,13812345678,01",
        f"H1,吴磊,{RID_ZHANG},1990-03-07,,",
    )
    review_path = tmp_path / "review.json"
    report = load_mapping(store, mapping, tmp_path / "r", today=TODAY, review_path=review_path)
    # Nothing picked: two customers, each with its own record, and the question in the review list.
    assert report.review_pending == 1
    assert [(s.loaded, s.merged) for s in report.sources[:2]] == [(1, 0), (1, 0)]
    assert sorted(node.properties["name"] for node in people(store)) == ["吴磊", "张伟"]
    (pair,) = reviews.ReviewList.read(review_path).pending()
    assert pair.differs == ["name"] and pair.left_records == ["card:H1"] and pair.right_records == ["core:C1"]
    assert "张伟" not in review_path.read_text(encoding="utf-8")  # the review file holds no personal data
    kept = store.get_node(NodeLabel.CUSTOMER, pair.left_customer)
    assert kept is not None and kept.properties["name"] == "吴磊"  # the survivor's part keeps the ID's customer

    reviews.merge(store, review_path, pair.id)
    (customer,) = people(store)
    assert customer.id == pair.left_customer
    assert customer.properties["name"] == "吴磊" and customer.properties["name_aliases"] == ["张伟"]
    assert lineage(store) == {customer.id: {"core:C1", "card:H1"}}

    # A reload honours the decision and rebuilds the same customer from both records.
    report = load_mapping(store, mapping, tmp_path / "r2", today=TODAY, review_path=review_path)
    assert report.review_pending == 0
    assert [(s.loaded, s.merged) for s in report.sources[:2]] == [(1, 0), (0, 1)]
    (again,) = people(store)
    assert again.id == customer.id and again.properties == customer.properties
    assert lineage(store) == {customer.id: {"core:C1", "card:H1"}}


def test_same_id_with_two_birth_dates_separated_stays_apart(tmp_path: Path, store: GraphStore) -> None:
    mapping = bank(
        tmp_path / "bank",
        f"C1,张伟,{RID_ZHANG},19900307,,01",
        f"H1,张伟,{RID_ZHANG},1990-03-08,,",
    )
    review_path = tmp_path / "review.json"
    load_mapping(store, mapping, tmp_path / "r", today=TODAY, review_path=review_path)
    (pair,) = reviews.ReviewList.read(review_path).pending()
    assert pair.differs == ["birth_date"]
    reviews.separate(review_path, pair.id)
    report = load_mapping(store, mapping, tmp_path / "r2", today=TODAY, review_path=review_path)
    assert report.review_pending == 0
    assert sorted(node.properties["birth_date"] for node in people(store)) == ["1990-03-07", "1990-03-08"]
    assert sorted(map(sorted, lineage(store).values())) == [["card:H1"], ["core:C1"]]


def test_the_customer_known_under_the_id_keeps_it_when_a_conflicting_record_arrives(tmp_path: Path) -> None:
    from graph.embedded import EmbeddedStore

    first = bank(tmp_path / "one", f"C1,张伟,{RID_ZHANG},19900307,,01", "H9,王五,,,,")
    both = bank(tmp_path / "two", f"C1,张伟,{RID_ZHANG},19900307,,01", f"H1,吴磊,{RID_ZHANG},,,")
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load_mapping(store, first, tmp_path / "r1", today=TODAY, review_path=tmp_path / "review.json")
        (zhang,) = [customer for customer, refs in lineage(store).items() if refs == {"core:C1"}]
        load_mapping(store, both, tmp_path / "r2", today=TODAY, review_path=tmp_path / "review.json")
        assert lineage(store)[zhang] == {"core:C1"}
        assert store.get_node(NodeLabel.CUSTOMER, zhang).properties["name"] == "张伟"  # type: ignore[union-attr]
        (pair,) = reviews.ReviewList.read(tmp_path / "review.json").pending()
        assert pair.left_customer == zhang and pair.right_records == ["card:H1"]


@pytest.mark.parametrize("look_up_at_most", [1000, 0])
def test_a_load_of_one_system_after_another_still_sees_the_conflict(
    tmp_path: Path, store: GraphStore, monkeypatch: pytest.MonkeyPatch, look_up_at_most: int
) -> None:
    # With 0 the earlier records are found by one pass over every SourceRecord instead of one by one.
    monkeypatch.setattr(customer_loading, "LOOK_UP_AT_MOST", look_up_at_most)
    core_only = bank(tmp_path / "core", f"C1,张伟,{RID_ZHANG},19900307,13812345678,01", "")
    card_only = bank(tmp_path / "card", "", f"H1,吴磊,{RID_ZHANG},1990-03-07,,")
    review_path = tmp_path / "review.json"
    load_mapping(store, core_only, tmp_path / "r1", today=TODAY, review_path=review_path)
    (zhang,) = people(store)
    report = load_mapping(store, card_only, tmp_path / "r2", today=TODAY, review_path=review_path)
    assert report.review_pending == 1 and report.sources[1].loaded == 1
    (pair,) = reviews.ReviewList.read(review_path).pending()
    assert (pair.left_customer, pair.left_records, pair.right_records) == (zhang.id, ["core:C1"], ["card:H1"])
    assert pair.differs == ["name"]
    assert store.get_node(NodeLabel.CUSTOMER, zhang.id) == zhang  # the card load left him as he was

    reviews.merge(store, review_path, pair.id)
    (merged,) = people(store)
    assert merged.properties["name"] == "张伟" and merged.properties["name_aliases"] == ["吴磊"]
    # Loading the card export alone again: the decision holds and the core record's values are not lost.
    report = load_mapping(store, card_only, tmp_path / "r3", today=TODAY, review_path=review_path)
    assert report.review_pending == 0
    (again,) = people(store)
    assert again.id == zhang.id and lineage(store) == {zhang.id: {"core:C1", "card:H1"}}
    assert again.properties["name"] == "吴磊" and again.properties["name_aliases"] == ["张伟"]  # the latest wins
    assert again.properties["phone_masked"] == "138****5678" and again.properties["segment"] == "retail"


def test_source_priority_holds_across_loads_of_one_system_at_a_time(tmp_path: Path, store: GraphStore) -> None:
    priority = "review_above: 0.7, source_priority: [core_customers]}"
    core_only = bank(tmp_path / "core", f"C1,张伟,{RID_ZHANG},19900307,13812345678,01", "")
    card_only = bank(tmp_path / "card", "", f"H1,张 伟,{RID_ZHANG},1990-03-07,13900001111,")
    for mapping in (core_only, card_only):
        mapping.write_text(mapping.read_text(encoding="utf-8").replace("review_above: 0.7}", priority))
        load_mapping(store, mapping, tmp_path / mapping.parent.name, today=TODAY, review_path=tmp_path / "r.json")
    (customer,) = people(store)
    assert customer.properties["name"] == "张伟" and customer.properties["name_aliases"] == ["张 伟"]
    assert customer.properties["phone_masked"] == "138****5678"
    assert customer.properties["phone_masked_aliases"] == ["139****1111"]


def test_cli_review_says_why_a_pair_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = bank(tmp_path / "bank", f"C1,张伟,{RID_ZHANG},19900307,,01", f"H1,吴磊,{RID_ZHANG},1990-03-07,,")
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("CRM_GRAPH_REVIEW_PATH", str(tmp_path / "review.json"))
    runner = CliRunner()
    assert runner.invoke(app, ["load", str(mapping), "--report-dir", str(tmp_path / "rep")]).exit_code == 0
    listed = runner.invoke(app, ["review"])
    assert listed.exit_code == 0 and "same ID number; differs: name" in listed.output
    assert "张伟" not in listed.output and "吴磊" not in listed.output


def test_combine_and_merged_aliases() -> None:
    ranked = [{"name": "B", "city": None, "phone_masked": "1"}, {"name": "A", "city": "杭州", "phone_masked": "1"}]
    combined = combine(ranked)
    assert combined["name"] == "B" and combined["city"] == "杭州" and combined["name_aliases"] == ["A"]
    assert combined["phone_masked_aliases"] is None
    assert survivor_order(["core", "card", "core"], {}) == [2, 1, 0]
    assert survivor_order(["core", "card", "core"], {"card": 0}) == [1, 2, 0]
    kept = {"name": "B", "name_aliases": ["A"], "address": "x"}
    dropped = {"name": "C", "name_aliases": ["A", "B"], "address": "x"}
    assert merged_aliases(kept, dropped) == {"name_aliases": ["A", "C"]}
