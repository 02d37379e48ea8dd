"""``crm-graph eval``: score the analytics against the generator's planted ground truth.

Churn: the graph is rewound to month-end ``CUT_MONTH`` (balances, closures and interactions after it are
forgotten, see :meth:`GraphFrames.cut`); customers still active then are ranked by risk, and the lift in the top
5% is the churn rate there over the churn rate of all of them, for own signals alone and for own plus network
(both network methods are reported; ``network`` is the configured one).
Cross-sell: the generator removed one product from about 10% of staying customers; hit@5 is the share of those
customers whose removed product is among the top five recommendations (consent ignored: this measures the
ranking), against a baseline recommending the most held eligible products.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from graph.model import NodeLabel, TieType
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics.analyze import analyze
from queries.analytics.churn import churn_scores, own_risk
from queries.analytics.crosssell import Catalogue, Profile, eligible, recommend
from queries.analytics.fetch import LIST_CUSTOMER_PROFILES, LIST_PRODUCTS
from queries.analytics.frames import GraphFrames, read_frames
from queries.analytics.value import customer_value

CUT_MONTH = 16  # rewind to the 16th of 24 month-ends: 8 months of churn left to predict
TOP_SHARE = 0.05
MAX_HELD_OUT = 2000
Progress = Callable[[str, int, int], None]


class EvalReport(BaseModel):
    customers: int
    seed: int
    churn: dict[str, Any]
    cross_sell: dict[str, Any]
    seconds: dict[str, float]


def lift_at(scores: np.ndarray, outcome: np.ndarray, ids: list[str], share: float = TOP_SHARE) -> float:
    """Outcome rate among the top ``share`` by score (ties by id) over the overall rate."""
    if not outcome.any():
        return 0.0
    order = np.lexsort((np.array(ids, dtype=object).astype(str), -scores))
    top = order[: max(1, round(share * len(scores)))]
    return round(float(outcome[top].mean() / outcome.mean()), 3)


def source_ids(store: GraphStore) -> dict[str, str]:
    """Core customer number -> graph customer id, through the lineage ties."""
    return {
        tie.target.split(":", 1)[1]: tie.source
        for tie in store.ties([TieType.FROM_SOURCE])
        if tie.target.startswith("core:")
    }


def churn_eval(frames: GraphFrames, truth: dict[str, Any], ids: dict[str, str], settings: AnalyticsSettings) -> dict:
    cut = frames.cut(CUT_MONTH)
    cut_month = cut.as_of.isoformat()[:7]
    churn_month = {ids[number]: row["month"] for number, row in truth["churn"].items() if number in ids}
    customer_ids = list(cut.customers["id"])
    value = customer_value(cut, settings)
    since = cut.customers["customer_since"].fillna("").astype(str).to_numpy()
    known = (since <= cut.as_of.isoformat()) & ~value.churned
    left_later = np.array([churn_month.get(customer, "9999") > cut_month for customer in customer_ids])
    population = known & left_later
    outcome = np.array([customer in churn_month for customer in customer_ids])[population]
    chosen_ids = [customer for customer, keep in zip(customer_ids, population, strict=True) if keep]
    lifts = {"own": lift_at(own_risk(cut, value, settings)[population], outcome, chosen_ids)}
    for method in ("spreading", "relational_neighbour"):
        scored = churn_scores(cut, value, settings.model_copy(update={"network_method": method}))
        lifts[method] = lift_at(scored.risk[population], outcome, chosen_ids)
    lifts["network"] = lifts[settings.network_method]
    return {
        "lift_at_5pct": lifts,
        "cut": cut.as_of.isoformat(),
        "customers_scored": int(population.sum()),
        "churned_after_cut": int(outcome.sum()),
    }


def cross_sell_eval(
    store: GraphStore, truth: dict[str, Any], ids: dict[str, str], settings: AnalyticsSettings, today: date
) -> dict:
    code_to_id = {record.properties.get("code", record.id): record.id for record in store.nodes(NodeLabel.PRODUCT)}
    pairs = [
        (ids[row["cust_no"]], code_to_id.get(row["product"], row["product"]))
        for row in truth["held_out"]
        if row["cust_no"] in ids
    ][:MAX_HELD_OUT]
    catalogue = Catalogue.from_rows(store.run(LIST_PRODUCTS))
    popularity = sorted(
        catalogue.products, key=lambda product: (-(catalogue.products[product].get("holders") or 0), product)
    )
    model_hits = popular_hits = 0
    for customer_id, product_id in pairs:
        ranked = recommend(store, customer_id, settings, today, catalogue=catalogue, ignore_consent=True)
        model_hits += product_id in [item.product_id for item in ranked[:5]]
        profile = Profile.from_row(store.run(LIST_CUSTOMER_PROFILES, {"customer_ids": [customer_id]})[0])
        baseline = [
            product
            for product in popularity
            if product not in profile.products and eligible(profile, catalogue.products[product], today)
        ][:5]
        popular_hits += product_id in baseline
    count = max(len(pairs), 1)
    return {
        "hit_at_5": {"model": round(model_hits / count, 4), "popularity": round(popular_hits / count, 4)},
        "held_out_scored": len(pairs),
    }


def evaluate(
    customers: int,
    seed: int,
    settings: AnalyticsSettings | None = None,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Generate a bank, load it into a fresh embedded store, analyse it and score against the ground truth."""
    from graph.embedded import EmbeddedStore
    from loaders.generator import generate
    from loaders.load import load_mapping

    settings = settings or AnalyticsSettings()
    report = progress or (lambda _step, _done, _total: None)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="crm-graph-eval-") as scratch:
        root = work_dir or Path(scratch)
        started = time.perf_counter()
        report("generate", 0, 5)
        generate(customers, seed, root / "data")
        truth = json.loads((root / "data" / "ground_truth.json").read_text(encoding="utf-8"))
        seconds["generate"] = round(time.perf_counter() - started, 2)
        with EmbeddedStore(root / "store.sqlite") as store:
            report("load", 1, 5)
            started = time.perf_counter()
            load_mapping(store, root / "data" / "mapping.yaml", root / "report")
            seconds["load"] = round(time.perf_counter() - started, 2)
            report("analyze", 2, 5)
            started = time.perf_counter()
            analyze(store, settings)
            seconds["analyze"] = round(time.perf_counter() - started, 2)
            ids = source_ids(store)
            report("churn", 3, 5)
            started = time.perf_counter()
            frames = read_frames(store, settings.as_of)
            churn = churn_eval(frames, truth, ids, settings)
            seconds["churn"] = round(time.perf_counter() - started, 2)
            report("cross-sell", 4, 5)
            started = time.perf_counter()
            cross = cross_sell_eval(store, truth, ids, settings, frames.as_of)
            seconds["cross_sell"] = round(time.perf_counter() - started, 2)
            report("done", 5, 5)
    return EvalReport(customers=customers, seed=seed, churn=churn, cross_sell=cross, seconds=seconds)
