"""One small embedded-only benchmark run shared by the bench tests (a run takes a minute or more)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.harness import BenchConfig, run_bench
from bench.report import BenchReport


@dataclass(frozen=True)
class BenchRun:
    work: Path
    """The run's work folder, kept: the bank, the embedded store (``embedded``), the load reports."""
    checkpoint: Path
    report: BenchReport


@pytest.fixture(scope="package")
def embedded_bench(tmp_path_factory: pytest.TempPathFactory) -> BenchRun:
    work = tmp_path_factory.mktemp("bench")
    checkpoint = tmp_path_factory.mktemp("partial") / "partial.json"
    report = run_bench(
        BenchConfig(
            customers=120,
            queries=15,
            skip_neo4j=True,
            api_concurrency=2,
            api_max_requests=20,
            api_max_seconds=3,
            work_dir=work,
            checkpoint=checkpoint,
        )
    )
    return BenchRun(work, checkpoint, report)
