"""Marketing and circles: every page of clusters reachable through the API's cursor, their sizes as a
histogram, and the chosen cluster drawn beside its list, in view."""

from __future__ import annotations

import itertools
import math
import re
import statistics
from typing import Any

import pytest

from tests.explorer.conftest import Bank, shot, sign_in
from tests.explorer.test_explorer_graphs import assert_labels_clear

pytestmark = pytest.mark.browser

IN_VIEW = """selector => {
    const box = document.querySelector(selector).getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight && box.left >= 0 && box.right <= window.innerWidth;
}"""


def small_pages(page: Any, path: str, size: int) -> None:
    """Have the page read ``path`` in pages of ``size``, so that the bank's few items take several."""
    page.route(
        re.compile(rf"/api/v1/{path}\?"),
        lambda route: route.continue_(url=route.request.url.replace("page_size=50", f"page_size={size}")),
    )


def load_every_page(page: Any, items: str, more: str) -> None:
    """Press "Load more" until it goes, each time waiting for the list to grow."""
    while page.is_visible(more):
        shown = page.locator(items).count()
        page.click(more)
        page.wait_for_function("([items, n]) => document.querySelectorAll(items).length > n", arg=[items, shown])


def all_clusters(bank: Bank) -> list[dict[str, Any]]:
    clusters: list[dict[str, Any]] = []
    params: dict[str, Any] = {"page_size": 200}
    with bank.api("marketing") as api:
        while True:
            body = api.get("/clusters", params=params).json()
            clusters += body["items"]
            if not body["next_cursor"]:
                return clusters
            params["cursor"] = body["next_cursor"]


def _distance(drawn: dict[str, Any], a: str, b: str) -> float:
    first, second = drawn["positions"][a], drawn["positions"][b]
    return math.hypot(first["x"] - second["x"], first["y"] - second["y"])


def _mean_tie_length(drawn: dict[str, Any]) -> float:
    return statistics.mean(_distance(drawn, source, target) for _, source, target in drawn["edges"])


def _mean_distance(drawn: dict[str, Any]) -> float:
    return statistics.mean(_distance(drawn, a, b) for a, b in itertools.combinations(drawn["nodes"], 2))


def test_every_cluster_page_is_reachable_and_the_chosen_cluster_is_drawn_in_view(page: Any, bank: Bank) -> None:
    # Pages of four, so that the bank's clusters take several.
    small_pages(page, "clusters", 4)
    sign_in(page, bank.tokens["marketing"])
    page.wait_for_selector("#cluster-table tbody tr")
    expected = all_clusters(bank)
    assert len(expected) > 4, "the bank has more clusters than one page"
    # The largest cluster is drawn beside the list from the start.
    page.wait_for_function(
        "id => document.querySelector('#cluster-title').textContent.includes(id)", arg=expected[0]["id"]
    )
    assert page.locator("#cluster-table tbody tr.chosen").get_attribute("data-cluster-id") == expected[0]["id"]
    assert page.evaluate("() => window.crmGraph.cluster().nodes.length") > 0
    assert page.evaluate("() => window.crmGraph.cluster().shape") == "force"  # a cluster has no centre
    # Force-directed with its ties: tied members sit nearer each other than members on average (not a grid).
    drawn = page.evaluate("() => window.crmGraph.cluster()")
    assert drawn["edges"], "the largest cluster has ties among its drawn members"
    assert _mean_tie_length(drawn) < 0.75 * _mean_distance(drawn), drawn
    # Drawn from the start without scrolling the page away from its charts.
    assert page.evaluate("() => window.scrollY") == 0
    title = page.inner_text("#cluster-title")
    assert title.count(expected[0]["id"]) == 1, title
    rows = page.locator("#cluster-table tbody tr")
    load_every_page(page, "#cluster-table tbody tr", "#clusters-more")
    assert [rows.nth(i).get_attribute("data-cluster-id") for i in range(rows.count())] == [c["id"] for c in expected]

    # The sizes as a histogram of every cluster (the API counts them all, not only the pages read).
    bars = page.locator("#cluster-chart svg rect")
    counts = [int(bars.nth(i).get_attribute("data-value")) for i in range(bars.count())]
    assert sum(counts) == len(expected) and len(counts) < len(expected)

    # Each cluster by the name the API gives it (what its members share), with the evidence.
    named = [c for c in expected if c["naming"]["name"]]
    assert named, "the bank's clusters share cities and referrers"
    for cluster in named:
        row = page.locator(f"#cluster-table tbody tr[data-cluster-id='{cluster['id']}']")
        assert cluster["naming"]["name"]["text"] in row.locator("strong").inner_text()
        assert f"{round(cluster['naming']['name']['share'] * 100)}%" in row.inner_text()
    # A cluster whose members share nothing enough is named after its most central member, not left as an id.
    unnamed = [c for c in expected if not c["naming"]["name"] and c["central_members"]]
    assert unnamed, "some of the bank's clusters share no employer, referrer or city enough"
    shown = {
        c["id"]: page.locator(f"#cluster-table tbody tr[data-cluster-id='{c['id']}'] strong").inner_text()
        for c in expected
    }
    # Masked central members often read the same ("王**"): a name that would repeat names the second central
    # member too, or else the cluster's id, so that every listed cluster reads differently.
    assert len(set(shown.values())) == len(shown), shown
    leads = [c["central_members"][0]["name"] for c in unnamed]
    for cluster in unnamed:
        members = [member["name"] for member in cluster["central_members"]]
        if leads.count(members[0]) == 1:
            assert shown[cluster["id"]] == f"以{members[0]}为核心的客群"
        else:
            two = f"以{'、'.join(members[:2])}为核心的客群"
            assert shown[cluster["id"]] in (two, f"{two} ({cluster['id']})"), shown[cluster["id"]]

    # The last cluster of the list, clicked, is drawn beside it and in view.
    last = expected[-1]["id"]
    page.click(f"#cluster-table tbody tr[data-cluster-id='{last}']")
    page.wait_for_function("id => document.querySelector('#cluster-title').textContent.includes(id)", arg=last)
    assert page.evaluate("() => window.crmGraph.cluster().nodes.length") > 0
    assert page.evaluate(IN_VIEW, "#cluster-graph")
    assert page.evaluate(IN_VIEW, f"#cluster-table tbody tr[data-cluster-id='{last}']")
    assert "客户等级" in page.inner_text("#cluster-detail .legend")
    # The share of the referred still active only where someone was referred (a family cluster has none).
    facts = page.inner_text("#cluster-facts")
    assert ("被转介绍者留存" in facts) == (expected[-1]["referrals_per_member"] > 0), facts
    assert_assets_chart_names_whole(page)
    shot(page, "marketing-cluster-in-view")
    page.click("#lang-toggle")
    page.wait_for_function("() => document.querySelector('#cluster-chart').textContent.includes('Cluster sizes')")
    assert_assets_chart_names_whole(page)
    shot(page, "marketing-cluster-in-view-en")


def assert_assets_chart_names_whole(page: Any) -> None:
    """The assets chart's names are not cut: names told apart by their ids differ only at their end."""
    labels = page.locator("#cluster-assets-chart svg text:not(.bar-value)").all_text_contents()
    assert len(labels) > 2, labels  # the title and the charted clusters
    assert not [label for label in labels if label.endswith("…")], labels


def test_guarantee_circles_are_named_and_every_page_is_reachable(page: Any, bank: Bank) -> None:
    small_pages(page, "guarantee-circles", 1)
    sign_in(page, bank.tokens["risk"])
    page.click("#tabs button[data-view=circles]")
    page.wait_for_selector("#circle-list li button")
    with bank.api("risk") as api:
        body = api.get("/guarantee-circles", params={"page_size": 200}).json()
    load_every_page(page, "#circle-list li", "#circles-more")
    items = page.locator("#circle-list li")
    assert items.count() == len(body["items"]) == body["total"]
    for index, circle in enumerate(body["items"]):
        name = circle["naming"]["name"]
        assert name["text"] in items.nth(index).locator("strong").inner_text()
    bars = page.locator("#circle-chart svg rect")
    assert sum(int(bars.nth(i).get_attribute("data-value")) for i in range(bars.count())) == body["total"]
    shot(page, "guarantee-circles-named")


def test_a_cluster_of_a_dozen_or_more_fits_the_view_with_every_name_drawn(page: Any, bank: Bank) -> None:
    sizes = {cluster["id"]: len(cluster_members(bank, cluster["id"])) for cluster in all_clusters(bank)}
    chosen = max(sizes, key=lambda cluster_id: (sizes[cluster_id] <= 24, sizes[cluster_id], cluster_id))
    assert 12 <= sizes[chosen] <= 24, sizes
    sign_in(page, bank.tokens["marketing"])
    page.wait_for_selector("#cluster-table tbody tr")
    load_every_page(page, "#cluster-table tbody tr", "#clusters-more")
    page.click(f"#cluster-table tbody tr[data-cluster-id='{chosen}']")
    page.wait_for_function("id => document.querySelector('#cluster-title').textContent.includes(id)", arg=chosen)
    # Every member's name drawn at a legible size, none on another, all of them in view.
    assert assert_labels_clear(page, "cluster") == sizes[chosen]
    shot(page, "marketing-cluster-of-a-dozen")


def cluster_members(bank: Bank, cluster_id: str) -> list[dict[str, Any]]:
    with bank.api("marketing") as api:
        members: list[dict[str, Any]] = api.get(f"/clusters/{cluster_id}", params={"page_size": 200}).json()["members"]
    return members


def test_clusters_whose_masked_names_read_the_same_are_told_apart(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["marketing"])

    def cluster(cluster_id: str, *leads: str, city: str | None = None) -> dict[str, Any]:
        name = {"kind": "city", "text": city, "share": 0.6} if city else None
        return {
            "id": cluster_id,
            "naming": {"name": name, "traits": [], "examined": 10},
            "central_members": [{"name": lead} for lead in leads],
        }

    clusters = [
        cluster("K1", "王**", "李**"),
        cluster("K2", "王**", "张**"),
        cluster("K3", "王**", "张**"),
        cluster("K4", "陈**", "李**"),
        cluster("K5", "王**", "李**", city="杭州"),
        cluster("K6", "王**", "赵**", city="杭州"),
    ]
    names = page.evaluate(
        """async (clusters) => {
            const { distinctClusterNames } = await import("/static/js/naming.js");
            return Object.fromEntries(distinctClusterNames(clusters));
        }""",
        clusters,
    )
    assert names == {
        "K1": "以王**、李**为核心的客群",
        "K2": "以王**、张**为核心的客群 (K2)",
        "K3": "以王**、张**为核心的客群 (K3)",
        "K4": "以陈**为核心的客群",  # read apart already: left as it was
        "K5": "杭州·王**、李**等",
        "K6": "杭州·王**、赵**等",
    }
