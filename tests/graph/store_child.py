"""A store written by a child Python process, for the tests that kill it part-way through a write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def start_store_child(code: str, path: Path) -> subprocess.Popen[str]:
    """Run ``code`` with the store path as its argument; its stdout says which batches it committed."""
    return subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
