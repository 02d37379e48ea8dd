"""Managers, their portfolios, and guarantee circles (risk)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api import wiring
from api.deps import Cursor, PageSize, RequestContext, context_for
from api.errors import PermissionDenied
from api.models import (
    AtRiskPublic,
    FollowUpPublic,
    GuaranteeCirclePage,
    GuaranteeCirclePublic,
    ManagerPage,
    ManagerPublic,
    OpportunityPublic,
    PortfolioPublic,
)
from api.problems import problem_responses
from api.routes.customers import as_shown, why
from api.shaping import customer_fields, product_names
from api.wiring import flatten, items_of, plain
from graph.errors import NotFound
from graph.model import NodeLabel

router = APIRouter(tags=["managers"])


def _manager(item: Any) -> ManagerPublic:
    value = plain(item)
    fields = flatten(value) if isinstance(value, dict) else {"id": str(value)}
    customers = fields.get("customers")
    if isinstance(customers, list):
        customers = len(customers)
    if customers is None:
        customers = fields.get("book_size", fields.get("customer_count"))
    employee_no = fields.get("employee_no")
    return ManagerPublic(
        id=str(fields.get("id") or fields.get("manager_id")),
        name=fields.get("name"),
        employee_no=None if employee_no is None else str(employee_no),
        branch_id=fields.get("branch_id") or fields.get("branch"),
        customers=customers if isinstance(customers, int) and not isinstance(customers, bool) else None,
    )


@router.get("/managers", summary="Relationship managers", responses=problem_responses(401, 403, 422, 429, 503))
async def list_managers(
    ctx: Annotated[RequestContext, Depends(context_for("list_managers"))],
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> ManagerPage:
    """Every manager, with branch and book size."""
    size = ctx.page_size(page_size)
    offset = ctx.services.cursors.decode(cursor, "managers")

    def work() -> ManagerPage:
        managers = [_manager(item) for item in items_of(wiring.call("list_managers", ctx.store), "managers", "items")]
        chunk, following = ctx.services.cursors.page(managers, offset, size, "managers")
        return ManagerPage(items=chunk, next_cursor=following)

    return await ctx.run(work)


@router.get(
    "/managers/{manager_id}/portfolio",
    summary="A manager's book",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def get_portfolio(
    ctx: Annotated[RequestContext, Depends(context_for("get_portfolio"))],
    manager_id: Annotated[str, Path(min_length=1, max_length=64, examples=["m1"])],
    top: Annotated[int, Query(ge=1, le=200, description="How many of the most at-risk customers to list.")] = 10,
    risk_threshold: Annotated[
        float, Query(ge=0.0, le=1.0, description="The churn risk from which a customer counts as at risk.")
    ] = 0.6,
) -> PortfolioPublic:
    """The customers a manager looks after, in summary. Managers see only their own portfolio."""
    if not ctx.principal.may_see_portfolio(manager_id):
        raise PermissionDenied("a manager may see only his own portfolio")

    def work() -> PortfolioPublic:
        if ctx.store.get_node(NodeLabel.MANAGER, manager_id) is None:
            raise NotFound(f"manager {manager_id!r} not found")
        result = plain(
            wiring.call(
                "manager_portfolio",
                ctx.store,
                manager_id,
                today=date.today(),
                top=top,
                risk_threshold=risk_threshold,
                settings=ctx.services.settings.analytics,
            )
        )
        # The book of a manager is his to see; the check is the one every customer read makes all the same.
        at_risk = [
            fields for fields in map(customer_fields, items_of(result, "at_risk")) if ctx.sees(str(fields["id"]))
        ]
        follow_ups = [
            FollowUpPublic(
                interaction_id=str(item.get("interaction_id")),
                customer_id=str(item.get("customer_id")),
                customer_name=ctx.display_name({"id": item.get("customer_id"), "name": item.get("customer_name")}),
                channel=item.get("channel"),
                due=str(item.get("due")),
                days_overdue=int(item.get("days_overdue") or 0),
            )
            for item in items_of(result, "overdue_follow_ups")
            if ctx.sees(str(item.get("customer_id")))
        ]
        found = [item for item in items_of(result, "opportunities") if ctx.sees(str(item.get("customer_id")))]
        names = product_names(ctx.store, [str(item.get("product_id")) for item in found])
        opportunities = [
            OpportunityPublic(
                customer_id=str(item.get("customer_id")),
                customer_name=ctx.display_name(
                    {**customer_fields(str(item.get("customer_id")), ctx.store), "name": item.get("customer_name")}
                ),
                product_code=str(item.get("product_id")),
                product_name=names.get(str(item.get("product_id"))),
                score=float(item.get("score") or 0.0),
                why=why(as_shown(ctx, item)),
            )
            for item in found
        ]
        ctx.audit(
            "get_portfolio",
            [str(f.get("id")) for f in at_risk]
            + [f.customer_id for f in follow_ups]
            + [o.customer_id for o in opportunities],
        )
        return PortfolioPublic(
            manager=_manager(result.get("manager") or {"id": manager_id}),
            customers=int(result.get("customers") or 0),
            by_tier=dict(result.get("by_tier") or {}),
            by_lifecycle_stage=dict(result.get("by_lifecycle_stage") or {}),
            risk_threshold=float(result.get("risk_threshold") or 0.0),
            at_risk=[
                AtRiskPublic(
                    **ctx.public(fields).model_dump(),
                    value=float(fields.get("value") or 0.0),
                    expected_loss=float(fields.get("expected_loss") or 0.0),
                )
                for fields in at_risk
            ],
            at_risk_total=int(result.get("at_risk_total") or 0),
            overdue_follow_ups=follow_ups,
            overdue_total=int(result.get("overdue_total") or 0),
            opportunities=opportunities,
        )

    return await ctx.run(work)


@router.get(
    "/guarantee-circles",
    summary="Guarantee circles",
    responses=problem_responses(401, 403, 422, 429, 503),
)
async def list_guarantee_circles(
    ctx: Annotated[RequestContext, Depends(context_for("list_guarantee_circles"))],
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> GuaranteeCirclePage:
    """Cycles of customers guaranteeing each other's obligations: a concentrated credit risk."""
    size = ctx.page_size(page_size)
    offset = ctx.services.cursors.decode(cursor, "guarantee-circles")

    def work() -> GuaranteeCirclePage:
        circles = items_of(wiring.call("guarantee_circles", ctx.store, limit=1000), "circles", "items")
        chunk, following = ctx.services.cursors.page(circles, offset, size, "guarantee-circles")
        shown: list[str] = []
        items = []
        for circle in chunk:
            members = [
                ctx.related(customer_fields(member, ctx.store), "GUARANTEES")
                for member in items_of(circle, "members", "customers", "customer_ids", "ids")
            ]
            shown.extend(member.customer.id for member in members if member.customer)
            items.append(GuaranteeCirclePublic(members=members))
        ctx.audit("list_guarantee_circles", shown)
        return GuaranteeCirclePage(items=items, next_cursor=following)

    return await ctx.run(work)
