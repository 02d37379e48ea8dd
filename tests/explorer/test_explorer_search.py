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


def test_every_page_of_results_is_reachable_and_masked_names_stay_apart(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["admin"])
    # Admin sees masked names, so he searches by the last four phone digits; "0" ends many of them... pick the
    # most common last digit pair to get more than one page.
    tails = [str(c.get("phone_masked") or "")[-1:] for c in bank.customers.values() if c.get("phone_masked")]
    digit = max(set(tails), key=tails.count)
    with bank.api("admin") as api:
        first = api.get("/customers", params={"q": digit, "page_size": 20}).json()
    query = digit if first["total"] > 20 else next(iter(bank.customers))
    page.fill("#search-q", query)
    page.press("#search-q", "Enter")
    wait_for_list(page, query)
    with bank.api("admin") as api:
        found = api.get("/customers", params={"q": query, "page_size": 20}).json()
    assert int(page.get_attribute("#search-results .search-total", "data-total")) == found["total"]
    while page.locator("#search-more").count():
        before = len(shown_results(page))
        page.click("#search-more")
        page.wait_for_function(
            "n => document.querySelectorAll('#search-results button[data-customer-id]').length > n", arg=before
        )
    ids = shown_results(page)
    assert len(ids) == len(set(ids)) == found["total"]
    # Two results never read the same: the details the role may see (tier, city, decade, phone tail, id) differ.
    labels = page.eval_on_selector_all(
        "#search-results button[data-customer-id]", "buttons => buttons.map((b) => b.innerText)"
    )
    assert len(set(labels)) == len(labels)
    shot(page, "search-admin-pages")
