"""The HTTP API: ``create_app(settings)`` builds it; the store opens in the lifespan.

All routes live under ``/api/v1``. Middleware, outermost first: metrics (counts every answer, 413s and
429s included), then the body-size cap (refuses before anything parses the body), then ``Cache-Control:
no-store`` on every answer under ``/api/v1`` (they carry personal data, or say who may see it). Errors become
RFC 9457 problems in :mod:`api.problems`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.models import HTTPBearer

from api import docs_page, explorer, problems
from api.audit import AuditLog
from api.deps import Services
from api.limits import BodyLimit, CostLimits, TokenBuckets
from api.metrics import Metrics, MetricsMiddleware
from api.no_store import NoStore
from api.pagination import Cursors
from api.routes import PREFIX, customers, managers, marketing, system
from api.tokens import TokenRegistry
from graph.errors import ConfigurationError
from graph.factory import open_store
from graph.settings import Settings
from graph.store import GraphStore
from loaders.identifiers import keyed_hash

DESCRIPTION = """
The bank's customer relationship graph over HTTP.

* **Authentication**: `Authorization: Bearer <token>`; tokens come from `crm-graph token issue`.
* **Who sees what**: see `api/access.py` — a manager sees his own book in full; other customers reached
  through a tie appear as masked stubs, and asked for directly they do not exist (404).
* **Masking**: personal fields are masked by default. `?unmask=true&purpose=...&reason=...` needs the
  `pii:unmask` permission, a configured purpose and a reason without identifying numbers; it is audited.
* **Errors**: RFC 9457 `application/problem+json`.
* **Lists**: `page_size` (at most 200) and an opaque `cursor` taken from `next_cursor`.
"""


def api_secret(settings: Settings) -> bytes:
    """The secret stub ids and cursors derive from: the configured one, else a random one for this app.

    It is apart from the PII key: that one may never change after a load, while this one is rotated
    by setting a new value (old cursors then answer 422, stub ids change; nothing stored depends on it).
    """
    problem = settings.api_secret_problem()
    if problem:
        raise ConfigurationError(problem)
    if settings.api_secret_key is None:
        return secrets.token_bytes(32)
    return settings.api_secret_key.get_secret_value().encode()


def _derived_key(secret: bytes, purpose: str) -> bytes:
    # Each use gets its own key, so that a value made for one purpose is worthless for the other.
    return keyed_hash("api", secret, purpose=purpose).encode()


def _store_settings(settings: Settings) -> Settings:
    """The store's own time limit ends where the API's does: past it the request has had its 503, and a
    transaction (or its retries) going on for it would be work nobody waits for."""
    limit = min(settings.neo4j_timeout_seconds, settings.api_store_timeout_seconds)
    return settings.model_copy(update={"neo4j_timeout_seconds": limit})


def document_bearer_tokens(app: FastAPI) -> None:
    """Say in the OpenAPI document that every endpoint which can answer 401 takes ``Authorization: Bearer``.

    :func:`api.deps.authenticate` reads the header itself instead of through FastAPI's ``HTTPBearer``
    dependency (cheaper per request), so the scheme is added to the document here, in one place.
    """
    build = app.openapi
    scheme = HTTPBearer(description="An API token issued with `crm-graph token issue`.")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {})["securitySchemes"] = {
                "HTTPBearer": scheme.model_dump(mode="json", by_alias=True, exclude_none=True)
            }
            for operations in document["paths"].values():
                for operation in operations.values():
                    if "401" in operation.get("responses", {}):
                        operation["security"] = [{"HTTPBearer": []}]
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings, store: GraphStore | None = None) -> FastAPI:
    """The API over ``store`` (left open at shutdown) or over the store ``settings`` names (opened here)."""
    secret = api_secret(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        opened = open_store(_store_settings(settings)) if store is None else store
        tokens = TokenRegistry(settings.api_tokens_path, token_days=settings.api_token_days)
        audit = AuditLog(settings.api_audit_path)
        app.state.services = Services(
            settings=settings,
            store=opened,
            tokens=tokens,
            audit=audit,
            buckets=TokenBuckets(settings.api_rate_per_second, settings.api_rate_burst),
            failed_authentications=TokenBuckets(settings.api_auth_failure_per_second, settings.api_auth_failure_burst),
            costs=CostLimits(settings.api_costly_per_token, settings.api_costly_total),
            cursors=Cursors(_derived_key(secret, "api-cursor")),
            mask_key=_derived_key(secret, "api-stub"),
            store_threads=anyio.CapacityLimiter(settings.api_store_threads),
        )
        try:
            yield
        finally:
            tokens.close()
            audit.close()
            if owned:
                opened.close()

    app = FastAPI(
        title="crm-graph",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # served by api.docs_page from the installed Swagger UI, not from a CDN
        redoc_url=None,
        # No redirect from /path/ to /path: Starlette builds its Location from the Host header.
        redirect_slashes=False,
    )
    app.state.metrics = Metrics()
    problems.install(app)
    for router in (system.router, customers.router, marketing.router, managers.router):
        app.router.routes.extend(router.routes)  # not include_router: see api.routes.PREFIX
    document_bearer_tokens(app)
    explorer.install(app)
    docs_page.install(app, f"{PREFIX}/docs", f"{PREFIX}/openapi.json")
    app.add_middleware(NoStore, prefix=PREFIX)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
