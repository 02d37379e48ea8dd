"""/ready under load: one ping of the store answers every caller for a second, failures included."""

from __future__ import annotations

import threading
import time

import anyio

from api.readiness import ReadinessProbe
from graph.errors import StoreUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Server:
    """Stands in for a store's ping: counts pings, and fails or hangs on demand."""

    def __init__(self) -> None:
        self.pings = 0
        self.down = False
        self.release = threading.Event()
        self.started = threading.Event()
        self.hang = False

    def ping(self) -> None:
        self.pings += 1
        self.started.set()
        if self.hang:
            self.release.wait(10)
        if self.down:
            raise StoreUnavailable("Neo4j cannot be reached")


def ask(probe: ReadinessProbe, server: Server, callers: int, timeout: float = 5.0) -> list[str | None]:
    """What ``callers`` concurrent /ready calls get: None when ready, else the failure message."""
    answers: list[str | None] = []

    async def one() -> None:
        try:
            await probe.check(server.ping, timeout)
        except StoreUnavailable as error:
            answers.append(str(error))
        else:
            answers.append(None)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(callers):
                group.start_soon(one)

    anyio.run(main)
    return answers


def test_sixty_parallel_calls_share_one_ping() -> None:
    clock, server = Clock(), Server()
    probe = ReadinessProbe(fresh_for=1.0, clock=clock)
    assert ask(probe, server, 60) == [None] * 60
    assert server.pings == 1
    clock.now += 0.5
    assert ask(probe, server, 10) == [None] * 10
    assert server.pings == 1
    clock.now += 0.6
    assert ask(probe, server, 10) == [None] * 10
    assert server.pings == 2


def test_a_failure_is_shared_too_and_recovery_shows_within_a_second() -> None:
    clock, server = Clock(), Server()
    probe = ReadinessProbe(fresh_for=1.0, clock=clock)
    server.down = True
    assert ask(probe, server, 60) == ["Neo4j cannot be reached"] * 60
    assert server.pings == 1
    server.down = False
    assert ask(probe, server, 1) == ["Neo4j cannot be reached"], "within the second, the last answer stands"
    clock.now += 1.0
    assert ask(probe, server, 5) == [None] * 5
    assert server.pings == 2


def test_a_ping_that_hangs_is_a_timeout_and_does_not_pile_up() -> None:
    clock, server = Clock(), Server()
    probe = ReadinessProbe(fresh_for=1.0, clock=clock)
    server.hang = True
    try:
        for _ in range(10):
            assert ask(probe, server, 20, timeout=0.2) == ["the store did not answer within 0.2 s"] * 20
            # A worker thread that was slow to start (a busy machine) skips a call cancelled before it began:
            # then no ping ran, and the next second's callers start one.
            if server.started.wait(2):
                break
            clock.now += 1.0
        assert server.started.is_set(), "the ping's thread never started"
        clock.now += 1.0
        # The first ping still hangs in its thread: the next one waits for it instead of starting another.
        assert ask(probe, server, 5, timeout=0.2) == ["the store did not answer within 0.2 s"] * 5
        assert server.pings == 1
    finally:
        server.hang = False
        server.release.set()
    # Once the hung ping has returned (its thread lets go a moment after the release), the next ping answers.
    deadline = time.monotonic() + 10
    while True:
        clock.now += 1.0
        answer = ask(probe, server, 1)
        if answer == [None] or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert answer == [None] and server.pings == 2


def test_with_no_caching_every_call_pings() -> None:
    server = Server()
    probe = ReadinessProbe(fresh_for=0.0)
    assert ask(probe, server, 5) == [None] * 5
    assert server.pings == 5
