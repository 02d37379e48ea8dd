"""Prospect lists made by analyze: the same customers and scores as the request-time ranking, read back
on both backends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.errors import NotFound
from graph.model import NodeLabel
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics import analyze, prospects
from queries.analytics.analyze import co_holdings
from queries.analytics.frames import GraphFrames
from queries.analytics.prospecting import PRECOMPUTED_PROSPECTS, prospect_rows, ranked_prospects
from tests.analytics.bank import SETTINGS, small_bank


def _live(store: GraphStore, product_id: str, settings: AnalyticsSettings) -> list[tuple[str, float]]:
    found = prospects(store, product_id, PRECOMPUTED_PROSPECTS, settings=settings, today=settings.as_of)
    return [(item.customer_id, item.score) for item in found]


def test_analyze_ranks_every_product_as_the_request_time_ranking_does(store: GraphStore) -> None:
    small_bank().write(store)
    analyze(store, SETTINGS)
    products = sorted(record.id for record in store.nodes(NodeLabel.PRODUCT))
    ranked = {p: [(item.customer_id, item.score) for item in ranked_prospects(store, p, 1000) or []] for p in products}
    assert ranked == {p: _live(store, p, SETTINGS) for p in products}
    assert any(ranked.values())  # the bank has prospects to compare
    assert ranked_prospects(store, products[0], 1) == ranked_prospects(store, products[0], 1000)[:1]  # type: ignore[index]
    with pytest.raises(NotFound):
        ranked_prospects(store, "NOPE")


def test_a_product_analyze_has_not_ranked_has_no_list(store: GraphStore) -> None:
    small_bank().write(store)
    assert ranked_prospects(store, "C501") is None


def test_generated_bank_lists_match_the_request_time_ranking(
    generated_bank: Path, generated_frames: GraphFrames, tmp_path: Path
) -> None:
    # A generated bank has every tie type, age limits, segments and exclusive products. The request-time ranking
    # reads the co-holdings analyze writes, so they are written first, to a copy of the session's bank.
    shutil.copytree(generated_bank / "store.sqlite", tmp_path / "store.sqlite")  # the embedded store is a folder
    settings = AnalyticsSettings(as_of=generated_frames.as_of)
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        store.write(nodes=co_holdings(generated_frames))
        compared = 0
        for row in prospect_rows(generated_frames, settings):
            kept = row["properties"]
            ranked = list(zip(kept["prospect_ids"], kept["prospect_scores"], strict=True))
            assert ranked == _live(store, row["id"], settings)
            compared += len(ranked)
    assert compared > 1000
