"""Cooperative cancellation of long work: a flag and a deadline that the work itself checks.

A thread cannot be killed, so work that nobody waits for any more (its client went away, or its deadline
passed and the caller was answered 503) would run to its end and keep its place among the costly requests.
Instead, the caller runs the work inside :func:`cancellable`, and the work's long loops call
:func:`checkpoint`, which raises :class:`~graph.errors.WorkCancelled` once the flag is set or the deadline has
passed. Outside :func:`cancellable` (the command line, analytics), :func:`checkpoint` does nothing.

The flag travels in a context variable, so queries need no extra parameter; the stores check it before each
query they run, and the longest loops of the queries check it as they go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from graph.errors import WorkCancelled


class Cancellation:
    """Set by the caller (:meth:`cancel`), or due by itself at ``deadline`` (a ``time.monotonic()`` value)."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self._flag = threading.Event()

    def cancel(self) -> None:
        self._flag.set()

    @property
    def cancelled(self) -> bool:
        return self._flag.is_set() or (self.deadline is not None and time.monotonic() >= self.deadline)


_current: ContextVar[Cancellation | None] = ContextVar("crm_graph_cancellation", default=None)


@contextmanager
def cancellable(cancellation: Cancellation) -> Iterator[Cancellation]:
    """Run the block under ``cancellation``: every :func:`checkpoint` within it checks it."""
    token = _current.set(cancellation)
    try:
        yield cancellation
    finally:
        _current.reset(token)


def checkpoint() -> None:
    """Raise ``WorkCancelled`` when the work running now was cancelled or is past its deadline."""
    cancellation = _current.get()
    if cancellation is not None and cancellation.cancelled:
        raise WorkCancelled("the work was stopped: its request ended or ran out of time")
