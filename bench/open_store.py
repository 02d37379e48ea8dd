"""``python -m bench.open_store PATH``: open the embedded store at PATH read-only in this fresh process and print
what it took as one JSON object (:class:`bench.report.OpenRun`); :mod:`bench.store_figures` runs it."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.report import OpenRun
from bench.store_figures import clocks
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel

LOOKED_UP = (NodeLabel.CUSTOMER, NodeLabel.ACCOUNT)
"""Labels whose first lookup is timed: customers (every request starts from one) and the most numerous."""


def resident_mib() -> dict[str, float]:
    """This process's resident memory in MiB: all of it (VmRSS), private (RssAnon) and file pages (RssFile)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            found[key] = int(value.split()[0]) / 1024.0
    return found


def _first_lookups_ms(store: EmbeddedStore) -> dict[str, float]:
    """CPU milliseconds of the first lookup of a node of each of :data:`LOOKED_UP` (its id picked beforehand)."""
    found = {}
    for label in LOOKED_UP:
        ids = store.node_ids(label)
        if not ids:
            continue
        node_id = ids[len(ids) // 2]
        del ids
        started = time.process_time()
        if store.get_node(label, node_id) is None:
            raise SystemExit(f"the {label} {node_id!r} the store listed was not found")
        found[label.value] = round((time.process_time() - started) * 1000, 3)
    return found


def main(argv: list[str] | None = None) -> None:
    """Open the store at the one argument read-only; print its :class:`OpenRun` as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.open_store STORE_FOLDER")
    before = resident_mib()
    with clocks() as measured:
        store = EmbeddedStore(Path(args[0]), read_only=True)
    after = resident_mib()
    first_lookups = _first_lookups_ms(store)
    store.close()
    seconds, cpu_seconds = measured
    run = OpenRun(
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu_seconds, 3),
        rss_mib=round(after["VmRSS"], 1),
        rss_added_mib=round(after["VmRSS"] - before["VmRSS"], 1),
        anon_added_mib=round(after["RssAnon"] - before["RssAnon"], 1),
        file_added_mib=round(after["RssFile"] - before["RssFile"], 1),
        first_lookup_ms=first_lookups,
    )
    print(json.dumps(run.model_dump()))


if __name__ == "__main__":
    main()
