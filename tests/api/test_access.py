"""Authorization matrix: every endpoint x every role x own book / other book, and masking in every body."""

from __future__ import annotations

import pytest

from api.access import ENDPOINTS, GRANTABLE, ROLE_PERMISSIONS, Permission, Role, permissions_for
from tests.api.conftest import FULL_NAMES, TOKEN_SPECS, CheckedClient, auth

V1 = "/api/v1"
OWN, OTHER = "p1", "p2"  # manager m1 manages p1; m2 manages p2

# endpoint name -> (method, path template; {c} is the customer, {m} the manager)
CALLS: dict[str, tuple[str, str]] = {
    "search_customers": ("GET", "/customers?q={q}"),
    "get_customer": ("GET", "/customers/{c}"),
    "get_network": ("GET", "/customers/{c}/network?depth=2"),
    "get_household": ("GET", "/customers/{c}/household"),
    "get_group": ("GET", "/customers/{c}/group"),
    "get_recommendations": ("GET", "/customers/{c}/recommendations"),
    "get_churn_risk": ("GET", "/customers/{c}/churn-risk"),
    "log_interaction": ("POST", "/customers/{c}/interactions"),
    "list_clusters": ("GET", "/clusters"),
    "get_cluster": ("GET", "/clusters/k1"),
    "list_prospects": ("GET", "/products/FUND01/prospects"),
    "list_products": ("GET", "/products"),
    "list_managers": ("GET", "/managers"),
    "get_portfolio": ("GET", "/managers/{m}/portfolio"),
    "list_guarantee_circles": ("GET", "/guarantee-circles"),
    "list_audit": ("GET", "/audit"),
}

ALLOWED: dict[str, set[str]] = {
    "search_customers": {"manager", "risk", "risk_unmask", "admin", "admin_unmask", "service_reader"},
    "get_customer": {"manager", "risk", "risk_unmask", "admin", "admin_unmask", "service_reader"},
    "get_network": {"manager", "risk", "risk_unmask", "admin", "admin_unmask", "service_reader"},
    "get_household": {"manager", "risk", "risk_unmask", "admin", "admin_unmask", "service_reader"},
    "get_group": {"manager", "risk", "risk_unmask", "admin", "admin_unmask", "service_reader"},
    "get_recommendations": {"manager", "admin", "admin_unmask"},
    "get_churn_risk": {"manager", "risk", "risk_unmask", "admin", "admin_unmask"},
    "log_interaction": {"manager"},
    "list_clusters": {"marketing", "risk", "risk_unmask", "admin", "admin_unmask"},
    "get_cluster": {"marketing", "risk", "risk_unmask", "admin", "admin_unmask"},
    "list_prospects": {"marketing", "admin", "admin_unmask"},
    "list_products": {"manager", "marketing", "risk", "risk_unmask", "admin", "admin_unmask"},
    "list_managers": {"risk", "risk_unmask", "admin", "admin_unmask"},
    "get_portfolio": {"manager", "risk", "risk_unmask", "admin", "admin_unmask"},
    "list_guarantee_circles": {"risk", "risk_unmask", "admin", "admin_unmask"},
    "list_audit": {"admin", "admin_unmask"},
}
BOOK_SCOPED = {"manager"}  # tokens that see only their own book


def expected_status(endpoint: str, token: str, book: str) -> int:
    if token not in ALLOWED[endpoint]:
        return 403
    success = 201 if endpoint == "log_interaction" else 200
    if book == "own" or token not in BOOK_SCOPED:
        return success
    if endpoint == "get_portfolio":
        return 403  # another manager's portfolio: the manager knows managers exist; nothing leaks
    if endpoint in {"search_customers", "list_clusters", "get_cluster", "list_prospects", "list_products"}:
        return success
    return 404


def test_every_endpoint_is_in_the_matrix() -> None:
    assert set(CALLS) == set(ENDPOINTS) == set(ALLOWED)


@pytest.mark.parametrize("book", ["own", "other"])
def test_authorization_matrix(client: CheckedClient, tokens: dict[str, str], book: str) -> None:
    customer, manager, query = (OWN, "m1", "王伟") if book == "own" else (OTHER, "m2", "李娜")
    failures = []
    for endpoint, (method, template) in CALLS.items():
        path = V1 + template.format(c=customer, m=manager, q=query)
        for token_name in TOKEN_SPECS:
            body = {"channel": "phone", "summary": "到期提醒"} if method == "POST" else None
            response = client.request(method, path, headers=auth(tokens[token_name]), json=body)
            want = expected_status(endpoint, token_name, book)
            if response.status_code != want:
                failures.append(f"{method} {path} as {token_name}: {response.status_code}, expected {want}")
            for name in FULL_NAMES:
                assert name not in response.text, f"{name} unmasked in {path} as {token_name}"
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")
    assert not failures, "\n".join(failures)


def test_a_manager_searching_sees_only_his_book(client: CheckedClient, tokens: dict[str, str]) -> None:
    found = client.get(f"{V1}/customers", params={"q": "王"}, headers=auth(tokens["manager"])).json()
    assert {item["id"] for item in found["items"]} == {"p1", "p3"}
    other = client.get(f"{V1}/customers", params={"q": "李"}, headers=auth(tokens["manager"])).json()
    assert other["items"] == []


def test_customers_outside_the_book_are_masked_stubs(client: CheckedClient, tokens: dict[str, str]) -> None:
    response = client.get(f"{V1}/customers/{OWN}/network", headers=auth(tokens["manager"]))
    assert response.status_code == 200
    related = response.json()["related"]
    stubs = [item["stub"] for item in related if item["stub"]]
    visible = [item["customer"]["id"] for item in related if item["customer"]]
    assert "p3" in visible and "c1" in visible
    assert stubs and all(stub["opaque_id"].startswith("x-") for stub in stubs)
    assert {stub["name"] for stub in stubs} >= {"李*"}
    assert '"p2"' not in response.text and "balances" not in response.text and "phone" not in str(stubs)


def test_unmasking_needs_permission_and_reason(client: CheckedClient, tokens: dict[str, str]) -> None:
    path = f"{V1}/customers/{OWN}"
    masked = client.get(path, headers=auth(tokens["admin_unmask"])).json()["customer"]
    assert masked["name"] == "王*" and masked["masked"] is True and masked["address"] is None
    assert masked["phone_masked"] == "138****5678"
    assert client.get(path, params={"unmask": "true"}, headers=auth(tokens["admin_unmask"])).status_code == 422
    refused = client.get(path, params={"unmask": "true", "reason": "fraud case 42"}, headers=auth(tokens["admin"]))
    assert refused.status_code == 403
    shown = client.get(path, params={"unmask": "true", "reason": "fraud case 42"}, headers=auth(tokens["risk_unmask"]))
    assert shown.status_code == 200
    customer = shown.json()["customer"]
    assert customer["name"] == "王伟" and customer["masked"] is False
    assert "resident_id_hash" not in shown.text and "phone_hash" not in shown.text


def test_role_matrix_is_consistent() -> None:
    for role in Role:
        assert Permission.UNMASK not in ROLE_PERMISSIONS[role]
    assert {role for role in Role if Permission.UNMASK in GRANTABLE[role]} == {Role.ADMIN, Role.RISK}
    with pytest.raises(ValueError):
        permissions_for(Role.MARKETING, {Permission.UNMASK})
    assert permissions_for(Role.RISK, {Permission.UNMASK}) >= {Permission.UNMASK, Permission.CUSTOMERS_ALL}
