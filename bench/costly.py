"""Costly requests against a running API: what each costs alone, and what one token's flood of them does to
another caller's customer 360.

``python -m bench.costly PLAN.json`` reads a JSON plan:

* ``base_url``: a loopback address of a running ``crm-graph serve``;
* ``alone``: paths of costly requests, each timed ``repeat`` times one after another;
* ``flood_path`` and ``flood_concurrency``: what the flooding token sends, that many at a time, without pause
  (a refused request is sent again at once) for ``seconds``;
* ``victim_paths``: the other caller's reads, one after another but at most ``victim_per_second``, timed before
  the flood and during it.

Tokens come from the environment: ``CRM_GRAPH_BENCH_FLOOD_TOKEN`` (the flooding token, which also times
``alone``) and ``CRM_GRAPH_BENCH_VICTIM_TOKEN``. It prints one JSON object: latencies in milliseconds and the
status counts of each part. Like ``bench.loadgen`` it runs as its own process and loads only loopback addresses.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from typing import Any

import httpx

from bench.loadgen import check_loopback
from bench.measure import latency


async def timed_get(client: httpx.AsyncClient, path: str, statuses: Counter[str]) -> float:
    """Seconds one GET took; its status (or the transport error's name) counted in ``statuses``."""
    began = time.perf_counter()
    try:
        response = await client.get(path)
        statuses[str(response.status_code)] += 1
    except httpx.HTTPError as error:
        statuses[type(error).__name__] += 1
    return time.perf_counter() - began


async def _victim(
    client: httpx.AsyncClient, paths: list[str], seconds: float, per_second: float
) -> tuple[list[float], Counter[str]]:
    """The other caller: one read after another, at most ``per_second`` (below its own rate limit)."""
    statuses: Counter[str] = Counter()
    durations: list[float] = []
    began = time.perf_counter()
    while time.perf_counter() < began + seconds:
        durations.append(await timed_get(client, paths[len(durations) % len(paths)], statuses))
        await asyncio.sleep(max(0.0, began + len(durations) / per_second - time.perf_counter()))
    return durations, statuses


async def run(plan: dict[str, Any], flood_token: str, victim_token: str) -> dict[str, Any]:
    check_loopback(plan["base_url"])
    seconds = float(plan["seconds"])
    concurrency = int(plan["flood_concurrency"])
    flooder = httpx.AsyncClient(
        base_url=plan["base_url"],
        headers={"Authorization": f"Bearer {flood_token}"},
        limits=httpx.Limits(max_connections=concurrency),
        timeout=60,
    )
    victim = httpx.AsyncClient(
        base_url=plan["base_url"], headers={"Authorization": f"Bearer {victim_token}"}, timeout=60
    )
    async with flooder, victim:
        alone = {}
        for path in plan["alone"]:
            statuses: Counter[str] = Counter()
            durations = [await timed_get(flooder, path, statuses) for _ in range(int(plan["repeat"]))]
            alone[path] = {"latency": latency(durations).model_dump(), "statuses": dict(statuses)}
        pace = float(plan["victim_per_second"])
        quiet, quiet_statuses = await _victim(victim, plan["victim_paths"], seconds, pace)
        flood_statuses: Counter[str] = Counter()
        flood_durations: list[float] = []
        stop = time.perf_counter() + seconds

        async def flood() -> None:
            while time.perf_counter() < stop:
                flood_durations.append(await timed_get(flooder, plan["flood_path"], flood_statuses))

        flooding = [asyncio.ensure_future(flood()) for _ in range(concurrency)]
        await asyncio.sleep(0.2)  # let the flood fill the server first
        loaded, loaded_statuses = await _victim(victim, plan["victim_paths"], seconds - 0.2, pace)
        await asyncio.gather(*flooding)
    return {
        "alone": alone,
        "victim_quiet": {"latency": latency(quiet).model_dump(), "statuses": dict(quiet_statuses)},
        "victim_flooded": {"latency": latency(loaded).model_dump(), "statuses": dict(loaded_statuses)},
        "flood": {"latency": latency(flood_durations).model_dump(), "statuses": dict(flood_statuses)},
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.costly PLAN.json (tokens: CRM_GRAPH_BENCH_FLOOD_TOKEN, _VICTIM_TOKEN)")
    with open(args[0], encoding="utf-8") as file:
        plan = json.load(file)
    tokens = (os.environ.get("CRM_GRAPH_BENCH_FLOOD_TOKEN", ""), os.environ.get("CRM_GRAPH_BENCH_VICTIM_TOKEN", ""))
    print(json.dumps(asyncio.run(run(plan, *tokens)), indent=2))


if __name__ == "__main__":
    main()
