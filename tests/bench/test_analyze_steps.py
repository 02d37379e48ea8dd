"""``python -m bench.analyze_steps`` analyses a store and reports every step's CPU seconds and the peak memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.analyze_steps import main
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from queries.analytics.analyze import STEPS
from tests.analytics.bank import small_bank


def test_every_step_is_reported_with_its_cpu_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with EmbeddedStore(tmp_path / "store") as store:
        small_bank().write(store)
        customers = len(list(store.nodes(NodeLabel.CUSTOMER)))
    main([str(tmp_path / "store")])
    figures = json.loads(capsys.readouterr().out)
    assert figures["customers"] == customers > 0
    assert set(figures["step_cpu_seconds"]) == set(STEPS) == set(figures["step_seconds"])
    assert figures["cpu_seconds"] >= sum(figures["step_cpu_seconds"].values()) - 0.05
    assert figures["peak_rss_mib"] > 0
    with EmbeddedStore(tmp_path / "store", read_only=True) as store:  # analyze wrote its results into it
        assert all("churn_risk" in record.properties for record in store.nodes(NodeLabel.CUSTOMER))


@pytest.mark.parametrize("given", [["--help"], [], ["missing"]])
def test_help_or_a_missing_store_is_refused_without_making_one(tmp_path: Path, given: list[str]) -> None:
    with pytest.raises(SystemExit, match=r"usage|no embedded store"):
        main([str(tmp_path / name) if name == "missing" else name for name in given])
    assert not (tmp_path / "missing").exists() and not Path("--help").exists()
