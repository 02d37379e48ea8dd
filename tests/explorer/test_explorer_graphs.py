"""Readable graphs: rings by hop around the centre, the same positions for the same centre, labels that never
overlap and are hidden rather than drawn tiny, zoom buttons and a legend on every graph."""

from __future__ import annotations

from typing import Any

import pytest

from tests.explorer.conftest import Bank, shot, sign_in
from tests.explorer.test_explorer import open_customer

pytestmark = pytest.mark.browser

# The labels drawn (not hidden for being too small at this zoom), with their size on screen, and the nodes'
# bodies, as rendered boxes [x1, y1, x2, y2] in the graph's own pixels; of the explorer's graph or the cluster's.
DRAWN_BOXES = """(graph) => {
    const cy = graph === "cluster" ? window.crmGraph.clusterCy() : window.crmGraph.cy();
    const zoom = cy.zoom();
    const box = (b) => [b.x1, b.y1, b.x2, b.y2];
    const labelled = cy.nodes().filter((n) => n.visible() && n.style("label") && Number(n.style("text-opacity")) > 0);
    return {
        labels: labelled.map((n) => ({
            id: n.id(),
            px: parseFloat(n.style("font-size")) * zoom,
            box: box(n.renderedBoundingBox(
                { includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false })),
        })),
        bodies: cy.nodes(":visible").map((n) => ({ id: n.id(), box: box(n.renderedBoundingBox(
            { includeNodes: true, includeEdges: false, includeLabels: false, includeOverlays: false })) })),
        view: [0, 0, cy.width(), cy.height()],
    };
}"""


MIN_LABEL_PX = 11


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_labels_clear(page: Any, graph: str = "explorer") -> int:
    """Every drawn label of the explorer's (or the cluster's) graph is at least 11 px on screen and overlaps no
    other label or node; returns how many labels are in view."""
    drawn = page.evaluate(DRAWN_BOXES, graph)
    labels, bodies = drawn["labels"], drawn["bodies"]
    for i, first in enumerate(labels):
        assert first["px"] >= MIN_LABEL_PX, f"label of {first['id']} drawn at {first['px']:.1f} px"
        for second in labels[i + 1 :]:
            assert not _overlap(first["box"], second["box"]), f"labels of {first['id']} and {second['id']} overlap"
        for body in bodies:
            if body["id"] != first["id"]:
                assert not _overlap(first["box"], body["box"]), f"label of {first['id']} covers node {body['id']}"
    return sum(_overlap(label["box"], drawn["view"]) for label in labels)


def positions(page: Any) -> dict[str, tuple[float, float]]:
    return page.evaluate(  # type: ignore[no-any-return]
        "() => Object.fromEntries(window.crmGraph.cy().nodes().map((n) => [n.id(), [n.position().x, n.position().y]]))"
    )


def test_depth_three_on_a_dense_customer_stays_readable(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["admin"])  # who sees every customer, so that each hop expands
    page.select_option("#depth", "3")
    open_customer(page, bank.dense_customer)
    nodes = page.evaluate("window.crmGraph.nodes().length")
    assert nodes > 60, "the dense customer's depth-3 network is dense"
    in_view = assert_labels_clear(page)
    assert in_view >= 10, "the first view shows the centre and its ring with names"
    shot(page, "depth-3-dense")

    # Rings by hop: the centre in the middle, its related customers around it on the first ring.
    assert positions(page)[bank.dense_customer] == [0, 0]

    page.click("#view-explorer .zoom-controls [data-zoom=in]")
    page.click("#view-explorer .zoom-controls [data-zoom=in]")
    assert assert_labels_clear(page) >= 1
    shot(page, "depth-3-zoomed-in")
    page.click("#view-explorer .zoom-controls [data-zoom=fit]")
    assert_labels_clear(page)  # zoomed out to everything: fewer labels, none tiny, none overlapping
    zoom = page.evaluate("window.crmGraph.cy().zoom()")
    shown = page.evaluate(DRAWN_BOXES)["labels"]
    assert len(shown) < nodes and zoom < 1
    shot(page, "depth-3-fit")


def test_the_same_centre_is_drawn_in_the_same_place(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    page.select_option("#depth", "2")
    open_customer(page, bank.dense_customer)
    first = positions(page)
    layouts = page.evaluate("window.crmGraph.layouts()")
    page.click("#side-panel .actions button >> nth=1")  # centre on the customer already in the centre
    page.wait_for_function("n => window.crmGraph.layouts() > n", arg=layouts)
    assert positions(page) == first
    assert_labels_clear(page)


def test_every_graph_has_a_legend_of_tiers_and_risk(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["admin"])
    open_customer(page, bank.dense_customer)
    legend = page.inner_text("#view-explorer .legend")
    assert "客户等级" in legend and "流失风险" in legend and "私人银行" in legend
    page.click("#tabs button[data-view=circles]")
    page.wait_for_selector("#view-circles .legend span")
    assert "客户等级" in page.inner_text("#view-circles .legend")
    assert page.locator("#view-circles .zoom-controls button").count() == 3
    assert_labels_clear(page)
    shot(page, "guarantee-circle-legend")
