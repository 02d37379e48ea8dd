"""Layouts chosen for the shape (ownership, control and guarantee chains top-down, everything else in rings) or
picked by hand and kept in the address; a minimap for large graphs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.explorer.conftest import Bank, shot, sign_in
from tests.explorer.test_explorer_graphs import assert_labels_clear

pytestmark = pytest.mark.browser

RANKING = ["SHAREHOLDER_OF", "SUBSIDIARY_OF", "LEGAL_REP_OF", "DIRECTOR_OF", "GUARANTEES"]
NODES = """() => window.crmGraph.cy().nodes(":visible").map((n) => ({ center: Boolean(n.data("center")),
    y: n.position().y }))"""
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


def test_a_picked_layout_is_drawn_and_kept_in_the_address(page: Any, bank: Bank) -> None:
    open_bookmark(page, bank, bank.dense_customer, [])
    assert page.evaluate("window.crmGraph.shape()") == "rings" and page.input_value("#layout") == "auto"
    page.select_option("#layout", "layers")  # top-down by hop from the centre, whatever the ties
    page.wait_for_function("() => window.crmGraph.shape() === 'layers'")
    assert "layout=layers" in page.url
    nodes = page.evaluate(NODES)
    centre = next(node for node in nodes if node["center"])
    assert all(node["y"] > centre["y"] for node in nodes if not node["center"])
    assert_labels_clear(page)
    shot(page, "layout-top-down-picked")

    page.select_option("#layout", "force")
    page.wait_for_function("() => window.crmGraph.shape() === 'force'")
    assert "layout=force" in page.url
    page.reload()  # the address keeps the pick
    page.wait_for_function(
        "id => document.querySelector('#side-panel').dataset.customerId === id", arg=bank.dense_customer
    )
    assert page.input_value("#layout") == "force" and page.evaluate("window.crmGraph.shape()") == "force"
    page.select_option("#layout", "auto")
    page.wait_for_function("() => window.crmGraph.shape() === 'rings'")
    assert "layout=" not in page.url


def test_a_large_graph_has_a_minimap_that_moves_the_view(page: Any, bank: Bank) -> None:
    open_bookmark(page, bank, bank.dense_customer, [])  # depth 2 around the customer with many referrals
    assert len(page.evaluate("window.crmGraph.nodes()")) >= 40
    page.wait_for_selector("#minimap:not([hidden])")
    page.click("#graph + .zoom-controls button[data-zoom=fit]")
    page.wait_for_function("() => document.querySelector('#minimap').dataset.view")
    whole = [int(v) for v in page.get_attribute("#minimap", "data-view").split(",")]
    for _ in range(3):
        page.click("#graph + .zoom-controls button[data-zoom=in]")
    page.wait_for_function("w => document.querySelector('#minimap').dataset.view !== w", arg=",".join(map(str, whole)))
    zoomed = [int(v) for v in page.get_attribute("#minimap", "data-view").split(",")]
    assert zoomed[2] * zoomed[3] < whole[2] * whole[3]  # the frame shows the smaller part in view
    before = page.evaluate("() => window.crmGraph.cy().pan()")
    box = page.locator("#minimap").bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + 10)  # the top-left corner of the graph
    after = page.evaluate("() => window.crmGraph.cy().pan()")
    assert after["x"] > before["x"] and after["y"] > before["y"]
    shot(page, "minimap")
    # A small network draws no minimap.
    page.select_option("#depth", "1")
    page.wait_for_function("() => window.crmGraph.nodes().length < 40")
    page.wait_for_selector("#minimap", state="hidden")
