"""How many statements each customer endpoint sends to Neo4j: pinned, so that a change cannot silently add
round trips (each costs the API and the database about a millisecond of CPU, and a network hop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from graph.neo4j_store import Neo4jStore
from tests.api.conftest import (
    OWN_BOOK_NAMES,
    CheckedClient,
    api_settings_for,
    auth,
    bank_nodes,
    bank_ties,
    issue_tokens,
)

V1 = "/api/v1"


class CountingNeo4jStore(Neo4jStore):
    """A real Neo4j store that counts the read statements it sends."""

    reads = 0

    def _read(self, text: Any, **params: Any) -> list[dict[str, Any]]:
        self.reads += 1
        return super()._read(text, **params)


READS_PER_REQUEST = {
    # (token, request): statements sent; the manager sees p1 (his book) and not p2
    ("admin", "/customers/p1"): 1,
    ("admin", "/customers/p1/network?depth=2"): 2,
    ("admin", "/customers/p1/household"): 3,
    ("admin", "/customers/p1/recommendations"): 2,
    ("admin", "/customers/p1/churn-risk"): 2,
    ("manager", "/customers/p1"): 2,
    ("manager", "/customers/p1/network?depth=2"): 4,
    ("manager", "/customers/p1/household"): 5,
    ("manager", "/customers/p1/recommendations"): 4,
    ("manager", "/customers/p1/churn-risk"): 4,
}


@pytest.mark.neo4j
def test_statements_per_request_on_neo4j(tmp_path: Path, neo4j_uri: str) -> None:
    settings = api_settings_for(tmp_path)
    tokens = issue_tokens(settings)
    store = CountingNeo4jStore(neo4j_uri, None)
    try:
        store.clear()
        store.write(nodes=bank_nodes(), ties=bank_ties())
        counted = {}
        with CheckedClient(create_app(settings, store)) as client:
            client.bodies = []
            client.names_in_clear = {tokens["manager"]: OWN_BOOK_NAMES}
            for token, path in READS_PER_REQUEST:
                before = store.reads
                response = client.get(V1 + path, headers=auth(tokens[token]))
                assert response.status_code == 200, (token, path, response.text)
                counted[token, path] = store.reads - before
        assert counted == READS_PER_REQUEST
    finally:
        store.clear()
        store.close()
