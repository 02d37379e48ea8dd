"""Cooperative cancellation: work run under a cancelled flag, or past its deadline, stops at its next check,
on both backends; outside a cancellable block nothing is ever cancelled."""

from __future__ import annotations

import time

import pytest

from graph.cancellation import Cancellation, cancellable, checkpoint
from graph.errors import WorkCancelled
from graph.store import GraphStore
from queries.analytics import prospects
from queries.guarantees import guarantee_circles
from tests.api.conftest import bank_nodes, bank_ties


def test_a_checkpoint_passes_until_the_work_is_cancelled_and_only_inside_its_block() -> None:
    checkpoint()  # no cancellation in force: the command line and analyze never stop here
    cancellation = Cancellation()
    with cancellable(cancellation):
        checkpoint()
        cancellation.cancel()
        with pytest.raises(WorkCancelled):
            checkpoint()
    checkpoint()


def test_a_deadline_passed_cancels_without_anyone_setting_the_flag() -> None:
    with cancellable(Cancellation(deadline=time.monotonic() - 1.0)), pytest.raises(WorkCancelled):
        checkpoint()
    with cancellable(Cancellation(deadline=time.monotonic() + 3600.0)):
        checkpoint()


def test_cancelled_costly_queries_stop_on_either_backend(store: GraphStore) -> None:
    store.write(nodes=bank_nodes(), ties=bank_ties())
    assert guarantee_circles(store).circles  # the bank has a circle: the search has work to stop
    cancelled = Cancellation()
    cancelled.cancel()
    with cancellable(cancelled):
        with pytest.raises(WorkCancelled):
            guarantee_circles(store)
        with pytest.raises(WorkCancelled):
            prospects(store, "FUND01")
