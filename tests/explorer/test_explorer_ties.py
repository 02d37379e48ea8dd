"""Ties on the graph: what the parties signed shows when the pointer is on a tie, drawn the way the tie points."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.explorer.conftest import Bank, shot, sign_in
from tests.explorer.test_explorer import open_customer

pytestmark = pytest.mark.browser


POINTED = """([source, target]) => window.crmGraph.cy().edges('.pointed')
    .some((e) => e.source().id() === source && e.target().id() === target)"""


def point_at_tie(page: Any, source: str, target: str, tie_type: str) -> str:
    """Move the real mouse onto the middle of the drawn tie; return its label.

    Tried a few times: under load the page can still be settling while the side panel's last requests arrive,
    and once a tie a few pixels wide was missed though it was drawn where the pointer went."""
    for _ in range(4):
        x, y = page.evaluate(
            """([source, target, type]) => {
                const box = document.querySelector('#graph').getBoundingClientRect();
                const cy = window.crmGraph.cy();
                const edge = cy.edges().filter((e) => e.data('type') === type
                    && e.source().id() === source && e.target().id() === target);
                cy.zoom(1.5);
                cy.center(edge);
                const middle = edge.renderedMidpoint();
                return [box.left + middle.x, box.top + middle.y];
            }""",
            [source, target, tie_type],
        )
        page.mouse.move(0, 0)
        page.mouse.move(x, y)
        try:
            page.wait_for_function(POINTED, arg=[source, target], timeout=3_000)
            break
        except PlaywrightTimeout:
            continue
    assert page.evaluate(POINTED, [source, target]), f"the {tie_type} tie {source} -> {target} was never pointed at"
    return page.evaluate(  # type: ignore[no-any-return]
        """([source, target]) => window.crmGraph.cy().edges('.pointed')
            .filter((e) => e.source().id() === source && e.target().id() === target)[0].style('label')""",
        [source, target],
    )


def test_a_guarantee_shows_its_amount_and_direction_on_hover(page: Any, bank: Bank) -> None:
    companies = sorted(c for c, fields in bank.customers.items() if fields["label"] == "Company")
    guarantor, borrower, before = companies[0], companies[1], companies[2]  # the test bank's circle: 0 -> 1 -> 2 -> 0
    sign_in(page, bank.tokens["admin"])
    open_customer(page, guarantor)
    with bank.api("admin") as api:
        related = api.get(f"/customers/{guarantor}/network", params={"limit": 25}).json()["related"]
    ties = {item["customer"]["id"]: item["tie"] for item in related if item["customer"]}
    assert ties[borrower]["outward"] is True and ties[borrower]["amount"] == 1_000_000.0
    assert ties[before]["outward"] is False
    # Both guarantees are drawn as they point: into the guarantor from the one before it, out to the borrower.
    label = point_at_tie(page, guarantor, borrower, "GUARANTEES")
    assert label.splitlines() == ["担保", "担保金额 1,000,000"]
    shot(page, "tie-guarantee-hover")
    assert point_at_tie(page, before, guarantor, "GUARANTEES").startswith("担保")


def test_ties_are_found_under_the_pointer_after_the_graph_moved_down(page: Any, bank: Bank) -> None:
    """Cytoscape keeps where its container sits: once what is above the graph grew, the pointer still finds the tie
    drawn under it (it used to find what was drawn that far away, so a hover showed nothing)."""
    companies = sorted(c for c, fields in bank.customers.items() if fields["label"] == "Company")
    guarantor, borrower, before = companies[0], companies[1], companies[2]
    sign_in(page, bank.tokens["admin"])
    open_customer(page, guarantor)
    point_at_tie(page, guarantor, borrower, "GUARANTEES")  # the graph's place on the page is known now
    page.mouse.move(0, 0)
    top = page.evaluate("() => document.querySelector('#graph').getBoundingClientRect().top")
    page.evaluate("() => { document.querySelector('#search-results').style.minHeight = '300px'; }")
    page.wait_for_function("top => document.querySelector('#graph').getBoundingClientRect().top > top + 100", arg=top)
    assert point_at_tie(page, before, guarantor, "GUARANTEES").startswith("担保")


def _first_tie(bank: Bank, wanted: str) -> tuple[str, str, dict[str, Any], str]:
    """A company of the generated bank with a tie carrying ``wanted`` (ratio, since) in its first ring:
    (centre, the other customer, the tie as the API gives it, its type)."""
    with bank.api("admin") as api:
        for centre in sorted(c for c, fields in bank.customers.items() if fields["label"] == "Company"):
            for item in api.get(f"/customers/{centre}/network", params={"limit": 25}).json()["related"]:
                if item["customer"] and item["depth"] == 1 and item["tie"] and item["tie"][wanted] is not None:
                    return centre, item["customer"]["id"], item["tie"], item["tie_type"]
    raise AssertionError(f"no tie with {wanted} in the generated bank")


def test_a_shareholding_shows_its_ratio_and_a_tie_its_start_on_hover(page: Any, bank: Bank) -> None:
    centre, holder, tie, tie_type = _first_tie(bank, "ratio")
    source, target = (centre, holder) if tie["outward"] else (holder, centre)
    percent = f"{tie['ratio'] * 100:.1f}".removesuffix(".0")
    sign_in(page, bank.tokens["admin"])
    open_customer(page, centre)
    assert f"持股 {percent}%" in point_at_tie(page, source, target, tie_type).splitlines()
    shot(page, "tie-shareholding-hover")

    shown, (centre, other, tie, tie_type) = centre, _first_tie(bank, "since")
    source, target = (centre, other) if tie["outward"] else (other, centre)
    page.mouse.move(0, 0)
    if centre != shown:
        open_customer(page, centre)
    assert f"始于 {tie['since'][:10]}" in point_at_tie(page, source, target, tie_type).splitlines()
    page.mouse.move(0, 0)
    page.click("#lang-toggle")
    page.wait_for_function("() => document.querySelector('#legend').textContent.includes('person')")
    assert f"since {tie['since'][:10]}" in point_at_tie(page, source, target, tie_type).splitlines()
    shot(page, "tie-since-hover-en")


def test_shortest_paths_between_two_chosen_customers(page: Any, bank: Bank) -> None:
    """From the dense customer to one of the book two ties away: every shortest path the API gives is drawn
    and lit, customers of other books as stubs."""
    with bank.api("manager") as api:
        around = api.get(f"/customers/{bank.dense_customer}/network", params={"depth": 2, "limit": 200}).json()
        target = next(item["customer"]["id"] for item in around["related"] if item["customer"] and item["depth"] == 2)
        expected = api.get(f"/customers/{bank.dense_customer}/paths/{target}").json()
    assert expected["hops"] == 2 and expected["paths"]
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    page.click("#path-start")
    open_customer(page, target)
    page.click("#path-to")
    page.wait_for_selector("#paths-view")
    assert int(page.get_attribute("#paths-view", "data-paths")) == len(expected["paths"])
    lit = set(page.evaluate("window.crmGraph.highlighted().nodes"))
    assert {node["id"] for path in expected["paths"] for node in path["nodes"]} <= lit
    shot(page, "shortest-paths")


BRANCH_TIES = """() => window.crmGraph.cy().edges().filter((e) => e.data('type') === 'BANKED_AT')
    .map((e) => [e.source().id(), e.target().id()]).sort()"""


# Ties that run through the label of a branch they reach (sampled along their straight line, in model space).
TIES_THROUGH_BRANCH_LABELS = """() => {
    const crossed = [];
    for (const node of window.crmGraph.cy().nodes('[?branch]')) {
        const label = node.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true });
        for (const edge of node.connectedEdges()) {
            const [a, b] = [edge.sourceEndpoint(), edge.targetEndpoint()];
            for (let i = 0; i <= 100; i++) {
                const [x, y] = [a.x + ((b.x - a.x) * i) / 100, a.y + ((b.y - a.y) * i) / 100];
                if (x > label.x1 && x < label.x2 && y > label.y1 && y < label.y2) {
                    crossed.push(edge.id());
                    break;
                }
            }
        }
    }
    return crossed;
}"""


def test_branches_are_drawn_when_the_tie_filter_asks_for_them(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    assert page.evaluate(BRANCH_TIES) == []  # not asked: no branch drawn
    with bank.api("manager") as api:
        body = api.get(f"/customers/{bank.dense_customer}/network", params={"limit": 25, "types": ["BANKED_AT"]}).json()
    expected = sorted([tie["customer_id"], f"branch:{tie['branch_id']}"] for tie in body["branches"])
    assert expected, "the test bank's customers bank at their managers' branches"

    page.click("#tie-filter summary")
    page.check("#tie-filter-options input[value=BANKED_AT]")
    page.click("#tie-filter summary")  # closing the filter redraws
    page.wait_for_function(f"() => ({BRANCH_TIES})().length === {len(expected)}")
    assert page.evaluate(BRANCH_TIES) == expected
    # A branch's name sits on the side away from the centre, clear of the ties that reach it from the centre's side.
    assert page.evaluate(TIES_THROUGH_BRANCH_LABELS) == []
    kinds = page.evaluate("() => window.crmGraph.nodes().filter((n) => n.branch).map((n) => n.kind)")
    assert kinds and set(kinds) == {"Branch"}
    assert "BANKED_AT" in page.url
    assert "网点" in page.inner_text("#legend")
    shot(page, "network-branches")

    page.reload()  # the address keeps the choice
    page.wait_for_function(f"() => ({BRANCH_TIES})().length === {len(expected)}")
    assert page.is_checked("#tie-filter-options input[value=BANKED_AT]")
    assert page.is_checked("#tie-filter-options input[value=SPOUSE_OF]")
    page.click("#lang-toggle")
    page.wait_for_function("() => document.querySelector('#legend').textContent.includes('branch')")
    shot(page, "network-branches-en")
