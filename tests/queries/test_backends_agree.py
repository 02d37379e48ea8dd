"""Every relationship query gives exactly the same answer on the embedded store and on Neo4j."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from graph.embedded import EmbeddedStore
from graph.errors import CrmGraphError
from graph.neo4j_store import Neo4jStore
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.circle_pages import guarantee_circle_page
from queries.customers import customer_360, search_customers
from queries.groups import corporate_group, household
from queries.guarantees import MAX_CIRCLES, circle_rows, find_guarantee_circles, guarantee_chains, guarantee_circles
from queries.network import related_customers
from queries.portfolio import list_managers, manager_portfolio, opportunity_rows
from tests.queries.bank import TODAY, bank_nodes, write_bank

CUSTOMER_IDS = sorted(node["id"] for node in bank_nodes() if node["label"] in {"Person", "Company"})

Question = Callable[[GraphStore], Any]


def _questions() -> list[tuple[str, Question]]:
    questions: list[tuple[str, Question]] = [
        ("list_managers", list_managers),
        ("guarantee_circles", guarantee_circles),
        ("guarantee_circles_3", lambda store: guarantee_circles(store, max_length=3, limit=1)),
        ("circle_page_ring", lambda store: guarantee_circle_page(store, order="ring", skip=1, limit=2)),
        ("circle_page_exposure", lambda store: guarantee_circle_page(store, order="exposure", skip=1, limit=2)),
        ("circle_page_past_the_end", lambda store: guarantee_circle_page(store, order="exposure", skip=9, limit=2)),
        ("guarantee_chains", lambda store: [guarantee_chains(store, c) for c in ("g5", "c1", "g1", "h1", "p4")]),
        ("search_name", lambda store: search_customers(store, "公司", limit=50)),
        ("search_phone", lambda store: search_customers(store, "1234")),
        ("search_id", lambda store: search_customers(store, "g1")),
    ]
    for manager_id in ("m1", "m2", "m3"):
        questions.append((f"portfolio_{manager_id}", lambda store, m=manager_id: manager_portfolio(store, m, TODAY)))
    for customer_id in CUSTOMER_IDS:
        questions += [
            (f"360_{customer_id}", lambda store, c=customer_id: customer_360(store, c)),
            (f"household_{customer_id}", lambda store, c=customer_id: household(store, c)),
            (f"corporate_{customer_id}", lambda store, c=customer_id: corporate_group(store, c, control_threshold=0.3)),
            (f"related_{customer_id}", lambda store, c=customer_id: related_customers(store, c, depth=3)),
            (
                f"related_capped_{customer_id}",
                lambda store, c=customer_id: related_customers(store, c, depth=2, limit_per_node=2, max_nodes=6),
            ),
        ]
    return questions


def _answer(question: Question, store: GraphStore) -> Any:
    try:
        result = question(store)
    except CrmGraphError as error:
        return (type(error).__name__, str(error))
    if isinstance(result, list):
        return [item.model_dump(mode="json") for item in result]
    assert isinstance(result, BaseModel)
    return result.model_dump(mode="json")


BAD_QUESTIONS: list[tuple[str, Question]] = [
    ("360_unknown", lambda store: customer_360(store, "zz")),
    ("related_unknown", lambda store: related_customers(store, "zz")),
    ("related_depth", lambda store: related_customers(store, "p1", depth=4)),
    ("related_type", lambda store: related_customers(store, "p1", types=["OWNS"])),
    ("household_unknown", lambda store: household(store, "zz")),
    ("corporate_threshold", lambda store: corporate_group(store, "c1", control_threshold=2.0)),
    ("circles_length", lambda store: guarantee_circles(store, max_length=1)),
    ("portfolio_unknown", lambda store: manager_portfolio(store, "zz", TODAY)),
    ("search_limit", lambda store: search_customers(store, "王", limit=1000)),
]


@pytest.mark.neo4j
def test_every_query_agrees_across_backends(embedded_store: EmbeddedStore, neo4j_store: Neo4jStore) -> None:
    write_bank(embedded_store)
    write_bank(neo4j_store)
    for name, question in _questions():
        embedded, neo4j = _answer(question, embedded_store), _answer(question, neo4j_store)
        assert embedded == neo4j, name
    for store in (embedded_store, neo4j_store):  # the circles and opportunities analyze stores, read back
        store.write(nodes=circle_rows(find_guarantee_circles(store, limit=MAX_CIRCLES), "2024-06-01T02:00:00"))
        store.write(nodes=opportunity_rows(store, TODAY, AnalyticsSettings()))
    for name, question in _questions():
        embedded, neo4j = _answer(question, embedded_store), _answer(question, neo4j_store)
        assert embedded == neo4j, f"{name}, read as analyze stored it"


@pytest.mark.neo4j
def test_bad_input_gets_the_same_error_on_both_backends(embedded_store: EmbeddedStore, neo4j_store: Neo4jStore) -> None:
    write_bank(embedded_store)
    write_bank(neo4j_store)
    for name, question in BAD_QUESTIONS:
        embedded, neo4j = _answer(question, embedded_store), _answer(question, neo4j_store)
        assert embedded == neo4j, name
        assert embedded[0] in {"NotFound", "InvalidRequest"}, name
