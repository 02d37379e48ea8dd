"""The memory-lean ways of holding the bank's arrays give the same figures as the plain ones."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from graph.settings import AnalyticsSettings
from queries.analytics import value
from queries.analytics.churn import DirectedTies
from queries.analytics.features import snapshot
from queries.analytics.frames import GraphFrames, right_aligned
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
