"""A bounded HTTP load generator for the benchmark, run as its own process so it does not share a GIL
with the server it measures.

``python -m bench.loadgen PLAN`` reads a JSON plan (``base_url``, ``paths``, ``concurrency``,
``max_requests``, ``max_seconds``), takes the bearer token from ``CRM_GRAPH_BENCH_TOKEN``, sends at
most ``max_requests`` requests for at most ``max_seconds`` with ``concurrency`` workers, and writes one
JSON object (requests, errors, seconds, per-request durations and status counts) to RESULT, or prints it
when no RESULT is given. The harness passes a file: a result read back from a pipe once came cut at 64 KiB.
Only loopback URLs are accepted: this tool must never load someone else's server.

It shares the machine's cores with the server it measures, so it must cost far less per request than the
server: aiohttp on uvloop does (httpx cost more CPU per request than the server did).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp


def check_loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing to load {base_url!r}: only loopback addresses (127.0.0.1, ::1) are allowed")


async def timed_get(session: aiohttp.ClientSession, path: str, statuses: Counter[str]) -> float:
    """Seconds one GET took, its body read; its status (or the transport error's name) counted in ``statuses``."""
    began = time.perf_counter()
    try:
        async with session.get(path) as response:
            await response.read()
            statuses[str(response.status)] += 1
    except (aiohttp.ClientError, TimeoutError) as error:
        statuses[type(error).__name__] += 1
    return time.perf_counter() - began


async def run(plan: dict[str, Any], token: str) -> dict[str, Any]:
    check_loopback(plan["base_url"])
    paths: list[str] = plan["paths"]
    max_requests = int(plan["max_requests"])
    deadline = time.perf_counter() + float(plan["max_seconds"])
    durations: list[float] = []
    statuses: Counter[str] = Counter()
    issued = 0
    connector = aiohttp.TCPConnector(limit=plan["concurrency"])
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base_url=plan["base_url"], headers=headers, connector=connector, timeout=timeout
    ) as session:

        async def worker() -> None:
            nonlocal issued
            while issued < max_requests and time.perf_counter() < deadline:
                path = paths[issued % len(paths)]
                issued += 1
                durations.append(await timed_get(session, path, statuses))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(plan["concurrency"])))
        seconds = time.perf_counter() - started
    errors = sum(count for status, count in statuses.items() if not status.startswith("2") and status != "404")
    return {
        "requests": len(durations),
        "errors": errors,
        "seconds": seconds,
        "durations": durations,
        "status_counts": dict(statuses),
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        raise SystemExit("usage: python -m bench.loadgen PLAN.json [RESULT.json] (token in CRM_GRAPH_BENCH_TOKEN)")
    with open(args[0], encoding="utf-8") as file:
        plan = json.load(file)
    token = os.environ.get("CRM_GRAPH_BENCH_TOKEN", "")
    result = json.dumps(_event_loop_runner()(run(plan, token)))
    if len(args) == 2:
        with open(args[1], "w", encoding="utf-8") as file:
            file.write(result)
    else:
        print(result)


def _event_loop_runner() -> Any:
    """uvloop's ``run`` where it exists (not on Windows), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


if __name__ == "__main__":
    main()
