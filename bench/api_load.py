"""The API's figures alone, on a bank already in the configured store (embedded or Neo4j).

``python -m bench.api_load [--runs 3] [--seconds 20] [--clients 16] [--sample 300]`` serves the store that the
``CRM_GRAPH_*`` settings name, loads it with the benchmark's mix (:data:`bench.harness.API_PATHS`) from a separate
process, and prints one line per run: requests/s, p50 and p99, and the server's and the load generator's CPU per
request. Several short runs back to back, on a bank loaded once, show how the serving path changed without the
minutes ``crm-graph bench`` spends generating, loading and analysing.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.harness import BenchConfig, bench_settings, measure_api
from graph.factory import open_store
from graph.model import NodeLabel
from graph.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="load runs, one after the other")
    parser.add_argument("--seconds", type=float, default=20.0, help="longest run, seconds")
    parser.add_argument("--requests", type=int, default=5_000, help="most requests of a run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--sample", type=int, default=300, help="customers the requests ask about")
    parser.add_argument("--seed", type=int, default=7, help="seed of the customer sample")
    parser.add_argument(
        "--path", action="append", help="a request of the mix ({id} the customer), instead of the benchmark's mix"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    config = BenchConfig(
        api_concurrency=args.clients, api_max_requests=args.requests, api_max_seconds=args.seconds, seed=args.seed
    )
    if args.path:
        config = replace(config, api_paths=tuple(args.path))
    with tempfile.TemporaryDirectory(prefix="crm-graph-api-load-") as work, open_store(settings) as store:
        customer_ids = sorted(record.id for record in store.nodes(NodeLabel.CUSTOMER))
        sample = sorted(random.Random(args.seed).sample(customer_ids, min(args.sample, len(customer_ids))))
        served = bench_settings(settings, Path(work))
        for run in range(1, args.runs + 1):
            api = measure_api(store, settings.backend.value, sample, served, config, lambda *_: None)
            print(
                f"run {run}: {api.requests:,} requests, {api.requests_per_second:,.1f} requests/s, "
                f"p50 {api.latency.p50_ms:,.1f} ms, p99 {api.latency.p99_ms:,.1f} ms, "
                f"server CPU {api.server_cpu_ms_per_request:.2f} ms/request, "
                f"load generator {api.client_cpu_ms_per_request:.2f} ms/request; statuses {api.status_counts}",
                flush=True,
            )


if __name__ == "__main__":
    main()
