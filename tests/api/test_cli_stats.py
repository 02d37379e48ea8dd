"""`crm-graph stats` prints what the configured store holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from graph.embedded import EmbeddedStore
from tests.samples import family_nodes, family_ties


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_stats_json_counts_the_embedded_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        expected = store.counts()
    result = run_cli("stats", "--json", env={"CRM_GRAPH_EMBEDDED_PATH": str(path)})
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == {"backend": "embedded", **expected.model_dump()}
    table = run_cli("stats", env={"CRM_GRAPH_EMBEDDED_PATH": str(path)})
    assert "OWNS" in table.stdout and "Customer" in table.stdout


def test_stats_on_a_missing_store_fails_with_a_reason(tmp_path: Path) -> None:
    result = run_cli("stats", env={"CRM_GRAPH_EMBEDDED_PATH": str(tmp_path / "none.sqlite")})
    assert result.returncode == 1
    assert "no embedded store" in result.stderr
