"""``python -m bench.bulk_write_rate STORE``: the rate of a first load through ``bulk_write`` on prepared columns.

The store's content is taken as the Arrow tables ``bulk_write`` takes (untimed, as :mod:`bench.store_figures`
does) and written into a new, empty store in a scratch folder: once as one call (``crm-graph bench``'s "bulk
write of every row into an empty store"), then, into another empty store, one call per label and then per
tie type, as a loader writes its sources. Only the ``bulk_write`` calls are timed; a background snapshot they
start is waited for after the clock stops and timed apart. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench.store_figures import clocks, prepared_columns
from graph.embedded import EmbeddedStore


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.bulk_write_rate STORE")
    nodes, ties = prepared_columns(Path(args[0]))
    rows = sum(table.num_rows for table in [*nodes.values(), *ties.values()])
    found: dict[str, object] = {"rows": rows}
    with tempfile.TemporaryDirectory(prefix="crm-graph-bulk-", dir=Path(args[0]).parent) as scratch:
        for name, calls in (
            ("one_call", [(nodes, ties)]),
            (
                "per_table",
                [({label: table}, {}) for label, table in nodes.items()]
                + [({}, {t: table}) for t, table in ties.items()],
            ),
        ):
            store = EmbeddedStore(Path(scratch) / name)
            with clocks() as measured:
                for call_nodes, call_ties in calls:
                    store.bulk_write(call_nodes, call_ties)
            with clocks() as snapshot:
                store._disk.wait_for_snapshot()
            seconds, cpu_seconds = measured
            found[name] = {
                "calls": len(calls),
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_seconds, 3),
                "rows_per_second": round(rows / seconds),
                "rows_per_cpu_second": round(rows / cpu_seconds),
                "background_snapshot_seconds": round(snapshot[0], 3),
                "background_snapshot_cpu_seconds": round(snapshot[1], 3),
            }
            store.close()
    print(json.dumps(found))


if __name__ == "__main__":
    main()
