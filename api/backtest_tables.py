"""Terminal tables of ``crm-graph backtest`` and ``crm-graph eval``: each figure with its 95% interval."""

from __future__ import annotations

from typing import Any

from rich.table import Table

CHURN_ROWS = (
    ("lift_at_5pct", "churn lift in top 5%", ("own", "network", "default")),
    ("auc", "churn ROC AUC", ("own", "network", "default")),
    ("pr_auc", "churn PR AUC", ("own", "network", "default")),
)
CROSS_SELL_MEASURES = (("hit_at_5", "hit@5"), ("recall_at_5", "recall@5"), ("map_at_5", "MAP@5"))
CROSS_SELL_NAMES = ("model", "own_model", "popularity", "segment", "cooccurrence")
# Only in ``crm-graph eval``: the generator's true risks, and the own model with the true part ties carry.
ORACLE_CHURN_NAMES = ("oracle", "own_plus_true_network")


def _with_interval(figures: dict[str, Any], name: str) -> str:
    low, high = figures.get(f"{name}_ci", [None, None])
    interval = f" [{low:.3f}, {high:.3f}]" if low is not None and low == low else ""
    return f"{figures[name]:.3f}{interval}"


def backtest_table(title: str, churn: dict[str, Any], cross_sell: dict[str, Any]) -> Table:
    """One row per figure: churn (own-only, own + network, the hand-set defaults), then cross-selling."""
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value [95% interval]", justify="right")
    for key, label, names in CHURN_ROWS:
        for name in (*names, *(name for name in ORACLE_CHURN_NAMES if name in churn[key])):
            table.add_row(f"{label} — {name}", _with_interval(churn[key], name))
    table.add_row("churn lift ratio network / own", _with_interval(churn["lift_at_5pct"], "ratio"))
    for name in ORACLE_CHURN_NAMES:
        if f"{name}_ratio" in churn["lift_at_5pct"]:
            table.add_row(f"churn lift ratio {name} / own", _with_interval(churn["lift_at_5pct"], f"{name}_ratio"))
    terms = churn.get("network_terms")
    if terms:
        table.add_row(
            "churn network terms (inner validation)",
            f"{'kept' if terms['kept'] else 'left out'}: AUC {terms['auc_own']:.3f} alone, "
            f"{terms['auc_network']:.3f} with them (s.e. {terms['gain_standard_error']:.3f})",
        )
    for name, figures in churn["calibration"].items():
        table.add_row(
            f"churn calibration — {name}",
            f"predicted {figures['mean_predicted']:.4f}, observed {figures['observed_rate']:.4f}, "
            f"Brier {figures['brier']:.4f}",
        )
    for key, label in CROSS_SELL_MEASURES:
        oracle = ("oracle",) if "oracle" in cross_sell[key] else ()
        for name in (*CROSS_SELL_NAMES, *oracle):
            table.add_row(f"cross-sell {label} — {name}", _with_interval(cross_sell[key], name))
        best = cross_sell[key]["best_baseline_is"]
        table.add_row(f"cross-sell {label} ratio model / {best}", _with_interval(cross_sell[key], "ratio"))
        if oracle:
            table.add_row(f"cross-sell {label} ratio oracle / {best}", _with_interval(cross_sell[key], "oracle_ratio"))
    weights = ", ".join(f"{tie} {weight:+.2f}" for tie, weight in churn["fitted_tie_weights"].items())
    table.caption = (
        f"{churn['customers_scored']:,} customers scored, {churn['churned_after_cut']:,} left after the cut; "
        f"{cross_sell['customers_scored']:,} opened {cross_sell['products_opened']:,} products. "
        f"Fitted churn weight per recently churned neighbour (log-odds): {weights}"
    )
    return table


def summary_table(title: str, summary: dict[str, dict[str, float]]) -> Table:
    """Mean and range over seeds of the headline figures."""
    table = Table(title=title)
    table.add_column("figure")
    for column in ("mean", "min", "max"):
        table.add_column(column, justify="right")
    for name, values in summary.items():
        table.add_row(name, *(f"{values[column]:.3f}" for column in ("mean", "min", "max")))
    return table
