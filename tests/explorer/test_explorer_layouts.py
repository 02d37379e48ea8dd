"""Layouts chosen for the shape: ownership, control and guarantee chains top-down, everything else in rings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.explorer.conftest import Bank, shot, sign_in
from tests.explorer.test_explorer_graphs import assert_labels_clear

pytestmark = pytest.mark.browser

RANKING = ["SHAREHOLDER_OF", "SUBSIDIARY_OF", "LEGAL_REP_OF", "DIRECTOR_OF", "GUARANTEES"]
EDGES = """() => window.crmGraph.cy().edges(":visible").filter((e) => !e.data("more")).map((e) => ({
    type: e.data("type"), source: e.source().position().y, target: e.target().position().y }))"""


def open_bookmark(page: Any, bank: Bank, center: str, ties: list[str]) -> None:
    page.goto(f"{bank.base_url}/#view=explorer&center={center}&depth=2&ties={','.join(ties)}")
    sign_in(page, bank.tokens["admin"])
    page.wait_for_function("id => document.querySelector('#side-panel').dataset.customerId === id", arg=center)


def test_ownership_and_control_draw_top_down(page: Any, bank: Bank) -> None:
    companies = sorted(c for c, fields in bank.customers.items() if fields["label"] == "Company")
    with bank.api("admin") as api:
        counts = {c: api.get(f"/customers/{c}").json()["tie_counts"] for c in companies[3:]}
    # A company tied by ownership or control to several others (the first three guarantee each other in a circle).
    chosen = max(counts, key=lambda c: (sum(counts[c].get(t, 0) for t in RANKING[:4]), c))
    open_bookmark(page, bank, chosen, RANKING)
    assert page.evaluate("window.crmGraph.shape()") == "layers"
    edges = page.evaluate(EDGES)
    assert len(edges) >= 2
    for edge in edges:
        upper, lower = (
            (edge["target"], edge["source"]) if edge["type"] == "SUBSIDIARY_OF" else (edge["source"], edge["target"])
        )
        assert upper < lower, f"a {edge['type']} tie points up"
    assert_labels_clear(page)
    shot(page, "ownership-top-down")


def test_a_guarantee_circle_and_a_mixed_network_draw_in_rings(page: Any, bank: Bank) -> None:
    circle = sorted(c for c, fields in bank.customers.items() if fields["label"] == "Company")[0]
    open_bookmark(page, bank, circle, ["GUARANTEES"])
    assert page.evaluate("window.crmGraph.shape()") == "rings"  # a cycle has no top
    assert_labels_clear(page)
    page.goto(f"{bank.base_url}/#view=explorer&center={bank.dense_customer}&depth=1")
    page.reload()
    page.wait_for_function(
        "id => document.querySelector('#side-panel').dataset.customerId === id", arg=bank.dense_customer
    )
    assert page.evaluate("window.crmGraph.shape()") == "rings"
