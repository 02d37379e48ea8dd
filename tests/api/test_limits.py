"""Cost limits: how many costly requests run at once, per token and in all, and when a place is given back."""

from __future__ import annotations

import pytest

from api.errors import RateLimited, ServerBusy
from api.limits import CostLimits


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
