"""Fixtures of the store tests: a small generated bank, loaded and analysed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.settings import Settings
from loaders.generator import generate
from loaders.load import load_mapping
from queries.analytics import analyze


@pytest.fixture(scope="session")
def analysed_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded store of a 150-customer generated bank after load and analyze: every kind of node and tie
    and every property the loaders and the analytics write. Tests open it read-only."""
    folder = tmp_path_factory.mktemp("analysed-bank")
    generate(150, 3, folder / "bank")
    settings = Settings(embedded_path=folder / "store.sqlite", review_path=folder / "review.json")
    with EmbeddedStore(settings.embedded_path) as store:
        load_mapping(store, folder / "bank" / "mapping.yaml", folder / "report", settings=settings)
        analyze(store, settings)
    return settings.embedded_path
