"""Neo4j's own bulk write: checked tables as pipelined ``UNWIND`` statements of one transaction, with the outcome
``write`` gives the same rows, refused whole; and a first load's search indexes, built after it and online."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import neo4j
import pyarrow as pa
import pytest

import graph.neo4j_write as neo4j_write
from graph.embedded import EmbeddedStore
from graph.errors import MissingEndpoint
from graph.model import NodeLabel, TieType
from graph.neo4j_store import Neo4jStore
from graph.store import GraphStore
from loaders.generator import generate
from loaders.load import LoadPath, load_mapping
from tests.graph.test_bulk_write import node_tables, tie_tables
from tests.loaders.test_finbench import DATA as FINBENCH_DATA
from tests.loaders.test_finbench import MAPPING as FINBENCH_MAPPING
from tests.samples import snapshot

SEARCH_INDEXES = {"Customer_cluster_id", "Customer_name_text", "Customer_phone_masked_text"}

pytestmark = pytest.mark.neo4j


def _bank(rng: random.Random, customers: int, round_number: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Customers of either kind (a kind may change between rounds), accounts, owners and spouses."""
    nodes: list[dict[str, Any]] = []
    for n in range(customers):
        properties: dict[str, Any] = {"name": f"客户{n}", "n": n + round_number}
        if n % 3:
            properties["score"] = rng.choice([None, 0.5, 0.25])
        nodes.append({"label": rng.choice(["Person", "Company"]), "id": f"c{n:04d}", "properties": properties})
    nodes += [
        {"label": "Account", "id": f"a{n:04d}", "properties": {"balances": [float(n), 2.5], "open": n % 2 == 0}}
        for n in range(customers)
    ]
    ties = [
        {"type": "OWNS", "source": f"c{n:04d}", "target": f"a{n:04d}", "properties": {"role": rng.choice(["a", "b"])}}
        for n in range(customers)
    ]
    # Half the spouses given from the larger id, as a family source lists them: turned round, not rows.
    spouses = [(f"c{n:04d}", f"c{n + 1:04d}") for n in range(0, customers - 1, 4)]
    ties += [
        {"type": "SPOUSE_OF", "source": pair[n % 2], "target": pair[1 - n % 2], "properties": {"n": n}}
        for n, pair in enumerate(spouses)
    ]
    return nodes, ties


def _no_row_path(*_: Any, **__: Any) -> Any:
    raise AssertionError("the tables were written as rows")


@pytest.fixture
def small_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    """Statements of 7 rows: every table spans several statements of the pipeline."""
    monkeypatch.setattr(neo4j_write, "STATEMENT_ROWS", 7)


@pytest.mark.usefixtures("small_statements")
def test_columns_in_give_what_rows_in_give(
    neo4j_store: Neo4jStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(11)
    with EmbeddedStore(tmp_path / "rows") as by_rows:
        monkeypatch.setattr(GraphStore, "bulk_write", _no_row_path)
        for round_number, customers in enumerate((40, 60, 60)):
            nodes, ties = _bank(rng, customers, round_number)
            expected = by_rows.write(nodes, ties)
            found = neo4j_store.bulk_write(node_tables(nodes), tie_tables(ties))
            assert (found.nodes, found.ties, found.created, found.updated, found.unchanged) == (
                expected.nodes,
                expected.ties,
                expected.created,
                expected.updated,
                expected.unchanged,
            )
            assert snapshot(neo4j_store) == snapshot(by_rows)


@pytest.mark.usefixtures("small_statements")
def test_a_refused_batch_writes_nothing(neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch) -> None:
    nodes, ties = _bank(random.Random(3), 30, 0)
    neo4j_store.write(nodes, ties)
    before = snapshot(neo4j_store)
    monkeypatch.setattr(GraphStore, "bulk_write", _no_row_path)
    # New and changed customers and accounts in earlier statements, then ties whose later parts miss an end.
    customers = pa.table({"id": [f"c{n:04d}" for n in range(20, 50)], "kind": ["Company"] * 30, "name": ["新名"] * 30})
    accounts = pa.table({"id": [f"a{n:04d}" for n in range(20, 50)], "open": [True] * 30})
    owners = pa.table(
        {
            "source": [f"c{n:04d}" for n in range(20, 50)],
            "target": [f"a{n:04d}" if n != 41 else "a9999" for n in range(20, 50)],
        }
    )
    spouses = pa.table({"source": ["c0020", "b-nobody"], "target": ["c0021", "c0022"]})
    with pytest.raises(MissingEndpoint, match="OWNS target Account 'a9999' does not exist") as refused:
        neo4j_store.bulk_write(
            {NodeLabel.CUSTOMER: customers, NodeLabel.ACCOUNT: accounts},
            {TieType.OWNS: owners, TieType.SPOUSE_OF: spouses},
        )
    assert refused.value.row == 22  # the first bad row of all: the smaller of OWNS row 22 and SPOUSE_OF row 32
    assert snapshot(neo4j_store) == before


def _index_states(uri: str) -> dict[str, str]:
    with neo4j.GraphDatabase.driver(uri) as driver:
        records, _, _ = driver.execute_query("SHOW INDEXES YIELD name, state")
    return {record["name"]: record["state"] for record in records}


def test_a_first_load_builds_the_search_indexes_after_it(neo4j_store: Neo4jStore, neo4j_uri: str) -> None:
    with neo4j_store.loading():
        during = _index_states(neo4j_uri)
        neo4j_store.write([{"label": "Person", "id": "p1", "properties": {"name": "王伟", "phone_masked": "***1234"}}])
    after = _index_states(neo4j_uri)
    assert not SEARCH_INDEXES & during.keys()
    assert {name: after.get(name) for name in SEARCH_INDEXES} == dict.fromkeys(SEARCH_INDEXES, "ONLINE")
    assert {"Customer_id", "Account_id"} <= during.keys()  # the key constraints stay throughout


def test_a_load_into_a_database_holding_data_keeps_its_indexes(neo4j_store: Neo4jStore, neo4j_uri: str) -> None:
    neo4j_store.write([{"label": "Person", "id": "p1", "properties": {"name": "王伟"}}])
    with neo4j_store.loading():
        during = _index_states(neo4j_uri)
    assert {name: during.get(name) for name in SEARCH_INDEXES} == dict.fromkeys(SEARCH_INDEXES, "ONLINE")


def test_a_failed_first_load_still_leaves_the_indexes_online(neo4j_store: Neo4jStore, neo4j_uri: str) -> None:
    with pytest.raises(MissingEndpoint), neo4j_store.loading():
        neo4j_store.write(ties=[{"type": "OWNS", "source": "nobody", "target": "a1"}])
    after = _index_states(neo4j_uri)
    assert {name: after.get(name) for name in SEARCH_INDEXES} == dict.fromkeys(SEARCH_INDEXES, "ONLINE")


def test_a_bank_loaded_into_an_empty_database_has_its_indexes_online(
    neo4j_store: Neo4jStore, neo4j_uri: str, tmp_path: Path
) -> None:
    generate(40, 5, tmp_path / "bank")
    report = load_mapping(neo4j_store, tmp_path / "bank" / "mapping.yaml", tmp_path / "report")
    assert report.counts.nodes["Person"] > 0
    after = _index_states(neo4j_uri)
    assert {name: after.get(name) for name in SEARCH_INDEXES} == dict.fromkeys(SEARCH_INDEXES, "ONLINE")


@pytest.mark.slow
@pytest.mark.skipif(not FINBENCH_DATA.is_dir() and os.environ.get("CI") != "true", reason="FinBench snapshot not found")
def test_finbench_by_columns_into_neo4j_holds_what_rows_give_the_embedded_store(
    neo4j_store: Neo4jStore, tmp_path: Path
) -> None:
    with EmbeddedStore(tmp_path / "rows") as by_rows:
        load_mapping(by_rows, FINBENCH_MAPPING, tmp_path / "rows-report", data_dir=FINBENCH_DATA, path=LoadPath.ROWS)
        expected = snapshot(by_rows)
    report = load_mapping(neo4j_store, FINBENCH_MAPPING, tmp_path / "columns-report", data_dir=FINBENCH_DATA)
    assert any(source.path == "columns" for source in report.sources)
    assert snapshot(neo4j_store) == expected
