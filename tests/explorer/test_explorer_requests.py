"""One action in flight per view: a newer search, depth change or recentre cancels the older one, two networks
never mix, and errors reach the status line in the reader's language, cleared by the next success."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from tests.explorer.conftest import MANAGER, Bank, shot, sign_in
from tests.explorer.test_explorer import drawn_nodes, open_customer

pytestmark = pytest.mark.browser

LIMIT = 25  # as the page asks: related customers drawn per node
MAX_EXPANSIONS_PER_LEVEL = 20


def expected_network(bank: Bank, center: str, depth: int) -> set[str]:
    """The node ids the page draws for ``center`` at ``depth``, computed from the API as the page fetches."""
    drawn = {center}
    seen = {center}
    frontier = [center]
    with bank.api("manager") as api:
        for _ in range(depth):
            following = []
            for customer_id in frontier[:MAX_EXPANSIONS_PER_LEVEL]:
                body = api.get(f"/customers/{customer_id}/network", params={"depth": 1, "limit": LIMIT}).json()
                if body["omitted_neighbours"]:
                    drawn.add(f"more:{customer_id}")
                for entry in body["related"]:
                    node = entry["customer"]["id"] if entry["customer"] else entry["stub"]["opaque_id"]
                    drawn.add(node)
                    if entry["customer"] and node not in seen:
                        seen.add(node)
                        following.append(node)
            frontier = following
    return drawn


def _unrelated_customer(bank: Bank) -> str:
    """A customer of the book not tied to the dense customer (so the search never asks for its network)."""
    with bank.api("manager") as api:
        near = {
            entry["customer"]["id"]
            for entry in api.get(f"/customers/{bank.dense_customer}/network", params={"limit": 200}).json()["related"]
            if entry["customer"]
        }
    return next(c for c in sorted(bank.book(MANAGER)) if c != bank.dense_customer and c not in near)


def test_a_search_during_a_depth_change_draws_only_the_search_result(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    other = _unrelated_customer(bank)

    # The depth change's first network answer is held back, so that the search overtakes it.
    held: list[Any] = []

    def hold_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(f"**/api/v1/customers/{bank.dense_customer}/network*", hold_first)
    page.select_option("#depth", "2")
    for _ in range(200):  # until the depth change is waiting for its answer
        if held:
            break
        page.wait_for_timeout(50)
    page.fill("#search-q", other)
    page.click("#search-form button")
    page.wait_for_function("id => document.querySelector('#side-panel').dataset.customerId === id", arg=other)
    assert held, "the depth change did not ask for the network"
    for route in held:  # the older answer arrives late: the page has cancelled it and must ignore it
        with contextlib.suppress(Exception):  # the page aborted the request: the route is gone, as intended
            route.continue_()
    page.wait_for_timeout(500)

    drawn = {node["id"] for node in drawn_nodes(page)}
    assert drawn == expected_network(bank, other, 2)
    assert bank.dense_customer not in drawn
    assert page.inner_text("#status") == ""
    shot(page, "race-depth-and-search")


def test_errors_are_worded_in_the_readers_language_and_cleared_by_the_next_success(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    customer = sorted(bank.book(MANAGER))[0]
    failing = f"**/api/v1/customers/{customer}/network*"
    page.route(
        failing,
        lambda route: route.fulfill(
            status=500, content_type="application/problem+json", body='{"title": "Internal Server Error"}'
        ),
    )
    open_customer(page, customer)
    assert page.inner_text("#status") == "服务器暂时无法处理，请稍后重试。"
    page.click("#lang-toggle")
    assert page.inner_text("#status") == "The server could not answer; please try again shortly."
    shot(page, "error-status")

    page.unroute(failing)
    page.select_option("#depth", "2")
    page.wait_for_function("() => window.crmGraph.nodes().length > 1")
    page.wait_for_function("() => document.querySelector('#status').textContent === ''")
