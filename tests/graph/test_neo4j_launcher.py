"""The local Neo4j launcher: clear errors for a wrong folder or port, and a restart on a kept folder."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from graph.errors import CrmGraphError
from graph.neo4j_launcher import LocalNeo4j, Neo4jLauncherError, launcher_available
from graph.neo4j_launcher.__main__ import main as serve_folder
from tests.ports import free_port


def test_a_missing_home_folder_is_the_launchers_own_error(tmp_path: Path) -> None:
    with pytest.raises(Neo4jLauncherError, match=r"home folder .*nowhere does not exist") as raised:
        LocalNeo4j(home=tmp_path / "nowhere").start()
    assert isinstance(raised.value, CrmGraphError)
    assert not (tmp_path / "nowhere").exists()


def test_a_home_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(Neo4jLauncherError, match="is not a folder"):
        LocalNeo4j(home=tmp_path / "file").start()


def test_a_port_in_use_is_refused_before_the_jvm_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(Neo4jLauncherError, match=f"port {port} on 127.0.0.1 is in use"):
            LocalNeo4j(home=tmp_path, port=port).start()
        assert serve_folder(["--home", str(tmp_path / "kept"), "--port", str(port)]) == 1


def test_a_port_out_of_range_is_refused() -> None:
    with pytest.raises(Neo4jLauncherError, match="not a TCP port"):
        LocalNeo4j(port=70_000).start()


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_server_restarts_on_its_kept_folder_at_the_chosen_port(tmp_path: Path) -> None:
    if (missing := launcher_available()) is not None:
        pytest.skip(missing)
    import neo4j

    port = free_port()
    server = LocalNeo4j(home=tmp_path, port=port, heap="512m")
    with server:
        assert server.uri == f"bolt://127.0.0.1:{port}"
        with neo4j.GraphDatabase.driver(server.uri, auth=None) as driver:
            driver.execute_query("CREATE (:Kept {id: 'k1'})")
    assert (tmp_path / "data").is_dir(), "stop() must leave a home folder in place"
    with server, neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
        records, _, _ = driver.execute_query("MATCH (n:Kept) RETURN n.id AS id")
        assert [record["id"] for record in records] == ["k1"]
