"""Fixtures of the analytics tests: a small generated bank, generated and loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from loaders.generator import generate
from queries.analytics.frames import GraphFrames, read_frames
from tests.analytics.generated import CUSTOMERS, SEED, load_generated_bank


@pytest.fixture(scope="session")
def generated_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated-bank")
    generate(CUSTOMERS, SEED, folder)
    with EmbeddedStore(folder / "store.sqlite") as store:
        load_generated_bank(store, folder, "report-embedded")
    return folder


@pytest.fixture(scope="session")
def generated_frames(generated_bank: Path) -> GraphFrames:
    with EmbeddedStore(generated_bank / "store.sqlite", read_only=True) as store:
        return read_frames(store)
