"""Browser fixtures: a generated bank served by a real uvicorn, and headless Chromium driven by Playwright.

Chromium is Debian's ``chromium`` package (``/usr/bin/chromium``, or ``CRM_GRAPH_TEST_CHROMIUM``); without it
the browser tests are skipped, and under ``CI=true`` that skip is a failure (as for Neo4j).
Screenshots go to ``test-artifacts/explorer/``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.access import Role
from api.app import create_app
from api.explorer import CYTOSCAPE
from api.tokens import TokenRegistry
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from graph.settings import Settings
from tests.api.conftest import api_settings_for
from tests.ports import free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path(os.environ.get("CRM_GRAPH_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "explorer"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MANAGER = "manager:00000001"
OTHER_MANAGER = "manager:00000002"


@dataclass
class Bank:
    """The served bank: its address, a token per role, and what the store holds (for the tests to compare)."""

    base_url: str
    tokens: dict[str, str]
    customers: dict[str, dict[str, Any]]
    managed_by: dict[str, str]
    dense_customer: str
    settings: Settings

    def api(self, role: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base_url}/api/v1", headers={"Authorization": f"Bearer {self.tokens[role]}"}, timeout=30
        )

    def book(self, manager_id: str) -> set[str]:
        return {customer for customer, manager in self.managed_by.items() if manager == manager_id}


def _customers(store: EmbeddedStore) -> dict[str, dict[str, Any]]:
    return {node.id: {**node.properties, "label": node.label.value} for node in store.nodes(NodeLabel.CUSTOMER)}


def _build_bank(directory: Path, settings: Settings) -> tuple[str, dict[str, dict[str, Any]], dict[str, str]]:
    """Generate, load and analyse a small bank; add two guarantee circles and a customer with many ties."""
    from loaders.generator import generate
    from loaders.load import load_mapping
    from queries.analytics import analyze

    generate(200, 7, directory / "bank")
    with EmbeddedStore(settings.embedded_path) as store:
        load_mapping(store, directory / "bank" / "mapping.yaml", directory / "report", settings=settings)
        customers = _customers(store)
        managed_by = {tie.target: tie.source for tie in store.ties([TieType.MANAGES])}
        book = sorted(customer for customer, manager in managed_by.items() if manager == MANAGER)
        companies = sorted(c for c, fields in customers.items() if fields["label"] == "Company")
        persons = sorted(c for c, fields in customers.items() if fields["label"] == "Person")
        dense = next(c for c in book if customers[c]["label"] == "Person")
        ties = [
            {"type": "GUARANTEES", "source": a, "target": b, "properties": {"amount": amount}}
            for circle, amount in ((companies[:3], 1_000_000.0), (companies[3:5], 250_000.0))
            for a, b in zip(circle, circle[1:] + circle[:1], strict=True)
        ]
        ties += [{"type": "REFERRED", "source": dense, "target": p} for p in persons if p != dense][:40]
        store.write(nodes=[], ties=ties)
        analyze(store, settings)
        customers = _customers(store)
    return dense, customers, managed_by


def _issue(settings: Settings) -> dict[str, str]:
    registry = TokenRegistry(settings.api_tokens_path)
    try:
        specs: dict[str, tuple[Role, str | None]] = {
            "manager": (Role.MANAGER, MANAGER),
            "other_manager": (Role.MANAGER, OTHER_MANAGER),
            "marketing": (Role.MARKETING, None),
            "risk": (Role.RISK, None),
            "admin": (Role.ADMIN, None),
        }
        return {
            name: registry.issue(role, name=f"{name}-token", manager_id=manager)[0]
            for name, (role, manager) in specs.items()
        }
    finally:
        registry.close()


@pytest.fixture(scope="session")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    """The API and the explorer page on a real uvicorn over a generated, analysed bank."""
    if not CYTOSCAPE.is_file():
        pytest.fail(f"{CYTOSCAPE} is missing: run `npm ci` (make test does)")
    directory = tmp_path_factory.mktemp("explorer")
    settings = api_settings_for(directory, api_rate_burst=100_000, api_rate_per_second=10_000.0)
    dense, customers, managed_by = _build_bank(directory, settings)
    tokens = _issue(settings)
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Bank(f"http://127.0.0.1:{port}", tokens, customers, managed_by, dense, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, for the whole session."""
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk (or set CRM_GRAPH_TEST_CHROMIUM)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_explorer(browser: Any, bank: Bank, name: str, *, full_page: bool = True, **context: Any) -> Iterator[Any]:
    """A fresh browser context (empty session and local storage, ``context`` its options) on the explorer page;
    its last screen is kept as ``name``-final.png, and JavaScript errors on it fail the test."""
    browser_context = browser.new_context(**context)
    page = browser_context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(bank.base_url + "/")
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-final.png"), full_page=full_page)
        browser_context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Any, bank: Bank, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The explorer page on a desktop screen."""
    yield from open_explorer(
        browser, bank, request.node.name, viewport={"width": 1400, "height": 900}, accept_downloads=True
    )


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, token: str, *, landing: bool = False) -> None:
    """Sign in; unless ``landing`` (or a bookmark names a view), go on to the role's first view after the landing
    view, where most tests start."""
    bookmarked = "view=" in page.url
    page.fill("#token-input", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#tabs:not([hidden])")
    if not landing and not bookmarked:
        page.wait_for_selector("#view-home:not([hidden])")
        page.locator("#tabs button:not([hidden]):not([data-view=home])").first.click()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skipped browser test is a failure: CI must prove the page works."""
    report: pytest.TestReport = yield  # type: ignore[misc]
    if IN_CI and report.skipped and item.get_closest_marker("browser") is not None:
        report.outcome = "failed"
        report.longrepr = f"a browser test was skipped under CI=true: {report.longrepr}"
    return report  # type: ignore[return-value]
