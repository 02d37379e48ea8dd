"""Request limits: a token bucket per API token (and one per client address for failed authentications), a cap
on the costly requests running at once, and a cap on request body size.

The token bucket counts what requests cost, not how many there are: a request to an endpoint of
:data:`REQUEST_COSTS` spends that many of its token's budget, a customer 360 one. :class:`CostLimits` also bounds
how many costly requests run at once, per token (429 above it) and in all (503 above it), so that one token
cannot fill the worker threads and the cores that every other caller's requests need. A request holds its
place until its work has really stopped: work abandoned by a client that went away keeps its place until the
worker thread returns (the work is cancelled and stops at its next check, see ``graph.cancellation``), so
abandoning and retrying does not pile work up.

The body cap is a pure ASGI middleware so that it acts before FastAPI reads or parses anything: it
refuses a declared ``Content-Length`` over the cap at once, and counts the bytes of a streamed body
(chunked, or a lying header) as they arrive, stopping at the first byte over.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, RateLimited, ServerBusy
from api.problems import problem_for

T = TypeVar("T")

REQUEST_COSTS = {
    "list_clusters": 3,
    "get_cluster": 2,
    "list_prospects": 2,
    "get_portfolio": 10,
    "list_guarantee_circles": 2,
}
"""What a request to each costly endpoint spends of its token's rate budget, in customer 360s: the server's CPU time
per request over a 360's on a 20,000-customer bank analysed by this version (bench/results/serve-20k-30k-100k.md:
a 360 4.5 ms, a cluster list 12.3, one cluster 2.1, a prospect list 8.8, a portfolio 75, the guarantee circles
10.1), but at least 2, since a store analysed by an older version computes these answers per request, and at most
10, a quarter of the default burst, so that a manager may still open his portfolio a few times in a row."""
COSTLY_ENDPOINTS = frozenset(REQUEST_COSTS)
"""Endpoints whose answer reads far more of the graph than one customer's neighbourhood."""
COSTLY_RETRY_AFTER_SECONDS = 1


class TokenBuckets:
    """One bucket per key: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, reason: str = "too many requests", cost: float = 1.0) -> None:
        """Spend ``cost`` requests of ``key``'s budget, or raise ``RateLimited`` saying when to retry.

        A cost above the burst spends the whole burst: such a request can always be made, at most that often.
        """
        cost = min(cost, float(self.burst))
        with self._lock:
            tokens = self._refilled(key)
            if tokens < cost:
                raise RateLimited(self._wait(tokens, cost), reason)
            self._buckets[key] = (tokens - cost, self._clock())

    def check(self, key: str, reason: str = "too many requests") -> None:
        """Raise ``RateLimited`` when ``key``'s budget is spent, without spending any of it."""
        with self._lock:
            tokens = self._refilled(key)
            if tokens < 1.0:
                raise RateLimited(self._wait(tokens), reason)

    def _refilled(self, key: str) -> float:
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        self._buckets[key] = (tokens, now)
        return tokens

    def _wait(self, tokens: float, cost: float = 1.0) -> int:
        return max(1, math.ceil((cost - tokens) / self.rate))


class CostLimits:
    """How many costly requests may run at once: ``per_token`` for each token, ``total`` for all of them."""

    def __init__(self, per_token: int, total: int) -> None:
        self.per_token = per_token
        self.total = total
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()

    def admit(self, key: str) -> CostlyWork:
        """A place for one costly request of ``key``; ``RateLimited`` or ``ServerBusy`` when there is none."""
        with self._lock:
            if self._running[key] >= self.per_token:
                raise RateLimited(
                    COSTLY_RETRY_AFTER_SECONDS, f"this token already runs {self.per_token} costly requests"
                )
            if self._running.total() >= self.total:
                raise ServerBusy(COSTLY_RETRY_AFTER_SECONDS)
            self._running[key] += 1
        return CostlyWork(self, key)

    def running(self, key: str | None = None) -> int:
        """Costly requests holding a place now (of ``key``, or of every token)."""
        with self._lock:
            return self._running.total() if key is None else self._running[key]

    def release(self, key: str) -> None:
        """Give back one place of ``key`` (see :class:`CostlyWork`, which calls it exactly once per place)."""
        with self._lock:
            self._running[key] -= 1
            if self._running[key] <= 0:
                del self._running[key]


class CostlyWork:
    """One admitted request's place, given back exactly once: when its work ends in the worker thread, or,
    when the work never started (the request was cancelled while waiting for a thread), when the request ends."""

    def __init__(self, limits: CostLimits, key: str) -> None:
        self._limits = limits
        self._key = key
        self._lock = threading.Lock()
        self._started = False
        self._closed = False

    def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` in the calling (worker) thread, then give the place back."""
        with self._lock:
            if self._closed:
                raise ServerBusy(COSTLY_RETRY_AFTER_SECONDS)  # the request ended before a thread took the work
            self._started = True
        try:
            return work()
        finally:
            self._limits.release(self._key)

    def close(self) -> None:
        """The request ends: give the place back, unless its work runs (or ran) in a thread, which gives it back."""
        with self._lock:
            owes_place = not self._started and not self._closed
            self._closed = True
        if owes_place:
            self._limits.release(self._key)


class _BodyOverLimit(BaseException):
    """Raised inside the app's receive when a streamed body passes the cap. A BaseException so that
    FastAPI's body parsing (which turns any Exception into a 400) lets it through to :class:`BodyLimit`."""


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 problem, before the app parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLarge(f"request body over {self.max_bytes} bytes")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await problem_for(too_large)(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyOverLimit
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyOverLimit:
            if started:
                raise
            await problem_for(too_large)(scope, receive, send)
