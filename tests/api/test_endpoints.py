"""Problems (401/403/404/413/422/429/503), audit, pagination, CSV prospects, consent, interactions, metrics."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from api.app import create_app
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from graph.settings import Settings
from graph.store import GraphStore
from tests.api.conftest import UNMASK, CheckedClient, api_settings_for, auth, bank_nodes, bank_ties, issue_tokens

V1 = "/api/v1"


def test_missing_or_bad_token_is_401_with_challenge(client: CheckedClient) -> None:
    for headers in ({}, {"Authorization": "Bearer crmg_not-a-token"}, {"Authorization": "Basic abc"}):
        response = client.get(f"{V1}/customers/p1", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        problem = response.json()
        assert set(problem) == {"type", "title", "status", "detail"} and problem["status"] == 401


def test_wrong_role_is_403_and_unknown_customer_404(client: CheckedClient, tokens: dict[str, str]) -> None:
    assert client.get(f"{V1}/customers/p1", headers=auth(tokens["marketing"])).status_code == 403
    missing = client.get(f"{V1}/customers/nobody", headers=auth(tokens["admin"]))
    other_book = client.get(f"{V1}/customers/p2", headers=auth(tokens["manager"]))
    assert missing.status_code == other_book.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "path",
    [
        "/customers/p1/network?depth=4",
        "/customers/p1/network?types=OWNS",
        "/customers/p1/network?types=FRIEND_OF",
        "/customers?q=王&page_size=201",
        "/customers?q=王&cursor=forged",
        "/customers/p1?unmask=true",
    ],
)
def test_bad_parameters_are_422_problems(client: CheckedClient, tokens: dict[str, str], path: str) -> None:
    response = client.get(V1 + path, headers=auth(tokens["admin_unmask"]))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text and "MATCH" not in response.text


def test_interaction_body_is_strict_and_bounded(client: CheckedClient, tokens: dict[str, str]) -> None:
    path = f"{V1}/customers/p1/interactions"
    extra = client.post(path, headers=auth(tokens["manager"]), json={"channel": "phone", "summary": "x", "id": "x"})
    assert extra.status_code == 422
    huge = client.post(
        path,
        headers={**auth(tokens["manager"]), "Content-Type": "application/json"},
        content=b'{"summary": "' + b"x" * (1024 * 1024 + 10) + b'"}',
    )
    assert huge.status_code == 413
    assert huge.headers["content-type"].startswith("application/problem+json")


def test_logged_interaction_is_in_the_graph(client: CheckedClient, tokens: dict[str, str], bank: GraphStore) -> None:
    response = client.post(
        f"{V1}/customers/p1/interactions",
        headers=auth(tokens["manager"]),
        json={"channel": "visit", "summary": "续存", "outcome": "interested", "follow_up": "2030-01-02"},
    )
    assert response.status_code == 201
    interaction_id = response.json()["id"]
    node = bank.get_node(NodeLabel.INTERACTION, interaction_id)
    assert node is not None and node.properties["due"] == "2030-01-02" and node.properties["channel"] == "visit"
    around = bank.neighbourhood(NodeLabel.INTERACTION, interaction_id)
    assert {(tie.type, tie.target) for tie in around.ties} == {(TieType.WITH, "p1"), (TieType.LOGGED_BY, "m1")}


def test_audit_records_reads_and_only_admin_reads_it(client: CheckedClient, tokens: dict[str, str]) -> None:
    client.get(f"{V1}/customers/p1", headers=auth(tokens["manager"]))
    client.get(f"{V1}/customers/p1", params=UNMASK, headers=auth(tokens["risk_unmask"]))
    assert client.get(f"{V1}/audit", headers=auth(tokens["risk"])).status_code == 403
    records = client.get(f"{V1}/audit", params={"customer_id": "p1"}, headers=auth(tokens["admin"])).json()["items"]
    assert [(r["actor"], r["endpoint"], r["unmasked"]) for r in records] == [
        ("manager", "get_customer", False),
        ("risk_unmask", "get_customer", True),
    ]
    assert records[1]["purpose"] == "fraud_investigation: fraud case 42 opened by risk" and "王伟" not in str(records)
    by_actor = client.get(f"{V1}/audit", params={"actor": "m1"}, headers=auth(tokens["admin"])).json()["items"]
    assert [r["actor"] for r in by_actor] == ["manager"]
    later = client.get(f"{V1}/audit", params={"since": "2999-01-01T00:00:00"}, headers=auth(tokens["admin"]))
    assert later.json()["items"] == []


def test_audit_log_refuses_changes(client: CheckedClient, tokens: dict[str, str], api_settings: Settings) -> None:
    client.get(f"{V1}/customers/p1", headers=auth(tokens["manager"]))
    with sqlite3.connect(api_settings.api_audit_path) as db:
        for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit", "DELETE FROM audit_customer"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(statement)


def test_read_is_refused_when_audit_cannot_record_it(client: CheckedClient, tokens: dict[str, str]) -> None:
    client.app.state.services.audit.close()  # type: ignore[attr-defined]
    response = client.get(f"{V1}/customers/p1", headers=auth(tokens["manager"]))
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json") and "p1" not in response.text


def test_revoked_token_is_refused_at_once(
    client: CheckedClient, tokens: dict[str, str], api_settings: Settings
) -> None:
    headers = auth(tokens["manager"])
    assert client.get(f"{V1}/me", headers=headers).status_code == 200  # now remembered by the server
    from api.tokens import TokenRegistry

    elsewhere = TokenRegistry(api_settings.api_tokens_path)  # as `crm-graph token revoke` in another process
    try:
        (info,) = [info for info in elsewhere.list() if info.name == "manager"]
        assert elsewhere.revoke(info.id)
    finally:
        elsewhere.close()
    assert client.get(f"{V1}/me", headers=headers).status_code == 401


def test_search_pages_with_cursors(client: CheckedClient, tokens: dict[str, str]) -> None:
    headers = auth(tokens["admin_unmask"])  # names are searched only by a caller who sees them in clear
    named = UNMASK
    first = client.get(f"{V1}/customers", params={"q": "王", "page_size": 1, **named}, headers=headers).json()
    assert len(first["items"]) == 1 and first["next_cursor"] and first["total"] == 2
    second = client.get(
        f"{V1}/customers", params={"q": "王", "page_size": 1, "cursor": first["next_cursor"], **named}, headers=headers
    ).json()
    assert second["next_cursor"] is None
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {"p1", "p3"}
    params = {"q": "李", "cursor": first["next_cursor"], **named}
    assert client.get(f"{V1}/customers", params=params, headers=headers).status_code == 422


def test_prospects_as_csv_without_refusers(client: CheckedClient, tokens: dict[str, str]) -> None:
    in_full = client.get(f"{V1}/products/FUND01/prospects", headers=auth(tokens["admin"])).json()["items"]
    assert "p2" in [item["customer_id"] for item in in_full] and "p3" not in str(in_full)
    headers = auth(tokens["marketing"])  # sees no customer: every prospect is a stub
    page = client.get(f"{V1}/products/FUND01/prospects", headers=headers).json()
    ids = [item["customer_id"] for item in page["items"]]
    assert len(ids) == len(in_full) and all(item["stub"] and item["city"] is None for item in page["items"])
    assert all(customer_id.startswith("x-") for customer_id in ids)
    assert all("*" in item["name"] for item in page["items"])
    for response in (
        client.get(f"{V1}/products/FUND01/prospects", headers={**headers, "Accept": "text/csv"}),
        client.get(f"{V1}/products/FUND01/prospects?format=csv", headers=headers),
    ):
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.splitlines()
        assert lines[0] == "customer_id,name,segment,city,tier,score"
        assert {line.split(",")[0] for line in lines[1:]} == set(ids)


def test_prospects_are_read_from_the_list_analyze_ranked_and_consent_is_checked_again(
    client: CheckedClient, bank: GraphStore, tokens: dict[str, str]
) -> None:
    # p3 withdrew consent after the ranking: the list still names him, the answer does not.
    ranked = {"prospect_ids": ["p4", "p3", "p1", "p2"], "prospect_scores": [0.9, 0.8, 0.7, 0.6]}
    bank.write(nodes=[{"label": "Product", "id": "TD01", "properties": ranked}])
    headers = auth(tokens["admin"])
    first = client.get(f"{V1}/products/TD01/prospects", params={"page_size": 2}, headers=headers).json()
    assert [(item["customer_id"], item["score"]) for item in first["items"]] == [("p4", 0.9), ("p1", 0.7)]
    params = {"page_size": 2, "cursor": first["next_cursor"]}
    second = client.get(f"{V1}/products/TD01/prospects", params=params, headers=headers).json()
    assert [item["customer_id"] for item in second["items"]] == ["p2"] and second["next_cursor"] is None


def test_refused_marketing_gets_no_recommendations(client: CheckedClient, tokens: dict[str, str]) -> None:
    body = client.get(f"{V1}/customers/p3/recommendations", headers=auth(tokens["manager"])).json()
    assert body["recommendations"] == [] and "consent" in body["reason"]


def test_a_customer_who_left_gets_no_recommendations(
    client: CheckedClient, bank: GraphStore, tokens: dict[str, str]
) -> None:
    path, headers = f"{V1}/customers/p1/recommendations", auth(tokens["manager"])
    assert client.get(path, headers=headers).json()["recommendations"]
    bank.write(nodes=[{"label": "Customer", "id": "p1", "properties": {"status": "churned"}}])
    body = client.get(path, headers=headers).json()
    assert body["recommendations"] == [] and body["reason"] == "customer has left the bank"


def test_rate_limit_is_429_with_retry_after(tmp_path: Path, bank: GraphStore) -> None:
    settings = api_settings_for(tmp_path / "limited", api_rate_burst=3, api_rate_per_second=0.01)
    token = issue_tokens(settings)["admin"]
    with CheckedClient(create_app(settings, bank)) as client:
        client.bodies = []
        statuses = [client.get(f"{V1}/managers", headers=auth(token)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get(f"{V1}/managers", headers=auth(token))
        assert int(limited.headers["retry-after"]) >= 1


class SlowStore(EmbeddedStore):
    """A real embedded store that answers too slowly."""

    def ping(self) -> None:
        time.sleep(1.0)

    def get_node(self, label: NodeLabel, node_id: str):  # type: ignore[no-untyped-def]
        time.sleep(1.0)
        return super().get_node(label, node_id)

    def run(self, query, params=None):  # type: ignore[no-untyped-def]
        time.sleep(1.0)
        return super().run(query, params)


def test_store_timeout_is_503(tmp_path: Path) -> None:
    settings = api_settings_for(tmp_path, api_store_timeout_seconds=0.2)
    token = issue_tokens(settings)["admin"]
    with SlowStore(tmp_path / "slow.sqlite") as slow:
        slow.write(nodes=bank_nodes(), ties=bank_ties())
        with CheckedClient(create_app(settings, slow)) as client:
            client.bodies = []
            assert client.get(f"{V1}/ready").status_code == 503
            response = client.get(f"{V1}/customers/p1", headers=auth(token))
            assert response.status_code == 503
            assert response.json()["title"] == "Service Unavailable"
            assert client.get(f"{V1}/health").status_code == 200


def test_ready_and_metrics(client: CheckedClient, tokens: dict[str, str]) -> None:
    assert client.get(f"{V1}/ready").json()["status"] == "ready"
    client.get(f"{V1}/customers/p1", headers=auth(tokens["manager"]))
    text = client.get(f"{V1}/metrics").text
    assert 'route="/api/v1/customers/{customer_id}"' in text  # the template, never the id
    assert "crm_graph_http_request_duration_seconds_bucket" in text
    assert 'status="200"' in text
