"""How many threads scikit-learn and the native libraries under it (OpenMP, BLAS) may use while fitting.

Left alone, scikit-learn's boosted trees and numpy's BLAS each start a thread per core they see, and their
threads wait for each other at every step. On a machine that runs anything else, that costs far more than it
gains: a 30,000-customer analyze on two cores took 74 s wall and 79 CPU s with two threads against 56 s and
55 CPU s with one (load average 2-3), and 186 s / 118 CPU s against 49 s / 47 CPU s at load 5-7. Letting
OpenMP's waiting threads sleep (``OMP_WAIT_POLICY=PASSIVE``) did not help: 172 s / 76 CPU s. ``crm-graph
analyze``, ``backtest`` and ``eval`` therefore run inside :func:`capped_threads`, which limits every such pool
to ``AnalyticsSettings.threads``: 1 unless a machine dedicated to the job is given more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

from graph.settings import AnalyticsSettings


@contextmanager
def capped_threads(settings: AnalyticsSettings) -> Iterator[int]:
    """Limit OpenMP and BLAS thread pools to ``settings.threads`` inside."""
    with threadpool_limits(limits=settings.threads):
        yield settings.threads
