"""The explorer on a phone (390 x 844): one column, nothing wider than the screen, and a graph drawn where it is
seen, also after the window changes size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.explorer.conftest import ARTIFACTS, Bank, open_explorer, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Whether the page is wider than the screen (a sideways scroll of the whole page); whether the centre of the drawn
# network is on the graph's screen (a dense network may reach beyond it: its outer rings wait for the zoom).
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
CENTRE_IN_VIEW = """() => {
    const cy = window.crmGraph.cy();
    const box = cy.nodes('[?center]').renderedBoundingBox();
    return box.x1 >= 0 && box.y1 >= 0 && box.x2 <= cy.width() && box.y2 <= cy.height();
}"""


IN_VIEW = """selector => {
    const box = document.querySelector(selector).getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
}"""


@pytest.fixture
def phone(browser: Any, bank: Bank, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The explorer page on a phone (touch, mobile viewport); its last screen kept as the phone shows it."""
    yield from open_explorer(
        browser, bank, request.node.name, full_page=False, viewport=PHONE, is_mobile=True, has_touch=True
    )


def screen(page: Any, name: str) -> None:
    """What the phone shows (the screen, not the whole page)."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_a_network_on_a_phone_is_drawn_in_view_above_its_panel(phone: Any, bank: Bank) -> None:
    # Opened from a bookmark, as a link shared to a phone would: drawn as the page first takes its phone shape.
    phone.goto(f"{bank.base_url}/#view=explorer&center={bank.dense_customer}&depth=2")
    sign_in(phone, bank.tokens["manager"])
    phone.wait_for_function(
        "id => document.querySelector('#side-panel').dataset.customerId === id", arg=bank.dense_customer
    )
    phone.wait_for_function("() => window.crmGraph.layouts() > 0")
    assert phone.evaluate(PAGE_OVERFLOW) <= 0
    graph = phone.locator("#graph").bounding_box()
    panel = phone.locator("#side-panel").bounding_box()
    assert graph["width"] > 0.9 * PHONE["width"] and panel["y"] >= graph["y"] + graph["height"]  # one column
    assert phone.evaluate(CENTRE_IN_VIEW)
    screen(phone, "phone-network")
    # Turned sideways: the graph is fitted to its new size, not left where the old one put it.
    phone.set_viewport_size({"width": 844, "height": 390})
    phone.wait_for_function(CENTRE_IN_VIEW)
    phone.set_viewport_size(PHONE)
    phone.wait_for_function(CENTRE_IN_VIEW)


@pytest.mark.parametrize("role", ["manager", "marketing", "risk"])
def test_every_view_fits_the_phone_in_either_language(phone: Any, bank: Bank, role: str) -> None:
    sign_in(phone, bank.tokens[role], landing=True)
    views = phone.locator("#tabs button:not([hidden])").all()
    assert len(views) >= 2
    for language in ("zh", "en"):
        for index, button in enumerate(views):
            button.click()
            view = button.get_attribute("data-view")
            phone.wait_for_selector(f"#view-{view}:not([hidden])")
            if view == "portfolio":
                phone.wait_for_selector("#book-size")
            phone.wait_for_load_state("networkidle")
            assert phone.evaluate(PAGE_OVERFLOW) <= 0, f"{role} {view} {language}: wider than the screen"
            screen(phone, f"phone-{role}-{index}-{view}-{language}")
        phone.click("#lang-toggle")


@pytest.mark.parametrize(
    ("role", "view", "item", "drawing"),
    [
        ("risk", "circles", "#circle-list li button", "#circle-graph"),
        ("marketing", "marketing", "#cluster-table tbody tr", "#cluster-graph"),
    ],
)
def test_a_group_picked_from_its_list_is_drawn_in_view(
    phone: Any, bank: Bank, role: str, view: str, item: str, drawing: str
) -> None:
    """On a phone the drawing sits under the list: picking an item brings it into view."""
    sign_in(phone, bank.tokens[role], landing=True)
    phone.click(f"#tabs button[data-view={view}]")
    phone.wait_for_selector(f"{item} >> nth=1")
    phone.locator(item).nth(1).click()
    phone.wait_for_function(IN_VIEW, arg=drawing)
    screen(phone, f"phone-{view}-picked")
