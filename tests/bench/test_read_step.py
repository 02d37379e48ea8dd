"""``python -m bench.read_step`` reads a store as analyze does and reports the read step's CPU and memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.read_step import main
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from tests.analytics.bank import small_bank


def test_the_read_step_is_reported_and_leaves_the_store_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with EmbeddedStore(tmp_path / "store") as store:
        small_bank().write(store)
        customers = store.node_ids(NodeLabel.CUSTOMER)
    main([str(tmp_path / "store")])
    figures = json.loads(capsys.readouterr().out)
    assert figures["customers"] == len(customers) > 0
    assert figures["accounts"] > 0 and figures["ties"] > 0
    assert figures["peak_rss_mib_after_read"] >= figures["resident_mib_after_read"] - 1 > 0
    with EmbeddedStore(tmp_path / "store", read_only=True) as store:
        assert store.node_ids(NodeLabel.CUSTOMER) == customers
        assert not any("churn_risk" in record.properties for record in store.nodes(NodeLabel.CUSTOMER))
