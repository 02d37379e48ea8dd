"""Connections to Neo4j: retries, the shared read transaction, and the driver's errors turned into ours.

Why not the driver's managed transactions (``execute_read``): they retry every error the driver calls
retryable, a refused connection included, for the whole retry budget. An API request then waited for its
own timeout (15 s) before answering 503, and the retries went on after the answer was sent. Here transient
errors (a deadlock, a lost cluster member) are retried with backoff within the store's timeout, while a
server that cannot be reached is retried once, at once (a pooled connection the server dropped on a
restart fails the first time), and then reported, so the caller answers in well under a second.

Within a store's ``reading`` context (an API request's work) the reads share one read transaction, begun at
the first read: a request made four to eight queries, each its own session, BEGIN and COMMIT, and that work per
transaction cost the server and the driver more than the queries. A read of the shared transaction that fails
ends it; after a transient error (a lost connection, a deadlock) that read and the rest run each in its own
transaction, with the retries above, and any other error is raised as it is. A node read twice in the
transaction (the API's check of the asked-for customer, then the query about it) is sent once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import neo4j
import tenacity
from neo4j import Transaction
from neo4j import exceptions as driver_errors

from graph.errors import StoreError, StoreUnavailable
from graph.model import NodeLabel

CONNECTION_LOST = (driver_errors.ServiceUnavailable, driver_errors.SessionExpired)


def worth_retrying(state: tenacity.RetryCallState) -> bool:
    """Retry a transient error; a lost or refused connection only once (see the module docstring)."""
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, CONNECTION_LOST):
        return state.attempt_number == 1
    return isinstance(error, driver_errors.Neo4jError | driver_errors.DriverError) and error.is_retryable()


def retrying(timeout_seconds: float) -> tenacity.Retrying:
    """Transient errors retried with backoff within the timeout, a lost connection once (see above)."""
    return tenacity.Retrying(
        retry=worth_retrying,
        wait=tenacity.wait_exponential(multiplier=0.05, max=2.0) + tenacity.wait_random(0, 0.05),
        stop=tenacity.stop_after_delay(timeout_seconds),
        reraise=True,
    )


def rows(result: neo4j.Result) -> list[dict[str, Any]]:
    # Not record.data(): it walks every value for graph objects, which no query of ours returns,
    # and that walk was three quarters of the time of reading a large bank.
    return [dict(record.items()) for record in result]


class SharedReads:
    """One read transaction for the reads of a store's ``reading`` context, begun at the first read."""

    def __init__(self, session: Callable[[], neo4j.Session], timeout_seconds: float) -> None:
        self._open_session = session
        self._timeout_seconds = timeout_seconds
        self._session: neo4j.Session | None = None
        self._transaction: Transaction | None = None
        self.open = True
        self.nodes: dict[tuple[NodeLabel, str], list[dict[str, Any]]] = {}
        """The rows of each node read in the transaction, by (label asked for, id)."""

    def transaction(self) -> Transaction:
        if self._transaction is None:
            self._session = self._open_session()
            self._transaction = self._session.begin_transaction(timeout=self._timeout_seconds)
        return self._transaction

    def close(self) -> None:
        """End the transaction (a read-only one has nothing to commit) and give the connection back."""
        self.open = False
        transaction, session, self._transaction, self._session = self._transaction, self._session, None, None
        try:
            if transaction is not None:
                transaction.close()
        except (driver_errors.Neo4jError, driver_errors.DriverError):
            pass  # a broken connection: the session below gives it back to the pool, which drops it
        finally:
            if session is not None:
                session.close()


class translated_errors:
    """Turn the driver's connection and timeout errors into ours, so callers see one exception tree.

    ``server`` names the server in messages; by default it is not named, as messages reach API clients.
    """

    def __init__(self, server: str = "Neo4j") -> None:
        self.server = server

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        if error is None or not isinstance(error, driver_errors.Neo4jError | driver_errors.DriverError):
            return
        if isinstance(error, driver_errors.ServiceUnavailable | driver_errors.SessionExpired):
            raise StoreUnavailable(f"{self.server} cannot be reached") from error
        code = getattr(error, "code", "") or ""
        if "TransactionTimedOut" in code or "Timeout" in code:
            raise StoreUnavailable(f"{self.server} did not answer in time") from error
        raise StoreError(f"Neo4j refused the operation ({code or type(error).__name__})") from error
