"""Cost limits: what a request spends of its token's budget, how many costly requests run at once, per token
and in all, and when a place is given back."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from api.access import ENDPOINTS
from api.app import create_app
from api.errors import RateLimited, ServerBusy
from api.limits import COSTLY_ENDPOINTS, REQUEST_COSTS, CostLimits, TokenBuckets
from api.routes import customers, managers, marketing, system
from graph.store import GraphStore
from tests.api.conftest import CheckedClient, api_settings_for, auth, issue_tokens

V1 = "/api/v1"


def test_a_request_spends_its_cost_and_a_cost_above_the_burst_spends_the_burst() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=40, clock=lambda: now[0])
    buckets.take("a", cost=20)
    buckets.take("a", cost=20)
    with pytest.raises(RateLimited) as refused:
        buckets.take("a", cost=20)
    assert refused.value.retry_after == 10  # 20 requests' worth at 2 a second
    buckets.take("b", cost=1000)  # never refused for good: it waits for a full bucket
    with pytest.raises(RateLimited):
        buckets.take("b")
    now[0] = 20.0
    buckets.take("b", cost=1000)


def test_every_costly_endpoint_is_a_route_and_has_a_cost() -> None:
    # A route renamed without its cost would no longer be counted as costly.
    routers = (customers.router, managers.router, marketing.router, system.router)
    routes = {route.name for router in routers for route in router.routes if isinstance(route, APIRoute)}
    costly = set(REQUEST_COSTS)
    assert costly == COSTLY_ENDPOINTS
    assert costly <= routes and costly <= set(ENDPOINTS)
    assert all(1 < cost <= 20 for cost in REQUEST_COSTS.values())


def test_costly_requests_spend_one_token_budget_faster_and_leave_other_tokens_theirs(
    tmp_path: Path, bank: GraphStore
) -> None:
    settings = api_settings_for(tmp_path, api_rate_burst=40, api_rate_per_second=0.001)
    tokens = issue_tokens(settings)
    with CheckedClient(create_app(settings, bank)) as client:
        client.bodies = []
        listings = [client.get(f"{V1}/clusters", headers=auth(tokens["marketing"])) for _ in range(25)]
        allowed = 40 // REQUEST_COSTS["list_clusters"]
        assert [r.status_code for r in listings] == [200] * allowed + [429] * (25 - allowed)
        assert listings[-1].headers["content-type"].startswith("application/problem+json")
        assert client.get(f"{V1}/products", headers=auth(tokens["marketing"])).status_code == 429
        assert client.get(f"{V1}/clusters", headers=auth(tokens["risk"])).status_code == 200


def test_a_token_gets_at_most_its_share_and_all_tokens_at_most_the_total() -> None:
    limits = CostLimits(per_token=2, total=3)
    first, second = limits.admit("a"), limits.admit("a")
    with pytest.raises(RateLimited) as refused:
        limits.admit("a")
    assert refused.value.retry_after >= 1 and "2 costly requests" in str(refused.value)
    third = limits.admit("b")
    with pytest.raises(ServerBusy):
        limits.admit("c")
    assert (limits.running(), limits.running("a"), limits.running("b")) == (3, 2, 1)
    for place in (first, second, third):
        place.close()
    assert limits.running() == 0


def test_work_that_ran_gives_its_place_back_once_whatever_the_request_does() -> None:
    limits = CostLimits(per_token=1, total=1)
    place = limits.admit("a")
    assert place.run(lambda: 42) == 42
    assert limits.running() == 0
    place.close()  # the request ends after its work: nothing more to give back
    assert limits.running() == 0
    assert limits.admit("a") is not None


def test_work_still_running_keeps_its_place_after_its_request_ends() -> None:
    limits = CostLimits(per_token=1, total=1)
    place = limits.admit("a")

    def work() -> str:
        place.close()  # the client went away while the worker thread still works
        assert limits.running("a") == 1
        return "done"

    assert place.run(work) == "done"
    assert limits.running() == 0


def test_work_that_never_started_is_given_back_by_its_request_and_does_not_run_late() -> None:
    limits = CostLimits(per_token=1, total=1)
    place = limits.admit("a")
    place.close()
    assert limits.running() == 0
    ran = []
    with pytest.raises(ServerBusy):
        place.run(lambda: ran.append(1))
    assert ran == [] and limits.running() == 0
