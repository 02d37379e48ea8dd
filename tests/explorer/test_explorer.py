"""The network explorer in headless Chromium against a real server: what the page shows is what the API
answers for the signed-in token, and nothing of another manager's book."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.explorer.conftest import MANAGER, OTHER_MANAGER, Bank, shot, sign_in

pytestmark = pytest.mark.browser


def open_customer(page: Any, customer_id: str) -> None:
    page.fill("#search-q", customer_id)
    page.click("#search-form button")
    page.wait_for_function("id => document.querySelector('#side-panel').dataset.customerId === id", arg=customer_id)


def drawn_nodes(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.crmGraph.nodes()")  # type: ignore[no-any-return]


def click_node(page: Any, node_id: str) -> None:
    """A real mouse click on a drawn node."""
    x, y = page.evaluate(
        """id => {
            const box = document.querySelector('#graph').getBoundingClientRect();
            const cy = window.crmGraph.cy();
            cy.zoom(2.5);
            cy.center(cy.getElementById(id));  // zoomed in, so that no neighbour overlaps it
            const node = cy.getElementById(id).renderedPosition();
            return [box.left + node.x, box.top + node.y];
        }""",
        node_id,
    )
    page.mouse.click(x, y)


def test_sign_in_search_and_expand(page: Any, bank: Bank) -> None:
    shot(page, "sign-in")
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    nodes = drawn_nodes(page)
    with bank.api("manager") as api:
        profile = api.get(f"/customers/{bank.dense_customer}").json()
        network = api.get(f"/customers/{bank.dense_customer}/network", params={"limit": 25}).json()
    # The dense customer draws 25 neighbours and "N more" for the rest, as the API counts them.
    more = [node for node in nodes if node.get("more")]
    assert network["omitted_neighbours"] > 0
    assert more and more[0]["more"] == network["omitted_neighbours"]
    drawn = {node["id"] for node in nodes}
    expected = {r["customer"]["id"] if r["customer"] else r["stub"]["opaque_id"] for r in network["related"]}
    assert expected <= drawn
    assert page.inner_text("#panel-name") == profile["customer"]["name"]
    shot(page, "network-dense")

    # Click a neighbour in the book, then expand it: its own neighbours are merged into the graph.
    neighbour = next(r["customer"]["id"] for r in network["related"] if r["customer"])
    click_node(page, neighbour)
    page.wait_for_function("id => document.querySelector('#side-panel').dataset.customerId === id", arg=neighbour)
    before = len(drawn_nodes(page))
    with bank.api("manager") as api:
        around = api.get(f"/customers/{neighbour}/network", params={"limit": 25}).json()["related"]
    wanted = sorted({r["customer"]["id"] if r["customer"] else r["stub"]["opaque_id"] for r in around})
    page.click("#side-panel .actions button >> nth=0")
    page.wait_for_function(
        "ids => { const drawn = new Set(window.crmGraph.nodes().map(n => n.id));"
        " return ids.every(id => drawn.has(id)); }",
        arg=wanted,
    )
    assert len(drawn_nodes(page)) >= before
    shot(page, "network-expanded")


def test_stubs_are_grey_and_dashed_for_customers_outside_the_book(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    stubs = [node for node in drawn_nodes(page) if node.get("stub")]
    assert stubs
    style = page.evaluate(
        "id => { const n = window.crmGraph.cy().getElementById(id);"
        " return [n.style('border-style'), n.style('background-color')]; }",
        stubs[0]["id"],
    )
    assert style == ["dashed", "rgb(207,216,220)"]


def _consenting_with_recommendations(bank: Bank) -> str:
    """A customer of the book with an evidence path through a stub, best one of two hops."""
    found = []
    with bank.api("manager") as api:
        for customer_id in sorted(bank.book(MANAGER)):
            body = api.get(f"/customers/{customer_id}/recommendations").json()
            paths = [path for item in body["recommendations"] for path in item["evidence"]]
            if any(node["stub"] for path in paths for node in path["nodes"]):
                found.append((-max(len(path["nodes"]) for path in paths), customer_id))
    assert found, "no customer of the book has network-backed recommendations through a stub"
    return min(found)[1]


def _edge_id(a: str, b: str, tie: str) -> str:
    return "~".join(sorted([a, b])) + f"~{tie}"


def test_recommendations_match_the_api_and_light_their_evidence(page: Any, bank: Bank) -> None:
    customer_id = _consenting_with_recommendations(bank)
    with bank.api("manager") as api:
        expected = api.get(f"/customers/{customer_id}/recommendations").json()["recommendations"]
        churn = api.get(f"/customers/{customer_id}/churn-risk").json()
    sign_in(page, bank.tokens["manager"])
    open_customer(page, customer_id)
    items = page.locator("#recommendations li")
    assert items.count() == len(expected)
    shown = []
    for i in range(items.count()):
        score = items.nth(i).locator(".score").get_attribute("data-score")
        product = items.nth(i).locator(".product")
        shown.append((product.get_attribute("data-product"), product.inner_text(), float(score)))
    assert shown == [(item["product_code"], item["product_name"], item["score"]) for item in expected]

    # Clicking a recommendation lights exactly the nodes and edges of its evidence paths, stubs included.
    evidence = next(i for i, item in enumerate(expected) if item["evidence"])
    items.nth(evidence).click()
    paths = expected[evidence]["evidence"]
    lit = page.evaluate("window.crmGraph.highlighted()")
    assert set(lit["nodes"]) == {node["id"] for path in paths for node in path["nodes"]}
    assert set(lit["edges"]) == {
        _edge_id(path["nodes"][i]["id"], path["nodes"][i + 1]["id"], tie)
        for path in paths
        for i, tie in enumerate(path["ties"])
    }
    assert any(node["stub"] for path in paths for node in path["nodes"])
    _scan_for_other_books(page, bank)
    shot(page, "recommendation-evidence")

    contributors = page.locator("#churn-contributors li")
    assert contributors.count() == len(churn["contributors"])
    if churn["contributors"]:
        contributors.first.hover()
        lit = page.evaluate("window.crmGraph.highlighted()")
        node = churn["contributors"][0]["node"]
        assert set(lit["nodes"]) == {customer_id, node["id"]}
        assert lit["edges"] == [_edge_id(customer_id, node["id"], churn["contributors"][0]["tie_type"])]
        shot(page, "churn-contributor")


def test_household_and_group_rollups(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["admin"])
    with bank.api("admin") as api:
        anchor = next(c for c in sorted(bank.customers) if api.get(f"/customers/{c}/household").json()["members"])
        household = api.get(f"/customers/{anchor}/household").json()
    open_customer(page, anchor)
    page.click("#show-household")
    page.wait_for_selector("#household-view")
    assert page.locator("#household-view tr").count() == len(household["members"])
    if household["total_aum"] is not None:
        assert page.inner_text("#household-view .total-aum") != ""
    # The household's ties drawn as they point (a parent to the child), none invented from the anchor outward.
    drawn = page.evaluate(
        "() => window.crmGraph.cy().edges().map((e) => [e.data('type'), e.source().id(), e.target().id()])"
    )
    assert household["ties"] and all([t["type"], t["source"], t["target"]] in drawn for t in household["ties"])
    assert not [edge for edge in drawn if edge[0] == "MEMBER"]
    shot(page, "household")
    page.click("#show-group")
    page.wait_for_selector("#group-view")


def _scan_for_other_books(page: Any, bank: Bank) -> None:
    text = page.content() + page.inner_text("body") + json.dumps(drawn_nodes(page), ensure_ascii=False)
    mine = bank.book(MANAGER)
    for customer_id, fields in bank.customers.items():
        if customer_id in mine or fields["label"] != "Person":
            continue
        assert customer_id not in text, f"id of {customer_id} (another book) on the page"
        for key in ("name", "phone_masked", "resident_id_masked"):
            value = fields.get(key)
            if isinstance(value, str) and len(value) >= 2:
                assert value not in text, f"{key} of {customer_id} (another book) on the page"


def test_a_manager_never_sees_another_books_personal_data(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    page.select_option("#depth", "2")
    open_customer(page, bank.dense_customer)
    _scan_for_other_books(page, bank)
    for stub in [node for node in drawn_nodes(page) if node.get("stub")][:3]:
        click_node(page, stub["id"])
        page.wait_for_timeout(100)
    _scan_for_other_books(page, bank)
    # A customer of the other book, asked for by id, is not found.
    other = sorted(bank.book(OTHER_MANAGER))[0]
    page.fill("#search-q", other)
    page.click("#search-form button")
    page.wait_for_selector("#search-results li")
    _scan_for_other_books(page, bank)
    shot(page, "manager-depth-2")


def test_chinese_and_english(page: Any, bank: Bank) -> None:
    assert page.get_attribute("html", "lang") == "zh-CN"
    sign_in(page, bank.tokens["manager"])
    assert page.inner_text("#tabs button[data-view=explorer]") == "关系网络"
    open_customer(page, bank.dense_customer)
    assert re.search("[\u4e00-\u9fff]", page.inner_text("#panel-name"))
    shot(page, "chinese")
    page.click("#lang-toggle")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#tabs button[data-view=explorer]") == "Network"
    page.wait_for_function("() => document.querySelector('#side-panel').innerText.includes('Churn risk')")
    shot(page, "english")
    page.reload()
    page.wait_for_selector("#tabs:not([hidden])")  # still signed in: the token is in sessionStorage
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#tabs button[data-view=portfolio]") == "Portfolio"


def test_marketing_clusters_and_prospect_export(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["marketing"])
    assert page.locator("#tabs button[data-view=explorer]").is_hidden()
    page.wait_for_selector("#cluster-table tbody tr")
    with bank.api("marketing") as api:
        clusters = api.get("/clusters", params={"page_size": 50}).json()["items"]
        codes = sorted({account["product_id"] for account in _all_accounts(bank)})
        pages = ((c, api.get(f"/products/{c}/prospects", params={"page_size": 100}).json()) for c in codes)
        code, prospects = next((c, body) for c, body in pages if body["items"])
        csv_text = api.get(f"/products/{code}/prospects", params={"page_size": 100, "format": "csv"}).text
    rows = page.locator("#cluster-table tbody tr")
    assert [rows.nth(i).get_attribute("data-cluster-id") for i in range(rows.count())] == [c["id"] for c in clusters]
    sizes = page.locator("#cluster-chart svg rect")  # a histogram of the listed clusters' sizes
    assert sum(int(sizes.nth(i).get_attribute("data-value")) for i in range(sizes.count())) == len(clusters)
    assert page.locator("#cluster-assets-chart svg rect").count() == min(12, len(clusters))
    # The cluster with the most ties among its members is drawn as a graph: its members and those ties.
    with bank.api("marketing") as api:
        details = {c["id"]: api.get(f"/clusters/{c['id']}", params={"page_size": 200}).json() for c in clusters[:10]}
    chosen = max(details, key=lambda cluster_id: (len(details[cluster_id]["ties"]), cluster_id))
    detail = details[chosen]
    assert detail["ties"]
    page.click(f"#cluster-table tbody tr[data-cluster-id='{chosen}']")
    page.wait_for_function("n => window.crmGraph.cluster().nodes.length === n", arg=len(detail["members"]))
    drawn = page.evaluate("window.crmGraph.cluster()")
    assert set(drawn["nodes"]) == {member["opaque_id"] for member in detail["members"]}
    assert sorted(map(tuple, drawn["edges"])) == sorted((t["type"], t["source"], t["target"]) for t in detail["ties"])
    assert page.locator("#cluster-penetration-chart svg rect").count() == len(detail["cluster"]["product_penetration"])
    shot(page, "marketing-clusters")

    # The product picker offers the catalogue.
    with bank.api("marketing") as api:
        catalogue = api.get("/products").json()["items"]
    options = page.locator("#product-code option:not([disabled])")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == [p["id"] for p in catalogue]
    page.select_option("#product-code", code)
    page.click("#prospects-form button")
    page.wait_for_selector("#prospects-table tbody tr")
    shown = page.locator("#prospects-table tbody tr")
    assert [shown.nth(i).get_attribute("data-customer-id") for i in range(shown.count())] == [
        item["customer_id"] for item in prospects["items"]
    ]
    with page.expect_download() as download:
        page.click("#prospects-export")
    path = download.value.path()
    # The API names the file prospects-<code>.csv; the browser replaces characters a file name may not hold.
    assert download.value.suggested_filename == f"prospects-{code}.csv".replace(":", "_")
    assert Path(path).read_text(encoding="utf-8") == csv_text
    shot(page, "marketing-prospects")


def _all_accounts(bank: Bank) -> list[dict[str, Any]]:
    with bank.api("admin") as api:
        book = sorted(bank.book(MANAGER))
        return [a for c in book for a in api.get(f"/customers/{c}").json()["accounts"] if a["product_id"]]


def test_portfolio_dashboard(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    page.click("#tabs button[data-view=portfolio]")
    page.wait_for_selector("#book-size")
    with bank.api("manager") as api:
        body = api.get(f"/managers/{MANAGER}/portfolio", params={"top": 15}).json()
    assert int(page.inner_text("#book-size")) == body["customers"]
    at_risk = page.locator("#at-risk tbody tr")
    assert [at_risk.nth(i).get_attribute("data-customer-id") for i in range(at_risk.count())] == [
        c["id"] for c in body["at_risk"]
    ]
    assert page.locator("#portfolio svg").count() == 2
    assert body["opportunities"], "the demo book has open opportunities"
    rows = page.locator("#opportunities tbody tr")
    assert [
        (rows.nth(i).get_attribute("data-customer-id"), rows.nth(i).get_attribute("data-product"))
        for i in range(rows.count())
    ] == [(o["customer_id"], o["product_code"]) for o in body["opportunities"]]
    assert [float(rows.nth(i).get_attribute("data-score")) for i in range(rows.count())] == [
        o["score"] for o in body["opportunities"]
    ]
    assert set(o["customer_id"] for o in body["opportunities"]) <= bank.book(MANAGER)
    shot(page, "portfolio")
    if body["at_risk"]:
        at_risk.first.click()
        page.wait_for_function(
            "id => document.querySelector('#side-panel').dataset.customerId === id", arg=body["at_risk"][0]["id"]
        )


def test_guarantee_circles(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["admin"])
    page.click("#tabs button[data-view=circles]")
    page.wait_for_selector("#circle-list li button")
    with bank.api("admin") as api:
        circles = api.get("/guarantee-circles").json()["items"]
    assert page.locator("#circle-list li").count() == len(circles)
    assert page.evaluate("window.crmGraph.circleEdges()") == len(circles[0]["members"])
    shot(page, "guarantee-circles")


def test_missing_library_page(bank: Bank, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Without node_modules the page says how to install it, instead of failing in the browser."""
    import httpx

    from api import explorer

    monkeypatch.setattr(explorer, "CYTOSCAPE", tmp_path / "missing.mjs")
    response = httpx.get(bank.base_url + "/")
    assert response.status_code == 503
    assert "npm ci" in response.text and "make demo" in response.text
