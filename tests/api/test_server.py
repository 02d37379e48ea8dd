"""The API on a real uvicorn server on a loopback port, and schemathesis against its OpenAPI schema."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.limits import CostLimits
from graph.cancellation import checkpoint
from graph.embedded import EmbeddedStore
from graph.errors import WorkCancelled
from graph.query import NamedQuery
from queries.analytics.community import LIST_CLUSTERS
from tests.api.conftest import (
    api_settings_for,
    bank_nodes,
    bank_ties,
    clear_identifiers,
    issue_tokens,
    served_by_uvicorn,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from hypothesis import HealthCheck, settings


class Served:
    def __init__(self, base_url: str, tokens: dict[str, str], app: FastAPI) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.app = app


def _serve(directory: Path, store_type: type[EmbeddedStore] = EmbeddedStore, **overrides: Any) -> Iterator[Served]:
    settings = api_settings_for(
        directory,
        **{
            "api_rate_burst": 100_000,
            "api_rate_per_second": 10_000.0,
            "api_costly_per_token": 2,
            "api_costly_total": 4,
            **overrides,
        },
    )
    tokens = issue_tokens(settings)
    with store_type(directory / "store.sqlite") as store:
        store.write(nodes=bank_nodes(), ties=bank_ties())
        app = create_app(settings, store)
        with served_by_uvicorn(app) as base_url:
            yield Served(base_url, tokens, app)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("served"))


def test_real_server_answers_and_refuses_streamed_large_bodies(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.tokens['manager']}"}
    with httpx.Client(base_url=served.base_url, timeout=10) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok"}
        customer = client.get("/api/v1/customers/p1", headers=headers)
        assert customer.status_code == 200 and customer.json()["customer"]["name"] == "王伟"  # in his own book
        assert not clear_identifiers(customer.text)

        def chunks() -> Iterator[bytes]:
            yield b'{"channel": "phone", "summary": "'
            for _ in range(20):
                yield b"x" * 65536
            yield b'"}'

        streamed = client.post(
            "/api/v1/customers/p1/interactions",
            headers={**headers, "Content-Type": "application/json"},
            content=chunks(),
        )
        assert streamed.status_code == 413
        assert streamed.headers["content-type"].startswith("application/problem+json")


def test_concurrent_reads_each_leave_exactly_one_durable_audit_record(tmp_path: Path) -> None:
    """Many reads at once (the audit writer groups their commits): one record per answered read, each on
    disk by the time its answer arrives, with distinct sequence numbers."""
    plan = [("manager", "/api/v1/customers/p1", "get_customer")] * 24
    plan += [("risk", "/api/v1/customers/p2/household", "get_household")] * 24
    plan += [("admin", "/api/v1/customers/p1/churn-risk", "get_churn_risk")] * 16
    for served in _serve(tmp_path):

        async def read_all(served: Served) -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
                return await asyncio.gather(
                    *(
                        client.get(path, headers={"Authorization": f"Bearer {served.tokens[who]}"})
                        for who, path, _ in plan
                    )
                )

        responses = asyncio.run(read_all(served))
        # Read through another connection while the server still runs: acknowledged means committed.
        db = sqlite3.connect(tmp_path / "audit.sqlite")
        try:
            rows = db.execute("SELECT seq, actor, endpoint FROM audit").fetchall()
        finally:
            db.close()
    answered = Counter(
        (who, endpoint)
        for (who, _, endpoint), response in zip(plan, responses, strict=True)
        if response.status_code == 200
    )
    assert sum(answered.values()) == len(plan)
    assert Counter((actor, endpoint) for _, actor, endpoint in rows) == answered
    assert len({seq for seq, _, _ in rows}) == len(rows)


class GatedStore(EmbeddedStore):
    """A real embedded store whose cluster listing waits until the test opens the gate: a costly request
    that stays in flight for as long as the test needs, without timing anything."""

    gate = threading.Event()

    def run(self, query: NamedQuery, params: Any = None) -> list[dict[str, Any]]:
        if query == LIST_CLUSTERS:
            assert self.gate.wait(timeout=30), "the test never opened the gate"
        return super().run(query, params)


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[Served]:
    GatedStore.gate.clear()
    try:
        yield from _serve(tmp_path, GatedStore)
    finally:
        GatedStore.gate.set()


def _costs(served: Served) -> CostLimits:
    costs: CostLimits = served.app.state.services.costs
    return costs


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1200):  # 30 s: a bound for a busy machine, not a measure
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the server never reached the expected state")


def test_costly_requests_of_one_token_do_not_hold_up_other_callers(gated: Served) -> None:
    """40 cluster listings at once from one marketing token: two run, 38 are refused at once (429); the global
    cap refuses further costly work of other tokens (503); a manager's customer 360s all succeed meanwhile."""

    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {gated.tokens[who]}"}

    async def scenario() -> tuple[list[httpx.Response], list[httpx.Response], list[int], list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=gated.base_url, timeout=30) as client:
            flood = [
                asyncio.ensure_future(client.get("/api/v1/clusters", headers=auth("marketing"))) for _ in range(40)
            ]
            await _until(lambda: sum(task.done() for task in flood) == 38)
            assert _costs(gated).running() == 2
            others = await asyncio.gather(
                *(client.get("/api/v1/customers/p1", headers=auth("manager")) for _ in range(20))
            )
            second = [asyncio.ensure_future(client.get("/api/v1/clusters", headers=auth("risk"))) for _ in range(2)]
            await _until(lambda: _costs(gated).running() == 4)
            busy = await client.get("/api/v1/guarantee-circles", headers=auth("admin"))
            cheap = (await client.get("/api/v1/products", headers=auth("marketing"))).status_code
            GatedStore.gate.set()
            return (
                await asyncio.gather(*flood),
                others,
                [cheap, busy.status_code],
                [busy, *await asyncio.gather(*second)],
            )

    flood, others, (cheap, busy_status), (busy, *second) = asyncio.run(scenario())
    statuses = Counter(response.status_code for response in flood)
    assert statuses == {200: 2, 429: 38}
    for refused in (response for response in flood if response.status_code == 429):
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) >= 1
        assert "costly requests" in refused.json()["detail"]
    assert [response.status_code for response in others] == [200] * 20
    assert cheap == 200  # only costly endpoints are counted
    assert busy_status == 503 and int(busy.headers["retry-after"]) >= 1
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert [response.status_code for response in second] == [200, 200]
    assert _costs(gated).running() == 0


def test_an_abandoned_costly_request_is_answered_at_once_but_holds_its_place_until_its_work_ends(gated: Served) -> None:
    """Work that never checks for cancellation (the gated store blocks without a check) keeps its place until
    it returns, so that abandoning and retrying cannot pile work up."""
    headers = {"Authorization": f"Bearer {gated.tokens['marketing']}"}

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=gated.base_url, timeout=30) as client:
            abandoned = asyncio.ensure_future(client.get("/api/v1/clusters", headers=headers))
            await _until(lambda: _costs(gated).running() == 1)
            abandoned.cancel()  # the client closes its connection
            metrics = gated.base_url + "/api/v1/metrics"
            await _until(lambda: 'clusters",status="499"' in httpx.get(metrics).text)
            # The worker thread cannot be killed: its place stays taken until the store returns.
            assert _costs(gated).running() == 1
            GatedStore.gate.set()
            await _until(lambda: _costs(gated).running() == 0)
            assert (await client.get("/api/v1/clusters", headers=headers)).status_code == 200

    asyncio.run(scenario())


class CheckingStore(EmbeddedStore):
    """A real embedded store whose cluster listing runs until the test opens the gate, checking for cancellation
    as it goes, as the long loops of the queries do (``graph.cancellation``)."""

    gate = threading.Event()
    entered = threading.Event()
    stopped = threading.Event()

    def run(self, query: NamedQuery, params: Any = None) -> list[dict[str, Any]]:
        if query == LIST_CLUSTERS:
            self.entered.set()
            try:
                while not self.gate.wait(timeout=0.01):
                    checkpoint()
            except WorkCancelled:
                self.stopped.set()
                raise
        return super().run(query, params)


def _checking(directory: Path, **overrides: Any) -> Iterator[Served]:
    CheckingStore.gate.clear()
    CheckingStore.entered.clear()
    CheckingStore.stopped.clear()
    try:
        yield from _serve(directory, CheckingStore, **overrides)
    finally:
        CheckingStore.gate.set()


@pytest.fixture
def checking(tmp_path: Path) -> Iterator[Served]:
    yield from _checking(tmp_path)


@pytest.fixture
def checking_briefly(tmp_path: Path) -> Iterator[Served]:
    """The same, with a store timeout far shorter than the gate stays closed."""
    yield from _checking(tmp_path, api_store_timeout_seconds=0.5)


def test_an_abandoned_costly_request_stops_its_work_and_gives_its_place_back(checking: Served) -> None:
    """The client disconnects: the work stops at its next check, without the gate ever opening."""
    headers = {"Authorization": f"Bearer {checking.tokens['marketing']}"}

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=checking.base_url, timeout=30) as client:
            abandoned = asyncio.ensure_future(client.get("/api/v1/clusters", headers=headers))
            await _until(CheckingStore.entered.is_set)  # the work runs in its thread
            abandoned.cancel()  # the client closes its connection
            await _until(CheckingStore.stopped.is_set)
            await _until(lambda: _costs(checking).running() == 0)
            assert not CheckingStore.gate.is_set()
            CheckingStore.gate.set()
            assert (await client.get("/api/v1/clusters", headers=headers)).status_code == 200

    asyncio.run(scenario())


def test_costly_work_past_its_deadline_is_answered_503_and_stops(checking_briefly: Served) -> None:
    headers = {"Authorization": f"Bearer {checking_briefly.tokens['marketing']}"}
    late = httpx.get(f"{checking_briefly.base_url}/api/v1/clusters", headers=headers, timeout=30)
    assert late.status_code == 503 and late.headers["content-type"].startswith("application/problem+json")
    asyncio.run(_until(lambda: _costs(checking_briefly).running() == 0))
    assert not CheckingStore.gate.is_set()
    # On a busy machine the deadline may pass before a thread takes the work; then it never starts at all.
    assert CheckingStore.stopped.is_set() or not CheckingStore.entered.is_set()


def _schema() -> schemathesis.schemas.BaseSchema:
    # The schema is the app's own; building the app needs no store.
    from graph.settings import Settings

    return schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())  # type: ignore[call-arg]


schema = _schema()


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_conformance(case: schemathesis.Case, served: Served) -> None:
    """As admin: no 5xx, and every answer matches the documented schema."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    response = case.call(base_url=served.base_url, headers={"Authorization": f"Bearer {served.tokens['admin']}"})
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
    assert not clear_identifiers(response.text)
