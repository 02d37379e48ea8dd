"""Neo4j stopped under a running API: a 503 at once, nothing left running, and recovery when it is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from api.app import create_app
from api.readiness import READY_FRESH_SECONDS
from graph.errors import StoreUnavailable
from graph.model import NodeLabel
from graph.neo4j_launcher import LocalNeo4j, launcher_available
from graph.neo4j_store import Neo4jStore
from graph.settings import Backend
from tests.api.conftest import CheckedClient, api_settings_for, auth, bank_nodes, bank_ties, issue_tokens
from tests.ports import free_port

T = TypeVar("T")
FAST = 2.0
"""Seconds within which a refused connection must be an answer; before, it took the 15 s store timeout."""


def timed(call: Callable[[], T]) -> tuple[T | StoreUnavailable, float]:
    """What ``call`` returned (or the StoreUnavailable it raised), and how many seconds it took."""
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except StoreUnavailable as error:
        return error, time.monotonic() - started


@pytest.mark.neo4j
@pytest.mark.slow
def test_neo4j_down_is_a_503_at_once_and_the_api_recovers_when_it_is_back(tmp_path: Path) -> None:
    if (missing := launcher_available()) is not None:
        pytest.skip(missing)
    (tmp_path / "neo4j").mkdir()
    server = LocalNeo4j(home=tmp_path / "neo4j", port=free_port())
    with server:
        # Generous timeouts: a cold server on a busy machine plans its first queries slowly, and the point
        # here is that a refused connection does not wait for any timeout at all.
        settings = api_settings_for(
            tmp_path,
            backend=Backend.NEO4J,
            neo4j_uri=server.uri,
            neo4j_timeout_seconds=120,
            api_store_timeout_seconds=100,
        )
        token = issue_tokens(settings)["risk"]
        customer = "/api/v1/customers/p1"
        with Neo4jStore(server.uri, timeout_seconds=120) as store, CheckedClient(create_app(settings)) as client:
            client.bodies = []
            served = client.app.state.services.store  # type: ignore[attr-defined]
            assert served.timeout_seconds == 100, "the API's store gives up when the API does"
            store.write(nodes=bank_nodes(), ties=bank_ties())
            assert client.get(customer, headers=auth(token)).status_code == 200
            assert client.get("/api/v1/ready").status_code == 200

            server.stop()
            response, seconds = timed(lambda: client.get(customer, headers=auth(token)))
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert seconds < FAST, f"503 after {seconds:.1f} s"
            # The store call itself returns: no driver retries go on in a thread after the answer.
            error, seconds = timed(lambda: store.get_node(NodeLabel.PERSON, "p1"))
            assert isinstance(error, StoreUnavailable) and seconds < FAST, f"{error!r} after {seconds:.1f} s"
            time.sleep(READY_FRESH_SECONDS)
            ready, seconds = timed(lambda: client.get("/api/v1/ready"))
            assert ready.status_code == 503 and seconds < FAST

            server.start()
            assert client.get(customer, headers=auth(token)).status_code == 200
            time.sleep(READY_FRESH_SECONDS)
            assert client.get("/api/v1/ready").json()["status"] == "ready"
            assert store.get_node(NodeLabel.PERSON, "p1") is not None
