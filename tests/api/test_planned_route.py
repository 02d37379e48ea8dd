"""PlannedRoute answers every request exactly as FastAPI's own handler does, valid or not."""

from __future__ import annotations

import enum
import warnings
from typing import Annotated, Literal

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.app import create_app
from api.planned_route import PlannedRoute
from graph.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class Colour(enum.StrEnum):
    RED = "RED"
    BLUE = "BLUE"


class Answer(BaseModel):
    caller: str
    item: str
    depth: int
    colours: list[str]
    flag: bool
    note: str | None


async def caller(
    request: Request,
    loud: Annotated[bool, Query()] = False,
    why: Annotated[str | None, Query(max_length=5)] = None,
) -> str:
    token = request.headers.get("x-token")
    if token is None:
        raise HTTPException(status_code=401, detail="no token")
    return f"{token}:{loud}:{why}"


def build(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(prefix="/items", route_class=route_class)

    @router.get("/{item_id}")
    async def get_item(
        who: Annotated[str, Depends(caller)],
        item_id: Annotated[str, Path(min_length=2, max_length=6)],
        depth: Annotated[int, Query(ge=1, le=3)] = 1,
        colours: Annotated[list[Colour | Literal["ANY"]] | None, Query()] = None,
        flag: bool = False,
        note: Annotated[str | None, Query(max_length=3)] = None,
    ) -> Answer:
        return Answer(
            caller=who,
            item=item_id,
            depth=depth,
            colours=[str(colour) for colour in colours or []],
            flag=flag,
            note=note,
        )

    @router.get("/{item_id}/needs")
    async def needs(who: Annotated[str, Depends(caller)], item_id: str, size: Annotated[int, Query()]) -> Answer:
        return Answer(caller=who, item=item_id, depth=size, colours=[], flag=False, note=None)

    app = FastAPI()
    app.include_router(router)
    return app


REQUESTS = [
    "/items/ab",
    "/items/ab?depth=3&flag=true&note=abc&loud=1&why=case",
    "/items/ab?colours=RED&colours=ANY&colours=BLUE",
    "/items/ab?colours=GREEN",  # not a colour: 422
    "/items/ab?depth=4",  # out of range
    "/items/ab?depth=two",
    "/items/a",  # path too short
    "/items/ab?note=abcd",
    "/items/ab?flag=maybe",
    "/items/ab?why=toolong",  # the dependency's own parameter
    "/items/ab?depth=2&depth=3",  # the last value counts, as in FastAPI
    "/items/ab?unknown=1",
    "/items/ab/needs",  # a required parameter missing
    "/items/ab/needs?size=2",
    "/items/ab/needs?size=",
]


@pytest.mark.parametrize("token", ["t1", None])
def test_planned_route_answers_as_fastapi_does(token: str | None) -> None:
    headers = {"x-token": token} if token else {}
    with TestClient(build(APIRoute)) as general, TestClient(build(PlannedRoute)) as planned:
        for url in REQUESTS:
            expected = general.get(url, headers=headers)
            got = planned.get(url, headers=headers)
            assert (got.status_code, got.headers.get("content-type"), got.content) == (
                expected.status_code,
                expected.headers.get("content-type"),
                expected.content,
            ), url
    # Without a token the dependency's 401 comes first, as FastAPI solves it before the endpoint's parameters.
    if token is None:
        with TestClient(build(PlannedRoute)) as planned:
            assert planned.get("/items/ab?depth=9").status_code == 401


def test_the_api_data_routes_are_planned() -> None:
    # Every GET of the API is planned but the ones that answer other than JSON models (metrics, the audit page's
    # exports); a route falling back to FastAPI's solving for good would only be slower, so this pins it.
    app = create_app(Settings())
    planned = {
        route.path
        for route in app.routes
        if isinstance(route, PlannedRoute) and route.get_route_handler().__qualname__.startswith("PlannedRoute")
    }
    for path in (
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/network",
        "/api/v1/customers/{customer_id}/household",
        "/api/v1/customers/{customer_id}/recommendations",
        "/api/v1/customers/{customer_id}/churn-risk",
        "/api/v1/customers",
        "/api/v1/me",
    ):
        assert path in planned
