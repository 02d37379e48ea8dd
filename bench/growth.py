"""How measures grow from a smaller benchmark run to a larger one (say 100,000 to 1,000,000 customers).

Each row is one measure on one backend: its value in both runs and the factor between them, next to
the factor by which the bank grew. A time that grows less than the bank scales better than linearly; a
latency that stays near 1x does not depend on the bank's size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.report import LOAD_KINDS, QUERY_NAMES, BackendResult, BenchReport

Measure = tuple[str, Callable[[BackendResult], float | None], int]
"""(label, how to read it from one backend's result, decimals shown)."""

MEASURES: tuple[Measure, ...] = (
    ("load, whole (s)", lambda r: r.load.seconds, 0),
    ("load, all rows (rows/s)", lambda r: r.load.rows_per_second, 0),
    *(
        (f"load, {kind.replace('_', ' ')} (rows/s)", lambda r, k=kind: r.load.kinds[k].rows_per_second, 0)
        for kind in LOAD_KINDS
    ),
    *(
        # A query added to the harness later is missing from older results: no growth is shown for it.
        (f"{name} {pct} (ms)", lambda r, n=name, p=pct: getattr(r.queries[n], f"{p}_ms") if n in r.queries else None, 2)
        for name in QUERY_NAMES
        for pct in ("p50", "p99")
    ),
    ("analyze (s)", lambda r: r.analyze.seconds, 1),
    ("API (requests/s)", lambda r: r.api.requests_per_second, 0),
    ("peak RSS, benchmark process (MiB)", lambda r: r.memory.process_peak_mib, 0),
    ("peak RSS, Neo4j JVM (MiB)", lambda r: r.memory.neo4j_peak_mib, 0),
)


def read_report(path: Path) -> BenchReport:
    """A benchmark's JSON result, as ``crm-graph bench`` wrote it."""
    return BenchReport.model_validate_json(Path(path).read_text(encoding="utf-8"))


def growth_rows(small: BenchReport, large: BenchReport) -> list[tuple[str, str, float, float, float]]:
    """(measure, backend, small value, large value, large / small) for every measure both runs have."""
    rows = []
    for backend in small.backends.keys() & large.backends.keys():
        for label, pick, _digits in MEASURES:
            before, after = pick(small.backends[backend]), pick(large.backends[backend])
            if before is not None and after is not None and before > 0:
                rows.append((label, backend, before, after, after / before))
    order = {label: number for number, (label, _pick, _digits) in enumerate(MEASURES)}
    return sorted(rows, key=lambda row: (order[row[0]], row[1]))


def render_growth(small: BenchReport, large: BenchReport) -> str:
    """The growth table as markdown."""
    if small.meta.customers >= large.meta.customers:
        raise ValueError("the first report must be the smaller bank")
    scale = large.meta.customers / small.meta.customers
    digits = {label: places for label, _pick, places in MEASURES}
    lines = [
        f"# Growth from {small.meta.customers:,} to {large.meta.customers:,} customers",
        "",
        f"The bank grew {scale:,.1f}x ({small.meta.bank_rows:,} -> {large.meta.bank_rows:,} source rows). "
        f"Runs started {small.meta.started_at} and {large.meta.started_at}.",
        "",
        f"| measure | backend | {small.meta.customers:,} | {large.meta.customers:,} | growth |",
        "|---|---|---:|---:|---:|",
    ]
    for label, backend, before, after, factor in growth_rows(small, large):
        places = digits[label]
        lines.append(f"| {label} | {backend} | {before:,.{places}f} | {after:,.{places}f} | {factor:,.2f}x |")
    return "\n".join(lines) + "\n"
