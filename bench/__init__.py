"""Benchmarks: load, query, analytics and API throughput on the embedded store and on Neo4j, side by side.

``crm-graph bench`` (or ``make bench``) generates a bank, then measures both backends in one run and writes
a timestamped JSON file and a markdown table under ``bench/results/``. :func:`bench.harness.run_bench` is the
entry point; :mod:`bench.report` holds the result models and the table.
"""

from bench.harness import BenchConfig, run_bench
from bench.report import BenchReport

__all__ = ["BenchConfig", "BenchReport", "run_bench"]
