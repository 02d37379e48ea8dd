"""``python -m bench.read_step STORE_FOLDER``: open the embedded store there read-only, then read the graph as
``analyze`` does (``read_frames``), and print as one JSON object the CPU seconds of each, and the process's
resident memory (VmRSS) and peak (its rusage) after each: the read step's own figures, apart from the rest of
``analyze`` (``bench.analyze_steps`` measures the whole run, and needs a copy it may write into)."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.open_store import resident_mib
from graph.factory import open_store
from graph.settings import Backend, Settings
from queries.analytics.frames import read_frames


def main(argv: list[str] | None = None) -> None:
    """Read the store in the one argument; print the figures as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.read_step STORE_FOLDER")
    settings = Settings(backend=Backend.EMBEDDED, embedded_path=Path(args[0]))
    found: dict[str, float | int] = {}

    def mark(name: str, started: float) -> None:
        found[f"{name}_cpu_seconds"] = round(time.process_time() - started, 2)
        found[f"resident_mib_after_{name}"] = round(resident_mib()["VmRSS"])
        found[f"peak_rss_mib_after_{name}"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    started = time.process_time()
    with open_store(settings, read_only=True) as store:
        mark("open", started)
        started = time.process_time()
        frames = read_frames(store)
        mark("read", started)
        found.update(customers=frames.size, accounts=len(frames.accounts), ties=len(frames.tie_source))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
