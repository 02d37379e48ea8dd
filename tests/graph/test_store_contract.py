"""The store contract: every operation, on both backends, with the same expected results."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from graph.errors import (
    InvalidBatch,
    InvalidRequest,
    MissingEndpoint,
    NotFound,
    StoreError,
    UnknownLabel,
    UnknownTieType,
    UnsupportedProperty,
)
from graph.model import NodeLabel, TieType
from graph.store import GraphStore
from queries.accounts import LIST_CUSTOMER_ACCOUNTS
from tests.samples import BIG_ID, family_nodes, family_ties, snapshot


@pytest.fixture
def family(store: GraphStore) -> GraphStore:
    store.write(family_nodes(), family_ties())
    return store


def test_write_reports_what_was_written(store: GraphStore) -> None:
    result = store.write(family_nodes(), family_ties())
    assert (result.nodes, result.ties) == (9, 11)


def test_counts_by_label_and_type(family: GraphStore) -> None:
    counts = family.counts()
    assert counts.nodes == {
        "Account": 2,
        "Branch": 1,
        "Company": 1,
        "Customer": 4,
        "Manager": 1,
        "Person": 3,
        "Product": 1,
    }
    assert counts.ties == {
        "EMPLOYED_BY": 1,
        "LEGAL_REP_OF": 1,
        "MANAGES": 1,
        "OF_PRODUCT": 1,
        "OWNS": 3,
        "PARENT_OF": 1,
        "SHAREHOLDER_OF": 1,
        "SPOUSE_OF": 1,
        "WORKS_AT": 1,
    }


def test_get_node_returns_kind_and_exact_values(family: GraphStore) -> None:
    person = family.get_node(NodeLabel.CUSTOMER, "p1")
    assert person is not None
    assert person.label is NodeLabel.PERSON
    assert person.properties == {"name": "王伟", "birth_year": 1980, "score": 0.5}
    assert type(person.properties["birth_year"]) is int
    account = family.get_node(NodeLabel.ACCOUNT, "a2")
    assert account is not None and account.properties["balances"] == [1.0, 2.5]
    assert all(type(value) is float for value in account.properties["balances"])


def test_get_node_respects_kind_and_absence(family: GraphStore) -> None:
    assert family.get_node(NodeLabel.COMPANY, "p1") is None
    assert family.get_node(NodeLabel.PERSON, "p1") is not None
    assert family.get_node(NodeLabel.CUSTOMER, "nobody") is None
    assert family.get_node(NodeLabel.ACCOUNT, "p1") is None


def test_ids_above_two_to_the_53_stay_exact(family: GraphStore) -> None:
    record = family.get_node(NodeLabel.PERSON, BIG_ID)
    assert record is not None and record.id == BIG_ID
    assert any(tie.target == BIG_ID for tie in family.ties([TieType.PARENT_OF]))


def test_same_batch_twice_changes_nothing(family: GraphStore) -> None:
    before = snapshot(family)
    family.write(family_nodes(), family_ties())
    assert snapshot(family) == before


def test_properties_merge_and_none_removes(family: GraphStore) -> None:
    family.write([{"label": "Person", "id": "p1", "properties": {"score": None, "city": "杭州"}}])
    person = family.get_node(NodeLabel.PERSON, "p1")
    assert person is not None
    assert person.properties == {"name": "王伟", "birth_year": 1980, "city": "杭州"}


def test_customer_label_updates_without_changing_kind(family: GraphStore) -> None:
    family.write([{"label": "Customer", "id": "c1", "properties": {"tier": "gold"}}])
    company = family.get_node(NodeLabel.CUSTOMER, "c1")
    assert company is not None and company.label is NodeLabel.COMPANY and company.properties["tier"] == "gold"


def test_symmetric_ties_are_stored_once(family: GraphStore) -> None:
    family.write(ties=[{"type": "SPOUSE_OF", "source": "p1", "target": "p2", "properties": {"since": "2006-01-01"}}])
    spouses = list(family.ties([TieType.SPOUSE_OF]))
    assert [(tie.source, tie.target, tie.properties) for tie in spouses] == [("p1", "p2", {"since": "2006-01-01"})]


def test_duplicates_within_a_batch_are_merged(store: GraphStore) -> None:
    result = store.write(
        [
            {"label": "Person", "id": "x", "properties": {"a": 1}},
            {"label": "Person", "id": "x", "properties": {"b": 2}},
            {"label": "Person", "id": "y"},
        ],
        [
            {"type": "REFERRED", "source": "x", "target": "y", "properties": {"at": "2024-01-01"}},
            {"type": "REFERRED", "source": "x", "target": "y", "properties": {"channel": "app"}},
        ],
    )
    assert (result.nodes, result.ties) == (2, 1)
    assert store.get_node(NodeLabel.PERSON, "x").properties == {"a": 1, "b": 2}  # type: ignore[union-attr]
    assert [tie.properties for tie in store.ties([TieType.REFERRED])] == [{"at": "2024-01-01", "channel": "app"}]


def test_neighbourhood_in_both_directions_ordered(family: GraphStore) -> None:
    around = family.neighbourhood(NodeLabel.PERSON, "p1")
    assert around.center.id == "p1"
    assert [(tie.type.value, tie.source, tie.target) for tie in around.ties] == [
        ("LEGAL_REP_OF", "p1", "c1"),
        ("MANAGES", "m1", "p1"),
        ("OWNS", "p1", "a1"),
        ("OWNS", "p1", "a2"),
        ("PARENT_OF", "p1", BIG_ID),
        ("SHAREHOLDER_OF", "p1", "c1"),
        ("SPOUSE_OF", "p1", "p2"),
    ]
    assert [node.id for node in around.neighbours] == ["c1", "m1", "a1", "a2", BIG_ID, "p2"]
    assert around.omitted == 0


def test_neighbourhood_filters_and_limits(family: GraphStore) -> None:
    around = family.neighbourhood(NodeLabel.PERSON, "p1", types=[TieType.OWNS, TieType.SPOUSE_OF], limit=2)
    assert [(tie.type.value, tie.target) for tie in around.ties] == [("OWNS", "a1"), ("OWNS", "a2")]
    assert around.omitted == 1


def test_neighbourhood_refuses_unbounded_limits_and_missing_nodes(family: GraphStore) -> None:
    with pytest.raises(InvalidRequest, match="between 1 and"):
        family.neighbourhood(NodeLabel.PERSON, "p1", limit=0)
    with pytest.raises(NotFound):
        family.neighbourhood(NodeLabel.PERSON, "ghost")


def test_nodes_are_listed_by_label_in_id_order(family: GraphStore) -> None:
    assert [node.id for node in family.nodes(NodeLabel.PERSON)] == sorted(["p1", "p2", BIG_ID])
    assert [node.id for node in family.nodes(NodeLabel.CUSTOMER)] == sorted(["p1", "p2", BIG_ID, "c1"])
    assert [node.id for node in family.nodes(NodeLabel.COMPANY)] == ["c1"]


def test_node_ids_are_the_ids_nodes_lists(family: GraphStore) -> None:
    # After a deletion, a new node and a customer whose kind changed (on the embedded store: beside its columns).
    family.write(
        [{"label": "Company", "id": "p1"}, {"label": "Person", "id": "a0"}, {"label": "Account", "id": "x9"}],
        delete=[("Person", "p2")],
    )
    for label in NodeLabel:
        assert family.node_ids(label) == [node.id for node in family.nodes(label)]
    assert family.node_ids(NodeLabel.COMPANY) == ["c1", "p1"]


def test_named_query_runs(family: GraphStore) -> None:
    rows = family.run(LIST_CUSTOMER_ACCOUNTS, {"customer_id": "p1"})
    assert rows == [
        {"account_id": "a1", "role": "owner", "product_id": "TD01", "status": "open"},
        {"account_id": "a2", "role": "owner", "product_id": None, "status": "closed"},
    ]
    assert family.run(LIST_CUSTOMER_ACCOUNTS, {"customer_id": "nobody"}) == []


@pytest.mark.parametrize(
    ("nodes", "ties", "error", "message"),
    [
        ([{"label": "Planet", "id": "x"}], [], UnknownLabel, "node row 2: unknown label 'Planet'"),
        ([], [{"type": "LOVES", "source": "p1", "target": "p2"}], UnknownTieType, "tie row 2: unknown relationship"),
        ([{"label": "Person", "id": "z", "properties": {"tags": {"a": 1}}}], [], UnsupportedProperty, "node row 2"),
        ([{"label": "Person", "id": "z", "properties": {"mixed": [1, "a"]}}], [], UnsupportedProperty, "'mixed'"),
        ([], [{"type": "OWNS", "source": "p1", "target": "a-missing"}], MissingEndpoint, "tie row 2: OWNS target"),
        ([], [{"type": "SPOUSE_OF", "source": "p1", "target": "p1"}], InvalidBatch, "tie row 2: SPOUSE_OF from 'p1'"),
    ],
)
def test_bad_rows_are_refused_whole_and_named(
    family: GraphStore, nodes: list[Any], ties: list[Any], error: type[Exception], message: str
) -> None:
    before = snapshot(family)
    good_node = {"label": "Person", "id": "new-person", "properties": {"name": "新客户"}}
    good_tie = {"type": "SPOUSE_OF", "source": "new-person", "target": "p2"}
    with pytest.raises(error, match=message):
        family.write([good_node, *nodes], [good_tie, *ties])
    assert snapshot(family) == before


def test_clear_empties_the_store(family: GraphStore) -> None:
    family.clear()
    assert family.counts().nodes == {} and family.counts().ties == {}
    family.ping()


def test_delete_takes_the_node_with_every_tie_touching_it(family: GraphStore) -> None:
    # An account that shares the id of the deleted customer, owned by another customer, must stay.
    family.write([{"label": "Account", "id": "p2"}], [{"type": "OWNS", "source": "c1", "target": "p2"}])
    before = snapshot(family)
    result = family.write(delete=[("Person", "p2"), (NodeLabel.CUSTOMER, "nobody")])
    assert (result.nodes, result.ties, result.deleted) == (0, 0, 1)
    assert family.get_node(NodeLabel.CUSTOMER, "p2") is None
    assert family.get_node(NodeLabel.ACCOUNT, "p2") is not None
    gone = {("SPOUSE_OF", "p1", "p2"), ("EMPLOYED_BY", "p2", "c1"), ("OWNS", "p2", "a1")}
    ends = [(tie["type"], tie["source"], tie["target"]) for tie in before["ties"]]
    assert gone < set(ends)
    assert [tie.model_dump() for tie in family.ties()] == [
        tie for tie, end in zip(before["ties"], ends, strict=True) if end not in gone
    ]
    assert family.counts().nodes["Person"] == 2 and family.counts().nodes["Customer"] == 3
    # Deleting again does nothing; writing the id again makes a new node with no old ties.
    assert family.write(delete=[("Customer", "p2")]).deleted == 0
    family.write([{"label": "Person", "id": "p2", "properties": {"name": "新"}}])
    assert family.neighbourhood(NodeLabel.CUSTOMER, "p2").ties == []


def test_upserts_and_deletes_of_one_batch_commit_together(family: GraphStore) -> None:
    # A review merge: p2's tie to c1 moves to p1 and p2 goes, in one write.
    result = family.write(
        [{"label": "Person", "id": "p1", "properties": {"merged_from": "p2"}}],
        [{"type": "EMPLOYED_BY", "source": "p1", "target": "c1"}],
        [("Person", "p2")],
    )
    assert (result.nodes, result.ties, result.deleted) == (1, 1, 1)
    assert family.get_node(NodeLabel.CUSTOMER, "p2") is None
    node = family.get_node(NodeLabel.CUSTOMER, "p1")
    assert node is not None and node.properties["merged_from"] == "p2"
    assert [(t.type, t.source) for t in family.neighbourhood(NodeLabel.COMPANY, "c1", [TieType.EMPLOYED_BY]).ties] == [
        ("EMPLOYED_BY", "p1")
    ]


@pytest.mark.parametrize(
    ("nodes", "ties", "delete", "error", "message"),
    [
        ([], [], [("Planet", "x")], UnknownLabel, "delete row 1: unknown label 'Planet'"),
        ([], [], [("Person", "")], InvalidBatch, "delete row 1: a node to delete needs"),
        ([], [], ["p1"], UnknownLabel, "delete row 1"),
        ([{"label": "Person", "id": "p1"}], [], [("Customer", "p1")], InvalidBatch, "both written and deleted"),
        ([], [{"type": "OWNS", "source": "p1", "target": "a2"}], [("Person", "p1")], InvalidBatch, "tie row 1: OWNS"),
        ([], [{"type": "OWNS", "source": "c1", "target": "a2"}], [("Account", "a2")], InvalidBatch, "tie row 1"),
    ],
)
def test_bad_deletes_are_refused_whole(
    family: GraphStore, nodes: list[Any], ties: list[Any], delete: list[Any], error: type[Exception], message: str
) -> None:
    before = snapshot(family)
    with pytest.raises(error, match=message):
        family.write([{"label": "Person", "id": "new-person"}, *nodes], ties, delete)
    assert snapshot(family) == before


def test_reads_in_a_reading_context_answer_as_alone(family: GraphStore) -> None:
    alone = (
        family.get_node(NodeLabel.CUSTOMER, "p1"),
        family.neighbourhood(NodeLabel.CUSTOMER, "p1"),
        family.run(LIST_CUSTOMER_ACCOUNTS, {"customer_id": "p1"}),
        [node.id for node in family.nodes(NodeLabel.CUSTOMER)],
    )
    with family.reading():
        together = (
            family.get_node(NodeLabel.CUSTOMER, "p1"),
            family.neighbourhood(NodeLabel.CUSTOMER, "p1"),
            family.run(LIST_CUSTOMER_ACCOUNTS, {"customer_id": "p1"}),
            [node.id for node in family.nodes(NodeLabel.CUSTOMER)],
        )
        with family.reading():  # nested: the outer context serves
            assert family.get_node(NodeLabel.CUSTOMER, "p1") == alone[0]
        family.write([{"label": "Person", "id": "p9", "properties": {"name": "Nine"}}])
        written = family.get_node(NodeLabel.PERSON, "p9")
    assert together == alone
    assert written is not None and written.properties["name"] == "Nine"


def test_a_node_written_in_a_reading_context_is_read_afresh(family: GraphStore) -> None:
    with family.reading():
        before = family.get_node(NodeLabel.CUSTOMER, "p1")
        assert family.get_node(NodeLabel.CUSTOMER, "p1") == before  # Neo4j sends the second read of it no more
        family.write([{"label": "Person", "id": "p1", "properties": {"name": "Renamed"}}])
        after = family.get_node(NodeLabel.CUSTOMER, "p1")
    assert before is not None and before.properties["name"] != "Renamed"
    assert after is not None and after.properties["name"] == "Renamed"


@pytest.mark.neo4j
def test_a_refused_read_in_a_reading_context_leaves_the_next_reads_working(neo4j_store: GraphStore) -> None:
    neo4j_store.write(family_nodes(), family_ties())
    with neo4j_store.reading():
        assert neo4j_store.get_node(NodeLabel.CUSTOMER, "p1") is not None
        with pytest.raises(StoreError, match="ParameterMissing"):
            neo4j_store.run(LIST_CUSTOMER_ACCOUNTS, {})
        assert [row["account_id"] for row in neo4j_store.run(LIST_CUSTOMER_ACCOUNTS, {"customer_id": "p1"})] == [
            "a1",
            "a2",
        ]


def test_columns_read_the_named_properties_of_every_node_and_ties_as_rows(family: GraphStore) -> None:
    nodes, ties = family.columns(
        {NodeLabel.CUSTOMER: ["name", "birth_year", "nothing"], NodeLabel.ACCOUNT: ["balances", "status"]},
        {TieType.OWNS: ["role"], TieType.SPOUSE_OF: []},
    )
    customers, accounts = nodes[NodeLabel.CUSTOMER], nodes[NodeLabel.ACCOUNT]
    assert customers.column_names == ["id", "kind", "name", "birth_year", "nothing"]
    assert _plain(customers, "id") == [BIG_ID, "c1", "p1", "p2"]
    assert _plain(customers, "kind") == ["Person", "Company", "Person", "Person"]
    assert _plain(customers, "name") == ["王小明", "杭州云帆科技有限公司", "王伟", "李娜"]
    assert _plain(customers, "birth_year") == [None, None, 1980, None]
    assert _plain(customers, "nothing") == [None] * 4
    assert _plain(accounts, "balances") == [[100.0, 250.5, 300.0], [1.0, 2.5]]
    assert _plain(accounts, "status") == ["open", "closed"]
    # Ends as rows of the node tables: customers BIG_ID, c1, p1, p2 and accounts a1, a2, in id order.
    owns = ties[TieType.OWNS]
    assert owns.column_names == ["source", "target", "role"]
    assert list(zip(_plain(owns, "source"), _plain(owns, "target"), _plain(owns, "role"), strict=True)) == [
        (2, 0, "owner"),
        (2, 1, "owner"),
        (3, 0, "joint"),
    ]
    spouses = ties[TieType.SPOUSE_OF]
    assert (_plain(spouses, "source"), _plain(spouses, "target")) in [([2], [3]), ([3], [2])]  # p1 and p2


def _plain(table: Any, name: str) -> list[Any]:
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column.to_pylist()  # type: ignore[no-any-return]
