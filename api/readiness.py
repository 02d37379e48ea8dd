"""The answer of ``/ready``: the store's last ping, shared for a moment by every caller."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import anyio
import anyio.to_thread

from graph.errors import StoreError, StoreUnavailable

READY_FRESH_SECONDS = 1.0
"""How long one ping's answer stands for every /ready call: a recovered store shows within this."""


class ReadinessProbe:
    """Pings the store at most once per :data:`READY_FRESH_SECONDS`, however many callers ask.

    Load balancers and monitors poll ``/ready`` from many places at once. Each call pinging the store on
    its own queued behind the request work for worker threads (12.3 s under 60 parallel requests). Here one
    ping runs at a time, on a thread of its own (its limiter is not the one data requests share), and every
    call within a second of it gets its answer, a failure as much as a success. A ping that hangs past the
    timeout is left to finish, and no other starts until it has: a hung store holds one thread, not one a second.
    """

    def __init__(self, fresh_for: float = READY_FRESH_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.fresh_for = fresh_for
        self.clock = clock
        self._lock = anyio.Lock()
        self._limiter = anyio.CapacityLimiter(1)
        self._in_flight = threading.Lock()
        self._checked_at = -math.inf
        self._failure: str | None = None

    async def check(self, ping: Callable[[], None], timeout: float) -> None:
        """Return if the store answered the latest ping; raise :class:`StoreUnavailable` if it did not."""
        async with self._lock:
            if self.clock() - self._checked_at >= self.fresh_for:
                self._failure = await self._ping(ping, timeout)
                self._checked_at = self.clock()
            failure = self._failure
        if failure is not None:
            raise StoreUnavailable(failure)

    async def _ping(self, ping: Callable[[], None], timeout: float) -> str | None:
        late = f"the store did not answer within {timeout:g} s"
        if self._in_flight.locked():
            return late

        def ping_once() -> None:
            with self._in_flight:
                ping()

        try:
            with anyio.fail_after(timeout):
                await anyio.to_thread.run_sync(ping_once, abandon_on_cancel=True, limiter=self._limiter)
        except TimeoutError:
            return late
        except StoreError as error:
            return str(error)
        return None
