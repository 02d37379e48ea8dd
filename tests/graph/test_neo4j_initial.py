"""``crm-graph load --initial``: a first Neo4j load through neo4j-admin, refused when it would stop a server
not ours or overwrite data unasked; the imported database holds what a load into the embedded store holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.errors import ConfigurationError
from graph.neo4j_initial import check_import_target
from graph.settings import Backend, Settings
from tests.ports import free_port
from tests.samples import snapshot


def neo4j_settings(uri: str) -> Settings:
    return Settings(backend=Backend.NEO4J, neo4j_uri=uri)


def test_initial_needs_the_neo4j_backend_and_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--initial loads a Neo4j database"):
        check_import_target(Settings(backend=Backend.EMBEDDED), tmp_path, replace=False)
    with pytest.raises(ConfigurationError, match="--initial needs --neo4j-home"):
        check_import_target(neo4j_settings(f"bolt://127.0.0.1:{free_port()}"), None, replace=False)


def test_a_stopped_database_is_overwritten_only_when_told(tmp_path: Path) -> None:
    settings = neo4j_settings(f"bolt://127.0.0.1:{free_port()}")  # nothing listens there
    assert check_import_target(settings, tmp_path / "new", replace=False).replace is False
    (tmp_path / "data" / "databases" / "neo4j").mkdir(parents=True)
    with pytest.raises(ConfigurationError, match=r"already holds a database 'neo4j'.*add --replace"):
        check_import_target(settings, tmp_path, replace=False)
    assert check_import_target(settings, tmp_path, replace=True).replace is True


@pytest.mark.neo4j
def test_a_running_server_not_served_from_the_folder_is_not_ours_to_stop(neo4j_uri: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"is not served by the launcher from .* not ours to stop"):
        check_import_target(neo4j_settings(neo4j_uri), tmp_path, replace=True)


def test_the_import_options_go_with_initial_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["load", str(tmp_path / "mapping.yaml"), "--replace"])
    assert result.exit_code == 1
    assert "--neo4j-home and --replace go with --initial" in result.output


@pytest.mark.neo4j
@pytest.mark.slow
def test_initial_load_stops_imports_and_serves_again_what_a_load_holds(tmp_path: Path) -> None:
    from graph.neo4j_launcher import launcher_available, serve_folder_detached, served_folder, stop_served_folder
    from graph.neo4j_store import Neo4jStore
    from loaders.generator import generate
    from loaders.load import load_mapping

    if (missing := launcher_available()) is not None:
        pytest.skip(missing)
    generate(200, 5, tmp_path / "bank")
    mapping = tmp_path / "bank" / "mapping.yaml"
    expected_settings = Settings(embedded_path=tmp_path / "expected.db", review_path=tmp_path / "expected.json")
    with EmbeddedStore(expected_settings.embedded_path) as expected_store:
        load_mapping(expected_store, mapping, tmp_path / "expected", settings=expected_settings)
        expected = snapshot(expected_store)

    home, port = tmp_path / "home", free_port()
    home.mkdir()
    first = serve_folder_detached(home, port, "512m", tmp_path / "launcher.log")
    uri = f"bolt://127.0.0.1:{port}"
    env = {
        "CRM_GRAPH_BACKEND": "neo4j",
        "CRM_GRAPH_NEO4J_URI": uri,
        "CRM_GRAPH_REVIEW_PATH": str(tmp_path / "review.json"),
    }
    runner = CliRunner(env=env)
    # The generated bank has bad rows on purpose: small sources quarantine more than the default share.
    command = [
        *("load", str(mapping), "--initial", "--neo4j-home", str(home)),
        *("--report-dir", str(tmp_path / "r"), "--max-quarantine-share", "1"),
    ]
    try:
        with Neo4jStore(uri) as store:  # a first server start made the (empty) database; it may be replaced
            assert not store.counts().nodes
        loaded = runner.invoke(app, command)
        assert loaded.exit_code == 0, loaded.output
        assert "neo4j-admin imported" in loaded.output and f"serves the imported database at {uri}" in loaded.output
        again = served_folder(home)
        assert again is not None and again.pid != first.pid  # stopped, then served again by a new launcher
        with Neo4jStore(uri) as store:
            assert snapshot(store) == expected

        refused = runner.invoke(app, command)
        assert refused.exit_code == 1
        assert "is not empty; --initial replaces a database whole: add --replace" in refused.output
        assert served_folder(home) == again  # a refusal leaves the server alone

        replaced = runner.invoke(app, [*command, "--replace"])
        assert replaced.exit_code == 0, replaced.output
        with Neo4jStore(uri) as store:
            assert snapshot(store) == expected
    finally:
        if (serving := served_folder(home)) is not None:
            stop_served_folder(serving)
