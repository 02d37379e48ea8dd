"""``python -m bench.open_store PATH``: open the embedded store at PATH read-only in this fresh process and print
what it took as one JSON object (:class:`bench.report.OpenRun`); :mod:`bench.store_figures` runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.report import OpenRun
from bench.store_figures import clocks
from graph.embedded import EmbeddedStore


def _resident_mib() -> dict[str, float]:
    """This process's resident memory in MiB: all of it (VmRSS), private (RssAnon) and file pages (RssFile)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            found[key] = int(value.split()[0]) / 1024.0
    return found


def main(argv: list[str] | None = None) -> None:
    """Open the store at the one argument read-only; print its :class:`OpenRun` as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.open_store STORE_FOLDER")
    before = _resident_mib()
    with clocks() as measured:
        store = EmbeddedStore(Path(args[0]), read_only=True)
    after = _resident_mib()
    store.close()
    seconds, cpu_seconds = measured
    run = OpenRun(
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu_seconds, 3),
        rss_mib=round(after["VmRSS"], 1),
        rss_added_mib=round(after["VmRSS"] - before["VmRSS"], 1),
        anon_added_mib=round(after["RssAnon"] - before["RssAnon"], 1),
        file_added_mib=round(after["RssFile"] - before["RssFile"], 1),
    )
    print(json.dumps(run.model_dump()))


if __name__ == "__main__":
    main()
