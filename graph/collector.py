"""Python's cyclic garbage collector around work that makes millions of objects that stay (a load, a reopen).

Each full collection walks every container object the process holds. While a load adds a graph's worth of
dicts, full collections keep being triggered by the growth and walk the whole graph again each time: a
quarter of a 30,000-customer load, and more as the bank grows, without freeing anything (the graph is not
garbage). So the collector waits during such work; afterwards one collection frees any cycles it left, and
what survives is frozen, so that later collections (while the API serves, say) skip the graph too.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Pause the collector for the block; then collect once and freeze the survivors (see the module doc)."""
    if not gc.isenabled():  # an enclosing block (or the application) already decided
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()
