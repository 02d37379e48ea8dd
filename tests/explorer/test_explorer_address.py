"""The view in the address: a bookmark reopened in a new page shows the same network; the drawn network
exports as PNG and as CSV of its customers and ties."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.explorer.conftest import ARTIFACTS, Bank, shot, sign_in
from tests.explorer.test_explorer import drawn_nodes, open_customer

pytestmark = pytest.mark.browser

DRAWN_TIES = """() => window.crmGraph.cy().edges().filter((e) => !e.data("more"))
    .map((e) => [e.data("source"), e.data("target"), e.data("type")])"""


def test_a_bookmark_reopens_the_same_view_in_a_new_page(page: Any, browser: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    page.select_option("#depth", "2")
    page.click("#tie-filter summary")
    page.uncheck("#tie-filter-options input[value=REFERRED]")
    page.click("#tie-filter summary")
    open_customer(page, bank.dense_customer)
    bookmark = page.url
    assert f"center={bank.dense_customer}" in bookmark and "depth=2" in bookmark and "REFERRED" not in bookmark
    drawn = sorted(node["id"] for node in drawn_nodes(page))

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        other = context.new_page()
        other.goto(bookmark)
        sign_in(other, bank.tokens["manager"])
        other.wait_for_function(
            "id => document.querySelector('#side-panel').dataset.customerId === id", arg=bank.dense_customer
        )
        assert sorted(node["id"] for node in drawn_nodes(other)) == drawn
        assert other.input_value("#depth") == "2"
        assert not other.is_checked("#tie-filter-options input[value=REFERRED]")
        assert other.is_checked("#tie-filter-options input[value=SPOUSE_OF]")
        shot(other, "bookmark-reopened")
        # Reloading keeps the view too (the token stays for the tab).
        other.reload()
        other.wait_for_function(
            "id => document.querySelector('#side-panel').dataset.customerId === id", arg=bank.dense_customer
        )
        assert sorted(node["id"] for node in drawn_nodes(other)) == drawn
    finally:
        context.close()


def _download(page: Any, button: str) -> tuple[str, bytes]:
    with page.expect_download() as download:
        page.click(button)
    return download.value.suggested_filename, Path(download.value.path()).read_bytes()


def test_the_drawn_network_exports_as_png_and_csv(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)

    page.click("#view-explorer .zoom-controls [data-zoom=fit]")  # zoomed out: labels hidden on screen
    name, png = _download(page, "#export-png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "exported-network.png").write_bytes(png)  # to look at: every label is in the picture
    assert name == f"network-{bank.dense_customer}.png"
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000

    name, body = _download(page, "#export-nodes")
    assert name == f"network-{bank.dense_customer}-customers.csv"
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    customers = [node for node in drawn_nodes(page) if not node.get("more")]
    assert sorted(row["id"] for row in rows) == sorted(node["id"] for node in customers)
    by_id = {row["id"]: row for row in rows}
    with bank.api("manager") as api:
        profile = api.get(f"/customers/{bank.dense_customer}").json()["customer"]
    assert by_id[bank.dense_customer]["name"] == profile["name"]
    assert all(by_id[node["id"]]["masked"] == "masked" for node in customers if node.get("stub"))

    name, body = _download(page, "#export-ties")
    assert name == f"network-{bank.dense_customer}-ties.csv"
    ties = sorted(tuple(row.values()) for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert ties == sorted(map(tuple, page.evaluate(DRAWN_TIES)))
    shot(page, "exports")
