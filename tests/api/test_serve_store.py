"""`crm-graph serve` over a store it cannot open is one line and exit 1, not uvicorn's start-up traceback;
and a damaged store never reaches a client as more than a bare problem."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.problems import problem_for
from graph.embedded import EmbeddedStore
from graph.errors import StoreCorrupt
from tests.ports import free_port
from tests.samples import family_nodes, family_ties

HOLD = """
import sys
from pathlib import Path
from graph.embedded import EmbeddedStore

with EmbeddedStore(Path(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def serve_env(tmp_path: Path, store: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CRM_GRAPH_EMBEDDED_PATH": str(store),
        "CRM_GRAPH_API_TOKENS_PATH": str(tmp_path / "tokens.sqlite"),
        "CRM_GRAPH_API_AUDIT_PATH": str(tmp_path / "audit.sqlite"),
        "CRM_GRAPH_PII_HASH_KEY": secrets.token_hex(32),
        "COLUMNS": "60",
    }


def serve(tmp_path: Path, store: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=serve_env(tmp_path, store),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_refused_in_one_line(refused: subprocess.Popen[str], store: Path, reason: str) -> None:
    _, stderr = refused.communicate(timeout=60)
    assert refused.returncode == 1
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and str(store) in lines[0] and reason in lines[0], stderr


def test_serve_on_a_store_a_load_holds_says_so_in_one_line_then_serves_once_it_is_free(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    with EmbeddedStore(store) as writer:
        writer.write(family_nodes(), family_ties())
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert_refused_in_one_line(serve(tmp_path, store, free_port()), store, "open for writing in another process")
    finally:
        holder.communicate(input="", timeout=30)

    port = free_port()
    served = serve(tmp_path, store, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert served.poll() is None, served.communicate()[1]
            assert time.monotonic() < deadline, "serve did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
    finally:
        served.send_signal(signal.SIGINT)
        served.communicate(timeout=30)
    assert served.returncode == 0


def test_serve_on_a_damaged_store_is_one_line(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    store.write_bytes(b"")
    assert_refused_in_one_line(serve(tmp_path, store, free_port()), store, "crm-graph check")


def test_a_damaged_store_is_a_bare_500_problem_without_the_file() -> None:
    response = problem_for(StoreCorrupt("/srv/bank/crm-graph.sqlite", "is damaged (database disk image is malformed)"))
    assert response.status_code == 500
    assert response.media_type == "application/problem+json"
    assert b"crm-graph.sqlite" not in response.body and b"malformed" not in response.body
