"""A portfolio that acts: at risk by expected loss, overdue follow-ups that really are, opportunities across
products, and contacts logged from the portfolio, the side panel and the graph."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from tests.explorer.conftest import MANAGER, Bank, shot, sign_in
from tests.explorer.test_explorer import open_customer

pytestmark = pytest.mark.browser

PARTS = {"network": "关系网络", "similar": "相似客户"}  # the score parts' names in the Chinese view


def open_portfolio(page: Any) -> None:
    page.click("#tabs button[data-view=portfolio]")
    page.wait_for_selector("#book-size")


def test_at_risk_by_expected_loss_and_opportunities_across_products(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    open_portfolio(page)
    page.select_option("#risk-threshold", "0.3")
    with bank.api("manager") as api:
        body = api.get(f"/managers/{MANAGER}/portfolio", params={"top": 15, "risk_threshold": 0.3}).json()
    losses = [customer["expected_loss"] for customer in body["at_risk"]]
    assert len(losses) >= 2 and losses == sorted(losses, reverse=True)
    assert all(customer["status"] != "churned" for customer in body["at_risk"])
    page.wait_for_selector("#at-risk[data-threshold='0.3']")
    rows = page.locator("#at-risk tbody tr")
    assert [
        (rows.nth(i).get_attribute("data-customer-id"), float(rows.nth(i).get_attribute("data-expected-loss")))
        for i in range(rows.count())
    ] == [(customer["id"], customer["expected_loss"]) for customer in body["at_risk"]]
    # Opportunities span products and customers: no product nor customer takes most of the list.
    products = Counter(item["product_code"] for item in body["opportunities"])
    customers = Counter(item["customer_id"] for item in body["opportunities"])
    assert len(body["opportunities"]) == 10 and len(products) >= 3
    assert max(products.values()) <= 5 and max(customers.values()) <= 3
    # Scores shown out of order are explained: repeats are ranked at half their score.
    assert "减半" in page.inner_text("#opportunities-order")
    # Each opportunity says why, as the side panel does: its score's parts, then the ties its evidence came through.
    whys = page.locator("#opportunities tbody td.why").all_inner_texts()
    assert len(whys) == len(body["opportunities"])
    for why, item in zip(whys, body["opportunities"], strict=True):
        parts = {name: value for name, value in item["parts"].items() if name != "eligibility"}
        assert parts and all(f"{PARTS[name]} {value:.2f}" in why for name, value in parts.items()), why
        assert ("关联客户持有" in why) == bool(item["evidence_ties"]), why
    assert any(item["evidence_ties"] for item in body["opportunities"]), "some evidence comes through ties"
    shot(page, "portfolio-acts")
    page.click("#lang-toggle")
    english = " ".join(page.locator("#opportunities tbody td.why").all_inner_texts())
    assert "similar customers" in english and not any(name in english for name in PARTS.values())
    shot(page, "portfolio-why-english")


def test_an_overdue_follow_up_is_kept_by_logging_the_contact(page: Any, bank: Bank) -> None:
    with bank.api("manager") as api:
        before = api.get(f"/managers/{MANAGER}/portfolio").json()
    # The generated contact log promises follow-ups; those no later contact kept are overdue.
    assert before["overdue_total"] > 0
    first = before["overdue_follow_ups"][0]
    sign_in(page, bank.tokens["manager"])
    open_portfolio(page)
    # However many are owed, the table scrolls within its card rather than lengthening the page.
    box = page.evaluate("getComputedStyle(document.querySelector('#overdue').parentElement).overflowY")
    assert box == "auto"
    row = page.locator(f"#overdue tr[data-interaction-id='{first['interaction_id']}']")
    row.locator("button.keep").click()
    form = page.locator("#overdue .contact-row form")
    assert form.locator("select[name=channel]").input_value() == (first["channel"] or "phone")
    form.locator("select[name=outcome]").select_option("interested")
    form.locator("textarea").fill("回访：客户确认续存，手机 13812345678")
    shot(page, "portfolio-follow-up-form")
    with page.expect_response(lambda r: r.url.endswith("/interactions") and r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    logged = posted.value.json()
    assert posted.value.status == 201 and logged["customer_id"] == first["customer_id"]
    assert "13812345678" not in logged["summary"]  # the phone number was masked before it was stored
    page.wait_for_selector("#follow-up-kept")
    assert page.locator(f"#overdue tr[data-interaction-id='{first['interaction_id']}']").count() == 0
    with bank.api("manager") as api:
        after = api.get(f"/managers/{MANAGER}/portfolio").json()
    kept = [item for item in before["overdue_follow_ups"] if item["customer_id"] == first["customer_id"]]
    assert after["overdue_total"] == before["overdue_total"] - len(kept)
    assert first["customer_id"] not in {item["customer_id"] for item in after["overdue_follow_ups"]}
    shot(page, "portfolio-follow-up-kept")


def test_a_contact_logged_from_the_panel_and_from_the_graph(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    page.click("#log-contact")
    form = page.locator("#side-panel .contact-form")
    form.locator("select[name=channel]").select_option("visit")
    form.locator("select[name=outcome]").select_option("follow_up")
    form.locator("input[name=follow_up]").fill("2030-01-15")
    form.locator("textarea").fill("上门拜访，约定下次面谈")
    with page.expect_response(lambda r: r.url.endswith("/interactions") and r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    logged = posted.value.json()
    assert (logged["customer_id"], logged["channel"], logged["outcome"], logged["follow_up"]) == (
        bank.dense_customer,
        "visit",
        "follow_up",
        "2030-01-15",
    )
    page.wait_for_selector("#side-panel .contact-done:not(:empty)")
    shot(page, "panel-contact-logged")

    # Right-click a customer of the book on the graph: the panel opens on it with the form ready.
    neighbour = page.evaluate(
        "() => window.crmGraph.nodes().find((n) => !n.stub && !n.more && !n.center)?.id",
    )
    assert neighbour
    x, y = page.evaluate(
        """id => {
            const box = document.querySelector('#graph').getBoundingClientRect();
            const cy = window.crmGraph.cy();
            cy.zoom(2.5);
            cy.center(cy.getElementById(id));
            const node = cy.getElementById(id).renderedPosition();
            return [box.left + node.x, box.top + node.y];
        }""",
        neighbour,
    )
    page.mouse.click(x, y, button="right")
    page.wait_for_function(
        "id => document.querySelector('#side-panel .contact-form')?.dataset.customerId === id", arg=neighbour
    )
    assert page.evaluate("document.activeElement.name") == "summary"
    page.fill("#side-panel .contact-form textarea", "电话回访")
    with page.expect_response(lambda r: r.url.endswith("/interactions") and r.request.method == "POST") as posted:
        page.click("#side-panel .contact-form button[type=submit]")
    assert posted.value.status == 201 and posted.value.json()["customer_id"] == neighbour
    shot(page, "graph-contact-logged")


def test_who_may_not_log_contacts_sees_no_form(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["admin"])
    open_customer(page, bank.dense_customer)
    assert page.locator("#log-contact").count() == 0


def test_follow_ups_are_overdue_as_of_the_day_the_data_describe(page: Any, bank: Bank) -> None:
    """The generated bank ends on its own last day, not the calendar's: overdue days count from there."""
    stamps = {fields.get("analytics_as_of") for fields in bank.customers.values()}
    assert len(stamps) == 1 and None not in stamps
    (as_of,) = stamps
    with bank.api("admin") as api:
        books = [api.get(f"/managers/{manager}/portfolio").json() for manager in sorted(set(bank.managed_by.values()))]
    assert {book["as_of"] for book in books} == {as_of} and date.fromisoformat(as_of) < date.today()
    overdue = [item for book in books for item in book["overdue_follow_ups"]]
    assert overdue, "the generated contact log leaves some promises unkept"
    for item in overdue:
        assert item["days_overdue"] == (date.fromisoformat(as_of) - date.fromisoformat(item["due"][:10])).days > 0
    sign_in(page, bank.tokens["manager"])
    open_portfolio(page)
    assert as_of in page.inner_text("#as-of")
    shot(page, "portfolio-as-of")


def test_a_contact_by_sms_can_be_logged(page: Any, bank: Bank) -> None:
    """The generated contact log uses SMS; the form offers it and the API takes it."""
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    page.click("#log-contact")
    form = page.locator("#side-panel .contact-form")
    form.locator("select[name=channel]").select_option("sms")
    assert form.locator("select[name=channel] option[value=sms]").inner_text() == "短信"
    form.locator("textarea").fill("短信提醒理财到期")
    with page.expect_response(lambda r: r.url.endswith("/interactions") and r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status == 201 and posted.value.json()["channel"] == "sms"
