"""Health, readiness, metrics, the audit log and the model card."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.audit import search_term_hash
from api.deps import Cursor, PageSize, RequestContext, ServicesDep, authenticate, context_for
from api.models import AuditPage, HealthPublic, MePublic, ModelsPublic, ReadyPublic
from api.planned_route import PlannedRoute
from api.problems import problem_responses
from api.routes import PREFIX
from graph.errors import NotFound
from queries.analytics.model_card import ModelCard, read_model_card

router = APIRouter(prefix=PREFIX, tags=["operations"], route_class=PlannedRoute)


@router.get("/health", summary="Liveness")
async def health() -> HealthPublic:
    """The process answers. Says nothing about the store (see /ready)."""
    return HealthPublic(status="ok")


@router.get("/ready", summary="Readiness", responses=problem_responses(503))
async def ready(services: ServicesDep) -> ReadyPublic:
    """The store answered a ping within the store timeout; the answer is at most a second old."""
    await services.readiness.check(services.store.ping, services.settings.api_store_timeout_seconds)
    return ReadyPublic(status="ready", backend=services.store.backend.value)


@router.get("/me", summary="The caller's token", responses=problem_responses(401, 429))
async def me(request: Request) -> MePublic:
    """The role, manager and permissions of the token making the request."""
    principal = authenticate(request)
    return MePublic(
        name=principal.name,
        role=principal.role.value,
        manager_id=principal.manager_id,
        permissions=sorted(p.value for p in principal.permissions),
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route template and status, in the Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/audit", summary="Audit log", responses=problem_responses(401, 403, 422, 429, 503))
async def list_audit(
    ctx: Annotated[RequestContext, Depends(context_for("list_audit"))],
    customer_id: Annotated[str | None, Query(max_length=64, description="Only reads of this customer.")] = None,
    actor: Annotated[
        str | None, Query(max_length=100, description="Token name, token id or manager id of the reader.")
    ] = None,
    since: Annotated[datetime | None, Query(description="Only records at or after this time (ISO 8601).")] = None,
    search_term: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only searches for this text (matched by hash).")
    ] = None,
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> AuditPage:
    """Audited reads of customer data, oldest first, refused reads (403, 404) included. Admin only; the log
    itself cannot be changed.

    ``customer_id`` answers a data-subject access request: every read that showed the customer, in full or
    as a stub (a relative in another book's network, a cluster's central member, an evidence path), and
    every refused attempt to read it."""
    size = ctx.page_size(page_size)
    term_hash = None if search_term is None else search_term_hash(search_term, ctx.services.audit_key)
    binding = f"audit:{customer_id}:{actor}:{since}:{term_hash}"
    after = ctx.services.cursors.decode(cursor, binding)
    records = await ctx.run(
        lambda: ctx.services.audit.query(
            customer_id=customer_id,
            actor=actor,
            since=since,
            search_term_hash=term_hash,
            after_seq=after,
            limit=size + 1,
        )
    )
    following = ctx.services.cursors.encode(records[size - 1].seq, binding) if len(records) > size else None
    return AuditPage(items=records[:size], next_cursor=following)


@router.get("/models", summary="The analytics' models", responses=problem_responses(401, 403, 422, 429))
async def get_models(ctx: Annotated[RequestContext, Depends(context_for("get_models"))]) -> ModelsPublic:
    """Which churn model ``crm-graph analyze`` used: fitted (on which months, with its tie-type weights and
    backtest) or the hand-set defaults and why; and which cross-sell model the live answers score with.
    Risk and admin only."""
    try:
        card = read_model_card(ctx.services.settings.model_card_path)
    except NotFound:
        card = ModelCard(model="none", reason="crm-graph analyze has not run on this store yet")
    return ModelsPublic(churn=card.model_copy(update={"cross_sell": None}), cross_sell=card.cross_sell)
