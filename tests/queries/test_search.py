"""Customer search on awkward data, on both backends, against the rule it promises worked out in Python.

The embedded store searches an index (names joined into one text, phone tails into another); these
cases aim at its seams: a match across two names or two phone tails, a name holding the text twice or
holding the index's separator, short or missing phones, and a graph that changes after a search.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import neo4j
import pytest

from graph.store import GraphStore
from queries.customers import SEARCH_CUSTOMER_IDS, SEARCH_CUSTOMERS, search_customers

CUSTOMERS: list[tuple[str, Any, Any]] = [  # id, name, masked phone
    ("k01", "王伟", "137****1234"),
    ("k02", "伟王", "138****5612"),  # "12" + the next customer's "34": not a match for 1234
    ("k03", "王王王", "3400"),
    ("k04", "李娜", "1234"),
    ("k05", None, "123"),  # phone too short to end with four digits
    ("k06", "a\x00b", None),  # the index's separator inside a name
    ("k07", "伟", "139****0012"),
    ("k08", "k01", "139****9999"),  # a name equal to another customer's id
    ("k09", "张三李四", "136****1234"),
    ("k10", "", "1234"),
]
QUERIES = [
    "王",
    "伟王",
    "王伟",
    "伟",
    "王王",
    "1234",
    "3412",
    "0012",
    "k01",
    "k05",
    "a",
    "\x00",
    "李",
    "张三李四",
    "zz",
]


def _expected(customers: list[tuple[str, Any, Any]], q: str, limit: int) -> list[str]:
    tail = q if len(q) == 4 and q.isascii() and q.isdigit() else None
    found = [
        customer_id
        for customer_id, name, phone in customers
        if customer_id == q
        or (isinstance(name, str) and q in name)
        or (tail is not None and isinstance(phone, str) and phone.endswith(tail))
    ]
    return sorted(found)[:limit]


def _write(store: GraphStore, customers: list[tuple[str, Any, Any]]) -> None:
    nodes = []
    for customer_id, name, phone in customers:
        properties = {key: value for key, value in (("name", name), ("phone_masked", phone)) if value is not None}
        nodes.append({"label": "Person", "id": customer_id, "properties": properties})
    store.write(nodes=nodes)


@pytest.mark.parametrize("limit", [1, 2, 100])
def test_search_finds_what_the_rule_says(store: GraphStore, limit: int) -> None:
    _write(store, CUSTOMERS)
    for q in QUERIES:
        assert [c.id for c in search_customers(store, q, limit)] == _expected(CUSTOMERS, q, limit), q


def test_search_sees_changes_made_after_it_ran(store: GraphStore) -> None:
    _write(store, CUSTOMERS)
    assert [c.id for c in search_customers(store, "赵")] == []
    changed = [("k00", "赵敏", "150****1234"), ("k04", "赵娜", None), ("k01", "钱伟", "137****1234")]
    _write(store, changed)
    everyone = {customer[0]: customer for customer in CUSTOMERS}
    everyone.update({customer[0]: customer for customer in changed})
    # A write keeps properties it does not name: k04 keeps its phone.
    everyone["k04"] = ("k04", "赵娜", "1234")
    for q in ["赵", "王", "伟", "1234"]:
        assert [c.id for c in search_customers(store, q)] == _expected(list(everyone.values()), q, 20), q


@pytest.mark.neo4j
def test_neo4j_answers_search_from_indexes_not_a_scan(neo4j_store: GraphStore, neo4j_uri: str) -> None:
    """Each alternative of the search is an index lookup: id by its constraint, name and phone by text indexes."""
    _write(neo4j_store, CUSTOMERS)
    params = {"q": "王伟", "phone_tail": "1234", "limit": 20}
    with neo4j.GraphDatabase.driver(neo4j_uri) as driver, driver.session() as session:
        plan = session.run("EXPLAIN " + SEARCH_CUSTOMERS.cypher, params).consume().plan
    assert plan is not None
    operators = set(_operators(plan))
    assert {"NodeUniqueIndexSeek", "NodeIndexContainsScan", "NodeIndexEndsWithScan"} <= operators, operators
    assert not any("LabelScan" in operator or "AllNodesScan" in operator for operator in operators), operators


@pytest.mark.neo4j
def test_neo4j_answers_the_scoped_search_from_indexes(neo4j_store: GraphStore, neo4j_uri: str) -> None:
    """The id search the API counts and pages: index lookups too, with or without names matched."""
    _write(neo4j_store, CUSTOMERS)
    with neo4j.GraphDatabase.driver(neo4j_uri) as driver, driver.session() as session:
        for name_part, phone_tail in (("王伟", "1234"), (None, "1234"), (None, None)):
            params = {"q": "王伟", "name_part": name_part, "phone_tail": phone_tail}
            plan = session.run("EXPLAIN " + SEARCH_CUSTOMER_IDS.cypher, params).consume().plan
            assert plan is not None
            operators = set(_operators(plan))
            assert not any("LabelScan" in op or "AllNodesScan" in op for op in operators), (params, operators)


def _operators(plan: dict[str, Any]) -> Iterator[str]:
    yield plan["operatorType"].split("@")[0]
    for child in plan.get("children", []):
        yield from _operators(child)
