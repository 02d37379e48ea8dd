"""How many threads scikit-learn and the native libraries under it (OpenMP, BLAS) may use while fitting.

Left alone, scikit-learn's boosted trees and numpy's BLAS each start a thread per core they see. On a machine
shared with other work those threads wait on each other at every step: one backtest took eleven minutes under
load against 36 seconds on one thread. ``crm-graph analyze``, ``backtest`` and ``eval`` therefore run inside
:func:`capped_threads`, which limits every such pool to ``AnalyticsSettings.threads``, by default the cores this
process may run on (its CPU affinity, not the machine's count).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

from graph.settings import AnalyticsSettings


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def capped_threads(settings: AnalyticsSettings) -> Iterator[int]:
    """Limit OpenMP and BLAS thread pools to ``settings.threads`` (default: the available cores) inside."""
    threads = settings.threads or available_cores()
    with threadpool_limits(limits=threads):
        yield threads
