"""The memory-lean ways of holding the bank's arrays give the same figures as the plain ones."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from graph.settings import AnalyticsSettings
from queries.analytics import backtest, models, value
from queries.analytics.backtest import Window, candidates, opened_between
from queries.analytics.churn import DirectedTies, churn_scores, churn_terms
from queries.analytics.features import co_holding_confidence, neighbour_holders, segment_share, snapshot
from queries.analytics.frames import GraphFrames, right_aligned
from queries.analytics.training import training_window
from queries.analytics.value import customer_value


def test_rows_given_end_to_end_are_right_aligned() -> None:
    matrix = right_aligned(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([2, 0, 3, 1]))
    np.testing.assert_array_equal(matrix, [[0, 1, 2], [0, 0, 0], [3, 4, 5], [0, 0, 6]])
    assert right_aligned(np.array([]), np.array([], dtype=np.int64)).shape == (0, 1)
    assert right_aligned(np.array([]), np.array([0, 0])).shape == (2, 1)


def test_a_cut_reads_the_balances_without_copying_them(generated_frames: GraphFrames) -> None:
    cut = generated_frames.cut(18)
    np.testing.assert_array_equal(cut.balances, generated_frames.balances[:, :18])
    assert np.shares_memory(cut.balances, generated_frames.balances)
    with pytest.raises(ValueError, match="read-only"):
        cut.balances[0, 0] = 1.0


def test_a_cut_shares_the_columns_it_keeps_and_leaves_the_whole_picture_as_it_was(
    generated_frames: GraphFrames,
) -> None:
    accounts, customers = generated_frames.accounts.copy(), generated_frames.customers.copy()
    cut = generated_frames.cut(9)
    assert cut.accounts["closed"].sum() < accounts["closed"].sum()  # closures after the cut are forgotten
    assert (cut.customers["status"] == "churned").sum() < (customers["status"] == "churned").sum()
    pd.testing.assert_frame_equal(generated_frames.accounts, accounts, check_exact=True)
    pd.testing.assert_frame_equal(generated_frames.customers, customers, check_exact=True)
    for kept in ("opened", "closed_on"):
        assert np.shares_memory(cut.accounts[kept].to_numpy(), generated_frames.accounts[kept].to_numpy())


@pytest.mark.parametrize("months", [24, 18, 9])
def test_values_summed_a_month_and_a_block_at_a_time_equal_those_summed_at_once(
    generated_frames: GraphFrames, monkeypatch: pytest.MonkeyPatch, months: int
) -> None:
    frames = generated_frames.cut(months)
    settings = AnalyticsSettings()
    at_once = customer_value(frames, settings)
    monkeypatch.setattr(value, "ACCOUNTS_AT_ONCE", 7)
    in_blocks = customer_value(frames, settings)
    for field in dataclasses.fields(at_once):
        np.testing.assert_array_equal(getattr(in_blocks, field.name), getattr(at_once, field.name))
    # the kept month-ends are the last columns of every account's absolute balances summed per customer
    series = np.zeros((frames.size, months))
    np.add.at(series, frames.owner_customer, np.abs(frames.balances[frames.owner_account]))
    np.testing.assert_array_equal(at_once.recent_totals, series[:, -value.MONTHS_KEPT :])


def test_snapshots_sharing_their_ties_have_the_features_of_snapshots_made_alone(
    generated_frames: GraphFrames,
) -> None:
    settings = AnalyticsSettings()
    tie_types = sorted(set(generated_frames.tie_type.tolist()))
    now = snapshot(generated_frames, settings, tie_types)
    shared = snapshot(generated_frames.cut(18), settings, tie_types, now.ties)
    alone = snapshot(generated_frames.cut(18), settings, tie_types)
    assert shared.ties is now.ties
    pd.testing.assert_frame_equal(shared.churn_table(), alone.churn_table(), check_exact=True)
    rows = alone.active
    pd.testing.assert_frame_equal(
        alone.churn_table(rows), pd.concat([alone.own, alone.network], axis=1)[rows].reset_index(drop=True)
    )


def test_directed_ties_coded_by_type_read_as_the_names(generated_frames: GraphFrames) -> None:
    ties = DirectedTies.from_frames(generated_frames)
    names = np.concatenate([generated_frames.tie_type, generated_frames.tie_type])
    assert ties.type_code.dtype == np.uint8 and ties.type_names == sorted(set(names.tolist()))
    np.testing.assert_array_equal(ties.types(np.ones(len(names), dtype=bool)), names)
    for tie_type in [*ties.type_names, "NOT_A_TIE_TYPE"]:
        np.testing.assert_array_equal(ties.of_type(tie_type), names == tie_type)


def test_the_backtests_default_risk_from_shared_ties_is_the_written_one(generated_frames: GraphFrames) -> None:
    """The churn backtest scores the hand-set defaults without naming contributors, over the ties its
    snapshots share: the same risks as the full scores computed alone."""
    settings = AnalyticsSettings()
    tie_types = sorted(set(generated_frames.tie_type.tolist()))
    now = snapshot(generated_frames, settings, tie_types)
    cut = snapshot(generated_frames.cut(18), settings, tie_types, now.ties)
    own, network, risk, _ = churn_terms(cut.frames, cut.value, settings, cut.ties)
    alone = churn_scores(cut.frames, cut.value, settings)
    for got, expected in ((own, alone.own), (network, alone.network), (risk, alone.risk)):
        np.testing.assert_array_equal(got, expected)
    assert risk[cut.value.churned].min() == 1.0 and 0 < risk[~cut.value.churned].mean() < 1


@pytest.mark.parametrize("piece", [32, 64, 256])
def test_cross_sell_fitted_on_rows_picked_first_and_scored_in_pieces_is_fitted_and_scored_whole(
    generated_frames: GraphFrames, monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    """Past the training cap, each product's training table is made of the rows the fit would draw from the
    whole table, and today's candidates are scored a piece at a time: the same scores to the last bit."""
    settings = AnalyticsSettings()
    window = training_window(generated_frames, settings)
    assert window is not None
    before, now = window.before, window.now
    label = opened_between(generated_frames, Window(window.cut, generated_frames.months), now.products)
    label &= candidates(before)
    counts = candidates(before).sum(axis=0)
    monkeypatch.setattr(models, "MAX_TRAINING_ROWS", int(np.median(counts[counts > 0])))  # some products past it
    monkeypatch.setattr(backtest, "SCORED_AT_ONCE", piece)  # a power of two, as SCORED_AT_ONCE is
    scores, fitted = backtest.cross_sell_scores(before, now, label)
    assert fitted, "some products were fitted"
    confidence, share = co_holding_confidence(before.holdings), segment_share(before.frames, before.holdings)
    today_confidence, today_share = co_holding_confidence(now.holdings), segment_share(now.frames, now.holdings)
    for number, product_id in enumerate(now.products):
        rows = candidates(before)[:, number]
        if product_id not in fitted:
            continue
        table = backtest._product_table(before, number, confidence, share, rows, neighbour_holders(before, number))
        model = models.fit(table, label[rows, number], list(table.columns))
        assert model is not None and model.examples == fitted[product_id]["candidates"]
        scored = candidates(now)[:, number]
        today = backtest._product_table(
            now, number, today_confidence, today_share, scored, neighbour_holders(now, number)
        )
        np.testing.assert_array_equal(scores["model"][scored, number], model.predict(today))
    assert any(figures["candidates"] < count for figures, count in zip(fitted.values(), counts, strict=False))
