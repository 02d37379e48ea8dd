"""A server killed outright (SIGKILL, no shutdown) while reads are in flight has lost no answered read's audit
record: a record is committed before its answer leaves, not at shutdown.

The test holds the log's write lock while the reads arrive and lets go a second later: a server that answered
before its records were committed would answer meanwhile, be killed holding none of them on disk, and fail."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from graph.embedded import EmbeddedStore
from tests.api.conftest import api_settings_for, bank_nodes, bank_ties, issue_tokens
from tests.ports import free_port

SERVER = """
import sys
from pathlib import Path
from api.app import create_app
from api.serving import serve
from tests.api.conftest import api_settings_for
settings = api_settings_for(Path(sys.argv[1]), api_rate_burst=100_000, api_rate_per_second=10_000.0)
serve(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""

READS = [("/api/v1/customers/p1", "get_customer"), ("/api/v1/customers/p2/household", "get_household")]


async def _read_until_killed(
    base_url: str, token: str, server: subprocess.Popen[bytes], blocker: sqlite3.Connection
) -> list[str]:
    """60 reads at once while ``blocker`` holds the log's write lock for a second; the server is killed once 10
    are answered. The endpoints of the reads answered 200."""
    answered: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def read(path: str, endpoint: str) -> None:
            try:
                response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError:
                return  # in flight when the server died: never answered
            assert response.status_code == 200, response.text
            answered.append(endpoint)
            if len(answered) == 10:
                os.kill(server.pid, signal.SIGKILL)

        async def let_go() -> None:
            await asyncio.sleep(1)  # a wait, not a measure: correct either way, a test only with the reads queued
            blocker.execute("COMMIT")

        blocker.execute("BEGIN IMMEDIATE")
        await asyncio.gather(let_go(), *(read(*READS[i % len(READS)]) for i in range(60)))
    return answered


def test_a_killed_server_lost_no_answered_reads_audit_record(tmp_path: Path) -> None:
    settings = api_settings_for(tmp_path)
    token = issue_tokens(settings)["admin"]
    with EmbeddedStore(settings.embedded_path) as store:
        store.write(nodes=bank_nodes(), ties=bank_ties())
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path), str(port)], cwd=root)
    try:
        deadline = time.monotonic() + 60  # a bound for a busy machine, not a measure
        while True:
            assert server.poll() is None, "the server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        blocker = sqlite3.connect(settings.api_audit_path, isolation_level=None)
        try:
            answered = asyncio.run(_read_until_killed(f"http://127.0.0.1:{port}", token, server, blocker))
        finally:
            blocker.close()
        assert server.wait(timeout=30) == -signal.SIGKILL
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
    with sqlite3.connect(settings.api_audit_path) as db:
        recorded = Counter(endpoint for (endpoint,) in db.execute("SELECT endpoint FROM audit"))
    db.close()
    assert len(answered) >= 10
    # Every answered read is on record; reads committed but killed before their answer may be there too.
    assert all(recorded[endpoint] >= count for endpoint, count in Counter(answered).items()), (recorded, answered)
