"""Search as you type: suggestions after a pause in the typing, older requests cancelled by newer keystrokes,
the total as the API counts it, further pages, and results told apart by what the role may see."""

from __future__ import annotations

from typing import Any

import pytest

from tests.explorer.conftest import MANAGER, Bank, shot, sign_in

pytestmark = pytest.mark.browser


def shown_results(page: Any) -> list[str]:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        "#search-results button[data-customer-id]", "buttons => buttons.map((b) => b.dataset.customerId)"
    )


def wait_for_list(page: Any, query: str) -> None:
    page.wait_for_function("q => document.querySelector('#search-results').dataset.query === q", arg=query)


def test_suggestions_while_typing_match_the_api_for_the_last_text(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    book = bank.book(MANAGER)
    surname = max(
        {bank.customers[c]["name"][0] for c in book if bank.customers[c]["label"] == "Person"},
        key=lambda first: sum(bank.customers[c]["name"].startswith(first) for c in book),
    )
    full = next(bank.customers[c]["name"] for c in sorted(book) if bank.customers[c]["name"].startswith(surname))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/customers?" in r.url else None)

    page.type("#search-q", surname)  # no Enter: suggestions come by themselves
    wait_for_list(page, surname)
    with bank.api("manager") as api:
        found = api.get("/customers", params={"q": surname, "page_size": 20}).json()
    assert found["total"] > 1
    assert shown_results(page) == [c["id"] for c in found["items"]]
    assert int(page.get_attribute("#search-results .search-total", "data-total")) == found["total"]
    assert not page.is_visible("#side-panel[data-customer-id]")  # a suggestion draws nothing by itself
    shot(page, "search-suggestions")

    # Typing on narrows the list; what ends up shown is the answer for the whole text, not an older one.
    page.type("#search-q", full[1:])
    wait_for_list(page, full)
    with bank.api("manager") as api:
        narrowed = api.get("/customers", params={"q": full, "page_size": 20}).json()
    assert shown_results(page) == [c["id"] for c in narrowed["items"]]
    assert len(asked) < 1 + len(full)  # one request per pause, not per keystroke

    # Choosing a suggestion draws that customer.
    chosen = narrowed["items"][0]["id"]
    page.click(f"#search-results button[data-customer-id='{chosen}']")
    page.wait_for_function("id => document.querySelector('#side-panel').dataset.customerId === id", arg=chosen)

    # Clearing the box clears the list.
    page.fill("#search-q", "")
    wait_for_list(page, "")
    assert shown_results(page) == []


def test_every_page_of_results_is_reachable(page: Any, bank: Bank) -> None:
    """Pages of three (the page asks for twenty; the test narrows them to walk several pages of a small book)."""
    book = bank.book(MANAGER)
    names = [str(bank.customers[c]["name"]) for c in book]
    common = max({char for name in names for char in name}, key=lambda char: sum(char in name for name in names))

    def small_pages(route: Any) -> None:
        route.continue_(url=route.request.url.replace("page_size=20", "page_size=3"))

    page.route("**/api/v1/customers?*", small_pages)
    sign_in(page, bank.tokens["manager"])
    page.fill("#search-q", common)
    page.press("#search-q", "Enter")
    wait_for_list(page, common)
    with bank.api("manager") as api:
        total = api.get("/customers", params={"q": common, "page_size": 3}).json()["total"]
    assert total > 6, "the test wants at least three pages"
    assert int(page.get_attribute("#search-results .search-total", "data-total")) == total
    while page.locator("#search-more").count():
        before = len(shown_results(page))
        page.click("#search-more")
        page.wait_for_function(
            "n => document.querySelectorAll('#search-results button[data-customer-id]').length > n", arg=before
        )
    ids = shown_results(page)
    assert len(ids) == len(set(ids)) == total and set(ids) <= book
    shot(page, "search-every-page")


def test_results_show_what_the_role_may_see_of_a_masked_customer(page: Any, bank: Bank) -> None:
    """Risk sees names masked: the result carries tier, city, decade of birth, phone tail and id beside it."""
    customer_id, fields = next(
        (c, f)
        for c, f in sorted(bank.customers.items())
        if f["label"] == "Person" and f.get("phone_masked") and f.get("city") and f.get("birth_date")
    )
    sign_in(page, bank.tokens["risk"])
    page.fill("#search-q", customer_id)
    page.press("#search-q", "Enter")
    wait_for_list(page, customer_id)
    label = page.inner_text(f"#search-results button[data-customer-id='{customer_id}']")
    with bank.api("risk") as api:
        shown = api.get("/customers", params={"q": customer_id}).json()["items"][0]
    assert shown["name"] != fields["name"] and shown["name"] in label  # masked, as the API shows it
    decade = str(fields["birth_date"])[2:3] + "0后"
    for part in (str(fields["city"]), decade, "尾号 " + str(fields["phone_masked"])[-4:], customer_id):
        assert part in label
    shot(page, "search-masked-result")

    # English counts one customer in the singular.
    page.click("#lang-toggle")
    page.wait_for_function(
        "() => document.querySelector('#search-results .search-total').textContent.includes('shown')"
    )
    assert page.inner_text("#search-results .search-total").startswith("1 customer matches, 1 shown")
