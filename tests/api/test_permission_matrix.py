"""The authorization matrix: EVERY route of the OpenAPI document x every role and service permission set x a
customer of the caller's book and one of another book, against what this file says each route needs.

The expectations are written here, not derived from ``api.access``: a route added without an entry below
fails :func:`test_every_route_is_in_the_matrix`, and a change of who may call what has to be made twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.access import GRANTABLE, Permission, Role
from api.app import create_app
from api.tokens import TokenRegistry
from graph.embedded import EmbeddedStore
from graph.settings import Settings
from tests.api.conftest import (
    FULL_NAMES,
    OWN_BOOK_NAMES,
    CheckedClient,
    api_settings_for,
    auth,
    bank_nodes,
    bank_ties,
)

P = Permission
V1 = "/api/v1"
CUSTOMER_READ = frozenset({P.CUSTOMERS_ALL, P.CUSTOMERS_BOOK})


@dataclass(frozen=True)
class Needs:
    """What a route asks of a token: every one of ``all_of``, one of each group in ``one_of``."""

    all_of: frozenset[Permission] = frozenset()
    one_of: tuple[frozenset[Permission], ...] = ()
    token: bool = True  # False: answered without any token
    book: bool = False  # True: a book-scoped token gets 404 (customers) or 403 (portfolio) for another book
    success: int = 200


def needs(*permissions: Permission, customers: bool = False, any_of: frozenset[Permission] | None = None) -> Needs:
    groups = tuple(group for group in (CUSTOMER_READ if customers else None, any_of) if group)
    return Needs(all_of=frozenset(permissions), one_of=groups, book=customers)


MATRIX: dict[tuple[str, str], Needs] = {
    ("GET", "/health"): Needs(token=False),
    ("GET", "/ready"): Needs(token=False),
    ("GET", "/metrics"): Needs(token=False),
    ("GET", "/me"): Needs(),
    ("GET", "/audit"): needs(P.AUDIT),
    ("GET", "/customers"): needs(customers=True),
    ("GET", "/customers/{customer_id}"): needs(customers=True),
    ("GET", "/customers/{customer_id}/network"): needs(P.NETWORK, customers=True),
    ("GET", "/customers/{customer_id}/paths/{other_id}"): needs(P.NETWORK, customers=True),
    ("GET", "/customers/{customer_id}/household"): needs(P.NETWORK, customers=True),
    ("GET", "/customers/{customer_id}/group"): needs(P.NETWORK, customers=True),
    ("GET", "/customers/{customer_id}/recommendations"): needs(P.RECOMMENDATIONS, customers=True),
    ("GET", "/customers/{customer_id}/churn-risk"): needs(P.CHURN, customers=True),
    ("POST", "/customers/{customer_id}/interactions"): Needs(
        all_of=frozenset({P.INTERACTIONS_WRITE}), one_of=(CUSTOMER_READ,), book=True, success=201
    ),
    ("GET", "/clusters"): needs(P.CLUSTERS),
    ("GET", "/clusters/{cluster_id}"): needs(P.CLUSTERS),
    ("GET", "/products"): needs(P.PRODUCTS),
    ("GET", "/products/{code}/prospects"): needs(P.PROSPECTS),
    ("GET", "/managers"): needs(P.MANAGERS),
    ("GET", "/managers/{manager_id}/portfolio"): needs(
        customers=True, any_of=frozenset({P.PORTFOLIO_ALL, P.PORTFOLIO_OWN})
    ),
    ("GET", "/guarantee-circles"): needs(P.GUARANTEE_CIRCLES),
    ("GET", "/models"): needs(P.MODELS),
}
"""Every route of the OpenAPI document (under /api/v1) and what it needs."""

TOKENS: dict[str, tuple[Role, frozenset[Permission], str | None]] = {
    "manager": (Role.MANAGER, frozenset(), "m1"),
    "marketing": (Role.MARKETING, frozenset(), None),
    "risk": (Role.RISK, frozenset(), None),
    "risk_unmask": (Role.RISK, frozenset({P.UNMASK}), None),
    "admin": (Role.ADMIN, frozenset(), None),
    "admin_unmask": (Role.ADMIN, frozenset({P.UNMASK}), None),
    "service_none": (Role.SERVICE, frozenset(), None),
    **{f"service_{p.value}": (Role.SERVICE, frozenset({p}), None) for p in sorted(GRANTABLE[Role.SERVICE])},
    "service_portfolio_customers": (Role.SERVICE, frozenset({P.PORTFOLIO_ALL, P.CUSTOMERS_ALL}), None),
    "service_everything": (Role.SERVICE, GRANTABLE[Role.SERVICE], None),
}
"""Every role, and a service token with each permission it may be granted alone, with a customer read, and all."""

# What this file expects each role to hold; the matrix below is computed from it, not from api.access.
HOLDS: dict[Role, frozenset[Permission]] = {
    Role.MANAGER: frozenset(
        {P.CUSTOMERS_BOOK, P.NETWORK, P.RECOMMENDATIONS, P.CHURN, P.PORTFOLIO_OWN, P.INTERACTIONS_WRITE, P.PRODUCTS}
    ),
    Role.MARKETING: frozenset({P.CLUSTERS, P.PROSPECTS, P.PRODUCTS}),
    Role.RISK: frozenset(
        {
            P.CUSTOMERS_ALL,
            P.NETWORK,
            P.CHURN,
            P.CLUSTERS,
            P.MANAGERS,
            P.PORTFOLIO_ALL,
            P.GUARANTEE_CIRCLES,
            P.PRODUCTS,
            P.MODELS,
        }
    ),
    Role.ADMIN: frozenset(
        {
            P.CUSTOMERS_ALL,
            P.NETWORK,
            P.RECOMMENDATIONS,
            P.CHURN,
            P.CLUSTERS,
            P.PROSPECTS,
            P.MANAGERS,
            P.PORTFOLIO_ALL,
            P.GUARANTEE_CIRCLES,
            P.PRODUCTS,
            P.AUDIT,
            P.MODELS,
        }
    ),
    Role.SERVICE: frozenset(),
}

SUBJECTS = {
    "own": {"customer_id": "p1", "other_id": "p3", "manager_id": "m1", "cluster_id": "k1", "code": "FUND01"},
    "other": {"customer_id": "p2", "other_id": "p4", "manager_id": "m2", "cluster_id": "k1", "code": "FUND01"},
}


def expected_status(path: str, token: str | None, subject: str) -> int:
    route = next(entry for (_, template), entry in MATRIX.items() if template == path)
    if token is None:
        return route.success if not route.token else 401
    role, grants, manager = TOKENS[token]
    held = HOLDS[role] | grants
    if P.CUSTOMERS_BOOK in held and manager is None:
        held = held - {P.CUSTOMERS_BOOK}  # a book needs a manager
    if not route.all_of <= held or any(not group & held for group in route.one_of):
        return 403
    book_scoped = P.CUSTOMERS_ALL not in held and P.CUSTOMERS_BOOK in held
    if route.book and book_scoped and subject == "other" and "{" in path:  # a search just finds nothing
        return 403 if "{manager_id}" in path else 404  # a manager knows other managers exist, not their customers
    return route.success


@pytest.fixture
def matrix_client(tmp_path: Path) -> Iterator[tuple[CheckedClient, dict[str, str]]]:
    """The API over the test bank on the embedded store (permissions do not depend on the backend)."""
    settings: Settings = api_settings_for(tmp_path, api_rate_burst=1000, api_auth_failure_burst=1000)
    registry = TokenRegistry(settings.api_tokens_path)
    try:
        tokens = {
            name: registry.issue(role, name=name, manager_id=manager, grants=grants)[0]
            for name, (role, grants, manager) in TOKENS.items()
        }
    finally:
        registry.close()
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        store.write(nodes=bank_nodes(), ties=bank_ties())
        with CheckedClient(create_app(settings, store)) as client:
            client.bodies = []
            client.names_in_clear = {tokens["manager"]: OWN_BOOK_NAMES}
            yield client, tokens


def _routes(client: CheckedClient) -> set[tuple[str, str]]:
    document = client.get(f"{V1}/openapi.json").json()
    return {
        (method.upper(), path.removeprefix(V1))
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_route_is_in_the_matrix(matrix_client: tuple[CheckedClient, dict[str, str]]) -> None:
    client, _ = matrix_client
    routes = _routes(client)
    assert routes - set(MATRIX) == set(), "routes without an entry in MATRIX"
    assert set(MATRIX) - routes == set(), "MATRIX entries for routes that do not exist"


def test_the_openapi_document_names_the_token_every_route_needs(
    matrix_client: tuple[CheckedClient, dict[str, str]],
) -> None:
    client, _ = matrix_client
    document = client.get(f"{V1}/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token issued with `crm-graph token issue`.",
    }
    for (method, path), need in MATRIX.items():
        operation = document["paths"][V1 + path][method.lower()]
        assert operation.get("security") == ([{"HTTPBearer": []}] if need.token else None), (method, path)


def test_the_roles_hold_what_this_file_expects() -> None:
    from api.access import ROLE_PERMISSIONS

    assert ROLE_PERMISSIONS == HOLDS


def _request(client: CheckedClient, method: str, path: str, subject: dict[str, str], token: str | None) -> Any:
    url = V1 + path.format(**subject)
    params = {"q": subject["customer_id"]} if path == "/customers" else None
    body = {"channel": "phone", "summary": "到期提醒"} if method == "POST" else None
    headers = auth(token) if token else {}
    return client.request(method, url, params=params, json=body, headers=headers)


@pytest.mark.parametrize("subject", ["own", "other"])
def test_authorization_matrix(matrix_client: tuple[CheckedClient, dict[str, str]], subject: str) -> None:
    client, tokens = matrix_client
    failures = []
    for method, path in MATRIX:
        for token in [None, *TOKENS]:
            response = _request(client, method, path, SUBJECTS[subject], tokens[token] if token else None)
            want = expected_status(path, token, subject)
            if response.status_code != want:
                failures.append(f"{method} {path} ({subject}) as {token}: {response.status_code}, expected {want}")
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json"), (method, path)
            in_clear = OWN_BOOK_NAMES if token == "manager" else frozenset()  # his own customers' names
            for name in set(FULL_NAMES) - in_clear:
                assert name not in response.text, f"{name} unmasked in {path} as {token}"
    assert not failures, "\n".join(failures)
