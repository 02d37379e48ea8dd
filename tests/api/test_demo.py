"""`crm-graph demo` from nothing to a served, signed-in API, as a newcomer would run it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port


@pytest.mark.slow
def test_demo_generates_loads_analyses_and_serves(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "api.cli", "demo", "--customers", "400", "--dir", str(tmp_path / "demo")]
    demo = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert demo.stdout is not None
    printed: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not any("Press Ctrl+C" in line for line in printed):
            assert time.monotonic() < deadline, "".join(printed)
            line = demo.stdout.readline()
            assert line or demo.poll() is None, "".join(printed)
            printed.append(line)
        text = "".join(printed)
        manager = re.search(r"manager (\S+) \(his own book\): (\S+)", text)
        admin = re.search(r"admin:\s+(\S+)", text)
        assert manager and admin, text
        manager_id, manager_token = manager.groups()
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {manager_token}"}
        portfolio = httpx.get(f"{base}/api/v1/managers/{manager_id}/portfolio", headers=headers)
        assert portfolio.status_code == 200
        assert portfolio.json()["customers"] > 0
        audit = httpx.get(f"{base}/api/v1/audit", headers={"Authorization": f"Bearer {admin.group(1)}"})
        assert audit.status_code == 200 and audit.json()["items"], audit.text
        assert httpx.get(f"{base}/").status_code == 200
        assert (tmp_path / "demo" / "READY").exists()
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=20)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
        demo.stdout.close()
