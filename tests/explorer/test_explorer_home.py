"""The landing view per role: the manager's book at a glance, marketing's largest clusters, risk's largest
guarantee circles; each line opens what it names, and the view is in the address."""

from __future__ import annotations

from typing import Any

import pytest

from tests.explorer.conftest import MANAGER, Bank, shot, sign_in

pytestmark = pytest.mark.browser


def test_a_manager_lands_on_his_book_at_a_glance(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"], landing=True)
    page.wait_for_selector("#home-book")
    assert "view=home" in page.url
    with bank.api("manager") as api:
        book = api.get(f"/managers/{MANAGER}/portfolio", params={"top": 5}).json()
    assert f"（{book['customers']} 户）" in page.inner_text("#home-book h3")
    at_risk = page.locator("#home-at-risk li")
    assert at_risk.count() == min(5, len(book["at_risk"]))
    names = "b => b.firstChild.textContent"  # the line's name, before its details
    assert [at_risk.nth(i).locator("button").evaluate(names) for i in range(at_risk.count())] == [
        c["name"] for c in book["at_risk"]
    ]
    assert page.locator("#home-overdue li").count() == min(5, len(book["overdue_follow_ups"]))
    assert page.locator("#home-opportunities li").count() == min(5, len(book["opportunities"])) > 0
    assert f"得分 {book['opportunities'][0]['score']:.2f}" in page.inner_text("#home-opportunities li >> nth=0")
    assert page.locator("#home-clusters, #home-circles").count() == 0  # not a manager's
    shot(page, "home-manager")
    page.click("#lang-toggle")
    page.wait_for_function("() => document.querySelector('#home-book h3').textContent.includes('book')")
    shot(page, "home-manager-en")

    page.locator("#home-opportunities li button").first.click()  # opens the customer's network
    first = book["opportunities"][0]["customer_id"]
    page.wait_for_function("id => document.querySelector('#side-panel').dataset.customerId === id", arg=first)
    assert "view=explorer" in page.url and f"center={first}" in page.url


def test_marketing_lands_on_the_largest_clusters(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["marketing"], landing=True)
    page.wait_for_selector("#home-clusters li")
    with bank.api("marketing") as api:
        clusters = api.get("/clusters", params={"page_size": 5}).json()
    lines = page.locator("#home-cluster-list li")
    assert lines.count() == len(clusters["items"]) == 5
    assert f"共 {clusters['total']} 个" in page.inner_text("#home-clusters h3")
    for index, cluster in enumerate(clusters["items"]):
        assert "金融资产" in lines.nth(index).inner_text()
        if cluster["naming"]["name"]:
            assert cluster["naming"]["name"]["text"] in lines.nth(index).inner_text()
    shot(page, "home-marketing")
    # The second line, since the marketing view draws the largest cluster by itself.
    second = clusters["items"][1]["id"]
    lines.nth(1).locator("button").click()
    page.wait_for_function("id => document.querySelector('#cluster-title').textContent.includes(id)", arg=second)
    assert "view=marketing" in page.url and page.evaluate("() => window.crmGraph.cluster().nodes.length") > 0
    chosen = page.locator("#cluster-table tbody tr.chosen")
    assert chosen.get_attribute("data-cluster-id") == second


def test_risk_lands_on_the_circles_with_the_largest_amounts(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["risk"], landing=True)
    page.wait_for_selector("#home-circles li")
    with bank.api("risk") as api:
        circles = api.get("/guarantee-circles", params={"page_size": 5, "order": "exposure"}).json()["items"]
    exposures = [circle["total_exposure"] for circle in circles]
    assert exposures == sorted(exposures, reverse=True) and len(exposures) >= 2
    lines = page.locator("#home-circle-list li")
    assert lines.count() == len(circles)
    assert circles[0]["naming"]["name"]["text"] in lines.first.inner_text()
    assert page.locator("#home-book").count() == 0  # risk has no book of its own
    page.reload()
    page.wait_for_selector("#home-circles li")  # the address keeps the landing view
    shot(page, "home-risk")
    lines.last.locator("button").click()
    page.wait_for_function(f"() => window.crmGraph.circleEdges() === {len(circles[-1]['members'])}")
    assert "view=circles" in page.url
    assert circles[-1]["naming"]["name"]["text"] in page.inner_text("#circle-title")
