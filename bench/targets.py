"""What a benchmark run is judged by: the embedded store against Neo4j (ratios), and the issues' targets, set for
1,000,000 customers, against what the run measured."""

from __future__ import annotations

import math
from collections.abc import Callable

from bench.report import LOAD_KINDS, QUERY_NAMES, ApiResult, BackendResult, Baselines, StoreFigures, Target


def ratios(backends: dict[str, BackendResult]) -> dict[str, float]:
    """Neo4j over embedded for times, embedded over Neo4j for rates: above 1, the embedded store is faster."""
    embedded, neo4j = backends.get("embedded"), backends.get("neo4j")
    if embedded is None or neo4j is None:
        return {}

    def divide(numerator: float, denominator: float) -> float:
        return round(numerator / denominator, 2) if denominator > 0 else math.inf

    found = {"load": divide(embedded.load.rows_per_second, neo4j.load.rows_per_second)}
    for kind in LOAD_KINDS:
        found[f"load_{kind}"] = divide(
            embedded.load.kinds[kind].rows_per_second, neo4j.load.kinds[kind].rows_per_second
        )
    for name in QUERY_NAMES:
        for pct in ("p50", "p95", "p99"):
            found[f"{name}_{pct}"] = divide(
                getattr(neo4j.queries[name], f"{pct}_ms"), getattr(embedded.queries[name], f"{pct}_ms")
            )
    found["analyze"] = divide(neo4j.analyze.seconds, embedded.analyze.seconds)
    found["api"] = divide(embedded.api.requests_per_second, neo4j.api.requests_per_second)
    found["api_p99"] = divide(neo4j.api.latency.p99_ms, embedded.api.latency.p99_ms)
    return {name: value for name, value in found.items() if math.isfinite(value)}


def targets(backends: dict[str, BackendResult], baselines: Baselines) -> list[Target]:
    """The issue's targets (set for 1M customers) against what this run measured."""
    embedded, neo4j = backends.get("embedded"), backends.get("neo4j")
    rbr = baselines.neo4j_row_by_row
    initial = baselines.neo4j_initial_import

    return [
        _target(
            "embedded load",
            ">= 100,000 rows/s",
            embedded.load.rows_per_second if embedded else None,
            "rows/s",
            lambda v: v >= 100_000,
        ),
        _target("Neo4j batched vs row-by-row", ">= 50x", rbr.ratio if rbr else None, "x", lambda v: v >= 50),
        _target(
            "Neo4j load",
            ">= 20,000 rows/s",
            neo4j.load.rows_per_second if neo4j else None,
            "rows/s",
            lambda v: v >= 20_000,
        ),
        _target(
            "Neo4j initial import (neo4j-admin, its start included)",
            ">= 150,000 rows/s",
            initial.rows_per_second if initial else None,
            "rows/s",
            lambda v: v >= 150_000,
        ),
        _target(
            "2-hop network p99, embedded",
            "< 10 ms",
            embedded.queries["network_2hop"].p99_ms if embedded else None,
            "ms",
            lambda v: v < 10,
        ),
        _target(
            "2-hop network p99, Neo4j",
            "< 50 ms",
            neo4j.queries["network_2hop"].p99_ms if neo4j else None,
            "ms",
            lambda v: v < 50,
        ),
        _target(
            "cross-sell p99, Neo4j",
            "< 100 ms",
            neo4j.queries["cross_sell"].p99_ms if neo4j else None,
            "ms",
            lambda v: v < 100,
        ),
        _target("analyze, embedded", "< 600 s", embedded.analyze.seconds if embedded else None, "s", lambda v: v < 600),
        _target("analyze, Neo4j", "< 600 s", neo4j.analyze.seconds if neo4j else None, "s", lambda v: v < 600),
        *store_targets(embedded.store if embedded else None),
        *api_targets(embedded.api if embedded else None, neo4j.api if neo4j else None),
    ]


def _target(name: str, text: str, measured: float | None, unit: str, ok: Callable[[float], bool]) -> Target:
    return Target(name=name, target=text, measured=measured, unit=unit, met=None if measured is None else ok(measured))


def store_targets(store: StoreFigures | None) -> list[Target]:
    """The embedded store's targets (issue 16, set for 1,000,000 customers): the fastest open measured, the
    resident memory after it, and the bulk write into an empty store."""
    fastest = min(store.opens, key=lambda run: run.seconds) if store and store.opens else None
    return [
        _target("embedded store open", "< 10 s", fastest.seconds if fastest else None, "s", lambda v: v < 10),
        _target(
            "embedded store resident after open",
            "< 2,560 MiB",
            fastest.rss_mib if fastest else None,
            "MiB",
            lambda v: v < 2_560,
        ),
        _target(
            "embedded bulk write on prepared columns",
            ">= 250,000 rows/s",
            store.bulk_write_into_empty.rows_per_second if store else None,
            "rows/s",
            lambda v: v >= 250_000,
        ),
    ]


def api_targets(embedded: ApiResult | None, neo4j: ApiResult | None) -> list[Target]:
    """The API's targets at 16 concurrent clients: requests per second, and the p99 on the embedded store."""
    return [
        _target(
            "API on the embedded store",
            ">= 600 requests/s",
            embedded.requests_per_second if embedded else None,
            "requests/s",
            lambda v: v >= 600,
        ),
        _target(
            "API p99 on the embedded store",
            "< 50 ms",
            embedded.latency.p99_ms if embedded else None,
            "ms",
            lambda v: v < 50,
        ),
        _target(
            "API on Neo4j",
            ">= 200 requests/s",
            neo4j.requests_per_second if neo4j else None,
            "requests/s",
            lambda v: v >= 200,
        ),
    ]
