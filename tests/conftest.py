"""Shared fixtures: a real Neo4j for the session, and a store fixture run against both backends.

Neo4j is found in this order: ``CRM_GRAPH_TEST_NEO4J_URI``; a testcontainers ``neo4j:5.26-community``
when a Docker engine answers; the launcher in ``graph/neo4j_launcher`` (Maven Central jars, needs Java
and Maven); else Neo4j tests are skipped with the reason, and under ``CI=true`` that skip is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from graph.neo4j_store import Neo4jStore
from graph.store import GraphStore
from graph.ties import spec

IN_CI = os.environ.get("CI", "").lower() == "true"


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    """Bolt URI of a real Neo4j 5.26 with authentication off, for the whole test session, warmed up."""
    for uri in _neo4j_server():
        _warm_up(uri)
        yield uri


def _warm_up(uri: str) -> None:
    """Pay a fresh server's first writes once, with time to spare: creating the constraints and planning the
    first queries took longer than a test's 30 s transaction timeout on a busy 2-core machine. A write plans
    one statement per label and tie type, so the warm-up writes a node of every label and a tie of every type
    (a test writing many of them first, as the import test does, timed out when it ran first)."""
    nodes: list[dict[str, Any]] = [
        {"label": label.value, "id": f"warm-up-{label.value}", "properties": {"name": "warm-up"}} for label in NodeLabel
    ]
    ends = {label: f"warm-up-{label.value}" for label in NodeLabel if label is label.primary}
    targets = ends | {NodeLabel.CUSTOMER: f"warm-up-{NodeLabel.PERSON.value}"}  # a tie between two customers
    ties = [
        {"type": tie_type.value, "source": ends[spec(tie_type).source], "target": targets[spec(tie_type).target]}
        for tie_type in TieType
    ]
    with Neo4jStore(uri, None, timeout_seconds=300) as store:
        store.write(nodes, ties)
        store.clear()


def _neo4j_server() -> Iterator[str]:
    """The URI of the first Neo4j found: the environment's, a container's, or one the launcher starts."""
    if uri := os.environ.get("CRM_GRAPH_TEST_NEO4J_URI"):
        yield uri
        return
    if _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community").with_env("NEO4J_AUTH", "none") as container:
            yield container.get_connection_url()
        return
    from graph.neo4j_launcher import LocalNeo4j, launcher_available

    missing = launcher_available()
    if missing is not None:
        message = f"no Neo4j for tests: CRM_GRAPH_TEST_NEO4J_URI unset, no Docker engine, and {missing}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with LocalNeo4j() as server:
        yield server.uri


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[None]:  # pragma: no cover - exercised only when Neo4j is missing
    """Under CI=true a skipped Neo4j test is a failure: CI must prove both backends."""
    report: pytest.TestReport = yield  # type: ignore[misc]
    if IN_CI and report.skipped and item.get_closest_marker("neo4j") is not None:
        report.outcome = "failed"
        report.longrepr = f"a neo4j test was skipped under CI=true: {report.longrepr}"
    return report  # type: ignore[return-value]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test that uses the Neo4j fixture the ``neo4j`` marker, so ``-m neo4j`` selects them."""
    for item in items:
        if "neo4j_uri" in getattr(item, "fixturenames", ()) and item.get_closest_marker("neo4j") is None:
            item.add_marker(pytest.mark.neo4j)


@pytest.fixture
def neo4j_store(neo4j_uri: str) -> Iterator[Neo4jStore]:
    """An empty Neo4j-backed store; emptied again after the test."""
    store = Neo4jStore(neo4j_uri, None)
    store.clear()
    try:
        yield store
    finally:
        store.clear()
        store.close()


@pytest.fixture
def embedded_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """An empty embedded store in a fresh file."""
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        yield store


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> GraphStore:
    """The same test, once per backend."""
    fixture = "embedded_store" if request.param == "embedded" else "neo4j_store"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]
