"""Python's cyclic garbage collector around work that makes millions of objects that stay (a load, a reopen).

Each full collection walks every container object the process holds. While a load adds a graph's worth of
dicts, full collections keep being triggered by the growth and walk the whole graph again each time: a
quarter of a 30,000-customer load, and more as the bank grows, without freeing anything (the graph is not
garbage). So the collector waits during such work and runs normally afterwards.

The survivors are not frozen (``gc.freeze``): a closed store's graph must stay collectable.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Pause the collector for the block (an enclosing block, or the application, may have paused it already)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
