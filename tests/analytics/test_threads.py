"""analyze and backtest fit with the OpenMP and BLAS thread pools capped (how many threads, not how fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime the boosted trees use, so its pool is visible)
from threadpoolctl import threadpool_info

from graph.embedded import EmbeddedStore
from graph.errors import InvalidRequest
from queries.analytics import analyze
from queries.analytics import backtest as backtest_module
from queries.analytics.backtest import backtest
from queries.analytics.frames import read_frames
from queries.analytics.threads import capped_threads
from tests.analytics.bank import SETTINGS, small_bank

TWO_THREADS = SETTINGS.model_copy(update={"threads": 2})


def _pool_sizes() -> dict[str, int]:
    return {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()}


def test_the_cap_defaults_to_one_thread_and_is_lifted_after() -> None:
    before = _pool_sizes()
    assert "openmp" in before
    with capped_threads(SETTINGS) as threads:
        assert threads == 1
        assert set(_pool_sizes().values()) == {1}
    with capped_threads(TWO_THREADS) as threads:
        assert threads == 2
        assert all(size <= 2 for size in _pool_sizes().values())
    assert _pool_sizes() == before


def test_analyze_runs_every_step_with_the_pools_capped(tmp_path: Path) -> None:
    seen: dict[str, dict[str, int]] = {}
    with EmbeddedStore(tmp_path / "store") as store:
        small_bank().write(store)
        analyze(store, SETTINGS, lambda step, _done, _total: seen.setdefault(step, _pool_sizes()))
    assert {"churn", "cross-sell", "write"} <= set(seen)
    assert {size for sizes in seen.values() for size in sizes.values()} == {1}


def test_backtest_fits_with_the_pools_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, int]] = []
    real_fit = backtest_module.fit_churn

    def recording_fit(*args: Any) -> Any:
        seen.append(_pool_sizes())
        return real_fit(*args)

    monkeypatch.setattr(backtest_module, "fit_churn", recording_fit)
    with EmbeddedStore(tmp_path / "store") as store:
        small_bank().write(store)
        frames = read_frames(store, SETTINGS.as_of)
    with pytest.raises(InvalidRequest):  # the small bank has too few leavers to score; the fit was tried
        backtest(frames, SETTINGS)
    assert seen and set(seen[0].values()) == {1}
