"""``python -m bench.open_store PATH``: open the embedded store at PATH read-only in this fresh process and print
what it took as one JSON object (:class:`bench.report.OpenRun`); :mod:`bench.store_figures` runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.report import OpenRun
from bench.store_figures import clocks
from graph.embedded import EmbeddedStore


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024.0, 1)
    return 0.0


def main(argv: list[str] | None = None) -> None:
    """Open the store at the one argument read-only; print its :class:`OpenRun` as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.open_store STORE_FOLDER")
    before = _rss_mib()
    with clocks() as measured:
        store = EmbeddedStore(Path(args[0]), read_only=True)
    after = _rss_mib()
    store.close()
    seconds, cpu_seconds = measured
    run = OpenRun(
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu_seconds, 3),
        rss_mib=after,
        rss_added_mib=round(after - before, 1),
    )
    print(json.dumps(run.model_dump()))


if __name__ == "__main__":
    main()
