"""The one place that turns errors into RFC 9457 ``application/problem+json`` responses.

The table :data:`STATUS` maps the exception tree (``graph.errors`` and ``api.errors``) to HTTP statuses;
the most specific class wins. Request validation errors become 422 problems that name the offending
parameter but never echo its value. Anything else becomes a bare 500: no stack trace, Cypher or
personal data ever reaches a client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.audit import audit_refusal
from api.errors import (
    ApiError,
    ClientClosedRequest,
    NotAuthenticated,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerBusy,
)
from graph.errors import (
    ConfigurationError,
    CrmGraphError,
    InvalidBatch,
    InvalidRequest,
    NotFound,
    StoreError,
    StoreUnavailable,
)

PROBLEM_JSON = "application/problem+json"
CLIENT_CLOSED_REQUEST = 499
"""Not an IANA status: the one proxies (nginx) log for a request its client gave up on. Nobody reads the answer;
the status is there for the metrics and the access log."""
log = logging.getLogger("crm_graph.api")

STATUS: dict[type[CrmGraphError], int] = {
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    PayloadTooLarge: 413,
    InvalidRequest: 422,
    InvalidBatch: 422,
    RateLimited: 429,
    ClientClosedRequest: CLIENT_CLOSED_REQUEST,
    ServerBusy: 503,
    StoreUnavailable: 503,
    StoreError: 500,
    ConfigurationError: 500,
    CrmGraphError: 500,
}
"""Status of each error class; an error takes the entry of its nearest class in this table."""

# Texts of errors whose message may say more than a client should know.
_GENERIC_DETAIL = {
    500: "the server could not answer this request",
    503: "the store is not available; try again later",
}


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(examples=["https://crm-graph.example/problems/not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["customer not found"])


def status_of(error: CrmGraphError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def _title(status: int) -> str:
    return "Client Closed Request" if status == CLIENT_CLOSED_REQUEST else HTTPStatus(status).phrase


def problem_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    title = _title(status)
    slug = title.lower().replace(" ", "-")
    body = Problem(type=f"https://crm-graph.example/problems/{slug}", title=title, status=status, detail=detail)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_for(error: CrmGraphError) -> JSONResponse:
    """The problem response for one of our errors."""
    status = status_of(error)
    headers: dict[str, str] = {}
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="crm-graph"'
    if isinstance(error, RateLimited | ServerBusy):
        headers["Retry-After"] = str(error.retry_after)
    if status in _GENERIC_DETAIL and not isinstance(error, ApiError):
        if status == 500:
            log.error("internal error: %s", type(error).__name__)
        detail = _GENERIC_DETAIL[status]
    else:
        # Messages of the tree name the parameter or row but never personal data (see graph.errors).
        detail = str(error)
    return problem_response(status, detail, headers)


def _validation_detail(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body") or "request"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    """Register the handlers that make every error a problem response."""

    async def on_ours(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CrmGraphError)
        response = problem_for(error)
        await audit_refusal(request, response.status_code)
        return response

    async def on_validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return problem_response(422, _validation_detail(error))

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 400:
            # FastAPI's answer to a body that is not JSON: as invalid as any other bad input, so 422 like the rest.
            return problem_response(422, "the request body is not valid JSON")
        detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        return problem_response(error.status_code, detail, dict(error.headers or {}))

    async def on_anything(request: Request, error: Exception) -> JSONResponse:
        log.error("unexpected %s on %s", type(error).__name__, request.url.path)
        return problem_response(500, _GENERIC_DETAIL[500])

    app.add_exception_handler(CrmGraphError, on_ours)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_anything)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problems an endpoint may answer."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
