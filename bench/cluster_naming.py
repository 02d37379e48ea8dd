"""``python -m bench.cluster_naming STORE_FOLDER [PAGE_SIZE]``: what naming the clusters costs per ``/clusters``
page, against the rest of the page's reads, on an analysed embedded store opened read-only.

For every page of the list (50 clusters by default, as the API serves them), in the API's order, it times the
reads ``GET /clusters`` makes: the page of cluster summaries, their names (``cluster_names``: the drawn members'
traits read in one query, then counted) and the size histogram. Every page is read twice, so that the second
pass shows what a read costs once the view's derived tables are built. CPU seconds come from the process's own
clock (``time.process_time``), so they hold on a busy machine. It prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedStore
from queries.analytics.community import clusters
from queries.naming import cluster_names, cluster_size_counts

DEFAULT_PAGE_SIZE = 50


def _cpu_ms(work: Callable[[], object]) -> float:
    began = time.process_time()
    work()
    return (time.process_time() - began) * 1000.0


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 2),
        "max_ms": round(max(values), 2),
        "total_ms": round(sum(values), 1),
    }


def measure(store: EmbeddedStore, page_size: int) -> dict[str, Any]:
    """CPU milliseconds per page of each read, over two passes of every page."""
    every = [summary.cluster_id for summary in clusters(store, limit=1_000_000)]
    pages = [every[start : start + page_size] for start in range(0, len(every), page_size)]
    passes = []
    for _ in range(2):
        listing, naming, sizes = [], [], []
        for number, page in enumerate(pages):
            # As the route asks: every summary up to one past the page, so that the cursor knows a next exists.
            listing.append(_cpu_ms(partial(clusters, store, limit=(number + 1) * page_size + 1)))
            naming.append(_cpu_ms(partial(cluster_names, store, page)))
            sizes.append(_cpu_ms(partial(cluster_size_counts, store)))
        passes.append(
            {
                "list": _summary(listing),
                "naming": _summary(naming),
                "sizes": _summary(sizes),
                "list_by_page": [round(value, 1) for value in listing],
                "naming_by_page": [round(value, 1) for value in naming],
            }
        )
    return {"clusters": len(every), "pages": len(pages), "page_size": page_size, "passes": passes}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        raise SystemExit("usage: python -m bench.cluster_naming STORE_FOLDER [PAGE_SIZE]")
    page_size = int(args[1]) if len(args) == 2 else DEFAULT_PAGE_SIZE
    with EmbeddedStore(Path(args[0]), read_only=True) as store:
        print(json.dumps(measure(store, page_size)))


if __name__ == "__main__":
    main()
