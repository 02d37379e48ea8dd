"""Search scoped to the caller before it is counted and cut, names matched only for callers who see them,
and every search term audited as a keyed hash; on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.access import Permission, Role
from api.app import create_app
from api.tokens import TokenRegistry
from graph.settings import Settings
from graph.store import GraphStore
from queries.customers import search_customers_in_scope
from tests.api.conftest import UNMASK, CheckedClient, api_settings_for, auth

V1 = "/api/v1"
BANK_SIZE = 150  # more than the old bank-wide cut of 100 before the book was filtered
BOOK = {"q010", "q075", "q140", "q149"}  # manager m1's customers, spread over the id order
TAIL = "5678"


def _bank() -> dict[str, list[dict[str, Any]]]:
    nodes: list[dict[str, Any]] = [
        {"label": "Manager", "id": "m1", "properties": {"name": "赵经理"}},
        {"label": "Manager", "id": "m2", "properties": {"name": "钱经理"}},
    ]
    ties = []
    for number in range(BANK_SIZE):
        customer_id = f"q{number:03d}"
        name = "王" + "伟明静娜"[number % 4] + ("华" if number % 3 else "")
        nodes.append(
            {
                "label": "Person",
                "id": customer_id,
                "properties": {"name": name, "phone_masked": f"13{number % 10}****{TAIL}", "status": "active"},
            }
        )
        manager = "m1" if customer_id in BOOK else "m2"
        ties.append({"type": "MANAGES", "source": manager, "target": customer_id})
    return {"nodes": nodes, "ties": ties}


@pytest.fixture
def searched(store: GraphStore) -> GraphStore:
    store.write(**_bank())
    return store


def test_a_book_is_searched_before_it_is_counted_and_cut(searched: GraphStore) -> None:
    first = search_customers_in_scope(searched, TAIL, manager_id="m1", match_names=False, limit=3)
    assert first.total == len(BOOK) and [c.id for c in first.customers] == sorted(BOOK)[:3]
    rest = search_customers_in_scope(searched, TAIL, manager_id="m1", match_names=False, offset=3, limit=3)
    assert [c.id for c in rest.customers] == sorted(BOOK)[3:]
    bank = search_customers_in_scope(searched, TAIL, manager_id=None, match_names=False, offset=140, limit=20)
    assert bank.total == BANK_SIZE and [c.id for c in bank.customers] == [f"q{n}" for n in range(140, 150)]


def test_names_are_matched_only_when_asked(searched: GraphStore) -> None:
    named = search_customers_in_scope(searched, "王伟华", manager_id=None, match_names=True, limit=100)
    assert named.total == sum(1 for n in range(BANK_SIZE) if n % 4 == 0 and n % 3)
    assert search_customers_in_scope(searched, "王伟华", manager_id=None, match_names=False).total == 0
    assert search_customers_in_scope(searched, "王", manager_id="m1", match_names=True).total == len(BOOK)
    by_id = search_customers_in_scope(searched, "q075", manager_id="m1", match_names=False)
    assert [c.id for c in by_id.customers] == ["q075"]
    assert search_customers_in_scope(searched, "q076", manager_id="m1", match_names=False).total == 0
    assert search_customers_in_scope(searched, TAIL, manager_id="nobody", match_names=False).total == 0


@pytest.fixture
def search_client(tmp_path: Path, searched: GraphStore) -> Iterator[tuple[CheckedClient, dict[str, str]]]:
    settings: Settings = api_settings_for(tmp_path)
    registry = TokenRegistry(settings.api_tokens_path)
    try:
        tokens = {
            "manager": registry.issue(Role.MANAGER, name="manager", manager_id="m1")[0],
            "risk": registry.issue(Role.RISK, name="risk")[0],
            "risk_unmask": registry.issue(Role.RISK, name="risk_unmask", grants={Permission.UNMASK})[0],
            "admin": registry.issue(Role.ADMIN, name="admin")[0],
        }
    finally:
        registry.close()
    with CheckedClient(create_app(settings, searched)) as client:
        client.bodies = []
        client.names_in_clear = {tokens["manager"]: frozenset({"王伟"})}  # within 王伟华, q140 of his book
        yield client, tokens


def _search(client: CheckedClient, token: str, **params: Any) -> Any:
    response = client.get(f"{V1}/customers", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_api_pages_through_the_whole_book(search_client: tuple[CheckedClient, dict[str, str]]) -> None:
    client, tokens = search_client
    page = _search(client, tokens["manager"], q=TAIL, page_size=3)
    assert page["total"] == len(BOOK) and page["names_searched"] is True  # he sees his customers' names
    following = _search(client, tokens["manager"], q=TAIL, page_size=3, cursor=page["next_cursor"])
    assert [c["id"] for c in page["items"] + following["items"]] == sorted(BOOK)
    assert following["next_cursor"] is None


def test_a_masked_caller_cannot_find_a_customer_by_name(search_client: tuple[CheckedClient, dict[str, str]]) -> None:
    client, tokens = search_client
    for q in ("王伟华", "王", "伟"):
        found = _search(client, tokens["risk"], q=q)
        assert found["items"] == [] and found["total"] == 0, q
    named = _search(client, tokens["risk_unmask"], q="王伟华", **UNMASK)
    assert named["names_searched"] is True and named["total"] > 0
    assert all(item["name"] == "王伟华" for item in named["items"])


def test_every_search_term_is_audited_as_a_keyed_hash(
    search_client: tuple[CheckedClient, dict[str, str]], tmp_path: Path
) -> None:
    client, tokens = search_client
    _search(client, tokens["manager"], q=" 王伟华")
    _search(client, tokens["manager"], q=TAIL, page_size=2)
    admin = auth(tokens["admin"])
    records = client.get(f"{V1}/audit", params={"actor": "manager"}, headers=admin).json()["items"]
    assert (
        [(r["endpoint"], r["customer_ids"]) for r in records]
        == [
            ("search_customers", ["q140"]),  # the one 王伟华 of his book
            ("search_customers", sorted(BOOK)[:2]),
        ]
    )
    assert all(r["search_term_hash"] and len(r["search_term_hash"]) == 32 for r in records)
    for written in tmp_path.glob("audit.sqlite*"):
        assert "王伟华".encode() not in written.read_bytes(), written.name
    by_term = client.get(f"{V1}/audit", params={"search_term": "王伟华"}, headers=admin).json()["items"]
    assert [r["seq"] for r in by_term] == [records[0]["seq"]]


def test_a_manager_finds_his_own_customers_by_name_and_sees_their_names(
    search_client: tuple[CheckedClient, dict[str, str]],
) -> None:
    client, tokens = search_client
    everyone = _search(client, tokens["manager"], q="王", page_size=50)
    assert everyone["names_searched"] is True and everyone["total"] == len(BOOK)
    assert {item["id"] for item in everyone["items"]} == BOOK
    assert all("*" not in item["name"] for item in everyone["items"])  # names in clear: he must call them
    (exact,) = _search(client, tokens["manager"], q="王伟华")["items"]
    assert exact["id"] == "q140" and exact["name"] == "王伟华"  # q000, q004, ... of other books are not found
