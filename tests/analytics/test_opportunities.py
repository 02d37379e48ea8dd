"""The opportunities analyze picks from its arrays are those the request-time path picks, on both backends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.neo4j_store import Neo4jStore
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics import analyze
from queries.analytics.array_recommendations import ArrayRecommender
from queries.analytics.crosssell import Catalogue, recommend
from queries.analytics.crosssell_fit import fitted_cross_sell
from queries.analytics.fetch import LIST_PRODUCTS
from queries.analytics.frames import GraphFrames, read_frames
from queries.analytics.training import training_window
from queries.portfolio import Opportunity, best_opportunities, list_managers, stored_opportunities
from tests.analytics.generated import load_generated_bank


def _picked(store: GraphStore, settings: AnalyticsSettings) -> dict[str, tuple[list[Opportunity], list[Opportunity]]]:
    """Per manager: (what analyze stored, what the request-time path picks now)."""
    today = settings.as_of
    assert today is not None
    return {
        manager.id: (
            stored_opportunities(store, manager.id) or [],
            best_opportunities(store, manager.id, today, settings, 10),
        )
        for manager in list_managers(store)
    }


def _check_picked(picked: dict[str, tuple[list[Opportunity], list[Opportunity]]]) -> None:
    for manager, (stored, live) in picked.items():
        assert stored == live, manager
    found = [item for stored, _ in picked.values() for item in stored]
    assert len(found) > 50 and any(item.evidence for item in found)
    # Both kinds: the fitted model's, and the hand-set score of a customer it scored no product for (on this
    # small bank, many of those who have left hold nothing), with paths two ties long.
    fitted = [item for item in found if "model" in item.parts]
    assert 0 < len(fitted) < len(found)
    assert any(len(path.ties) == 2 for item in found for path in item.evidence)


def test_analyze_picks_the_request_time_opportunities_from_its_arrays(generated_bank: Path, tmp_path: Path) -> None:
    shutil.copytree(generated_bank / "store.sqlite", tmp_path / "store.sqlite")  # the embedded store is a folder
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        as_of = read_frames(store).as_of
        settings = AnalyticsSettings(as_of=as_of)
        analyze(store, settings)
        _check_picked(_picked(store, settings))


def test_array_recommendations_are_the_request_time_ones_for_every_customer(
    generated_bank: Path, generated_frames: GraphFrames, tmp_path: Path
) -> None:
    # Every customer, not only the fifty best of each book: consenting or not, fitted or left to the hand-set
    # scores, with or without neighbours.
    shutil.copytree(generated_bank / "store.sqlite", tmp_path / "store.sqlite")
    settings = AnalyticsSettings(as_of=generated_frames.as_of)
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        # People whose birth date the bank does not know: products with an age limit are not offered to them.
        unborn = generated_frames.customers.query("kind == 'Person'")["id"].tolist()[:50]
        store.write(nodes=[{"label": "Person", "id": person, "properties": {"birth_date": None}} for person in unborn])
        analyze(store, settings)
        frames = read_frames(store, generated_frames.as_of)
        fit, _ = fitted_cross_sell(frames, training_window(frames, settings))
        assert fit is not None
        catalogue = Catalogue.from_rows(store.run(LIST_PRODUCTS))
        from_arrays = ArrayRecommender(frames, fit, catalogue, store.registry, settings, frames.as_of)
        compared = 0
        for customer_id in frames.ids:
            expected = recommend(store, customer_id, settings, frames.as_of, catalogue=catalogue)
            assert from_arrays(customer_id) == expected, customer_id
            compared += len(expected)
    assert compared > 1000


@pytest.mark.neo4j
def test_analyze_on_neo4j_stores_the_opportunities_it_serves(generated_bank: Path, neo4j_store: Neo4jStore) -> None:
    load_generated_bank(neo4j_store, generated_bank, "report-neo4j")
    settings = AnalyticsSettings(as_of=read_frames(neo4j_store).as_of)
    analyze(neo4j_store, settings)
    _check_picked(_picked(neo4j_store, settings))
