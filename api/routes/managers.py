"""Managers, their portfolios, and guarantee circles (risk)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import Cursor, PageSize, RequestContext, context_for
from api.errors import PermissionDenied
from api.group_models import GuaranteeCirclePage, GuaranteeCirclePublic, SizeCountPublic
from api.models import (
    AtRiskPublic,
    FollowUpPublic,
    ManagerPage,
    ManagerPublic,
    OpportunityPublic,
    PortfolioPublic,
)
from api.planned_route import PlannedRoute
from api.problems import problem_responses
from api.routes import PREFIX
from api.routes.customers import as_shown, evidence_ties, why
from api.shaping import public_naming, summary_fields
from graph.errors import NotFound
from graph.model import NodeLabel
from queries.accounts import product_names
from queries.circle_pages import CircleOrder, guarantee_circle_page
from queries.naming import circle_names
from queries.portfolio import ManagerSummary, manager_portfolio
from queries.portfolio import list_managers as list_managers_of

router = APIRouter(prefix=PREFIX, tags=["managers"], route_class=PlannedRoute)


def _manager(manager: ManagerSummary) -> ManagerPublic:
    return ManagerPublic(
        id=manager.id,
        name=manager.name,
        employee_no=manager.employee_no,
        branch_id=manager.branch_id,
        customers=manager.book_size,
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
        managers = [_manager(manager) for manager in list_managers_of(ctx.store)]
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
        result = manager_portfolio(
            ctx.store,
            manager_id,
            as_of=ctx.services.settings.analytics.as_of,
            top=top,
            risk_threshold=risk_threshold,
            settings=ctx.services.settings.analytics,
        )
        # The book of a manager is his to see; the check is the one every customer read makes all the same.
        at_risk = [customer for customer in result.at_risk if ctx.sees(customer.id)]
        follow_ups = [
            FollowUpPublic(
                interaction_id=item.interaction_id,
                customer_id=item.customer_id,
                customer_name=ctx.display_name({"id": item.customer_id, "name": item.customer_name}),
                channel=item.channel,
                due=item.due,
                days_overdue=item.days_overdue,
            )
            for item in result.overdue_follow_ups
            if ctx.sees(item.customer_id)
        ]
        found = [item for item in result.opportunities if ctx.sees(item.customer_id)]
        names = product_names(ctx.store, [item.product_id for item in found])
        opportunities = []
        for item in found:
            parts, evidence = as_shown(ctx, item.parts, item.evidence)
            opportunities.append(
                OpportunityPublic(
                    customer_id=item.customer_id,
                    customer_name=ctx.display_name({**ctx.stored_fields(item.customer_id), "name": item.customer_name}),
                    product_code=item.product_id,
                    product_name=names.get(item.product_id),
                    score=item.score,
                    parts=parts,
                    evidence_ties=evidence_ties(evidence),
                    why=why(parts, evidence),
                )
            )
        ctx.audit(
            "get_portfolio",
            [customer.id for customer in at_risk]
            + [f.customer_id for f in follow_ups]
            + [o.customer_id for o in opportunities],
        )
        return PortfolioPublic(
            manager=_manager(result.manager),
            as_of=result.as_of,
            customers=result.customers,
            by_tier=result.by_tier,
            by_lifecycle_stage=result.by_lifecycle_stage,
            risk_threshold=result.risk_threshold,
            at_risk=[
                AtRiskPublic(
                    **ctx.public(summary_fields(customer)).model_dump(),
                    value=customer.value,
                    expected_loss=customer.expected_loss,
                )
                for customer in at_risk
            ],
            at_risk_total=result.at_risk_total,
            overdue_follow_ups=follow_ups,
            overdue_total=result.overdue_total,
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
    order: Annotated[
        CircleOrder,
        Query(description="`ring`: by number of members, then members; `exposure`: the largest amount first."),
    ] = "ring",
) -> GuaranteeCirclePage:
    """Cycles of customers guaranteeing each other's obligations: a concentrated credit risk. Each circle is
    named after its company group or its largest guarantor, with the evidence; every page says how many circles
    there are of each number of members."""
    size = ctx.page_size(page_size)
    binding = f"guarantee-circles:{order}"
    offset = ctx.services.cursors.decode(cursor, binding)

    def work() -> GuaranteeCirclePage:
        # One more than the page, so that the cursor knows whether a next page exists.
        found = guarantee_circle_page(ctx.store, order=order, skip=offset, limit=size + 1)
        chunk, following = ctx.services.cursors.page_from(found.circles, offset, size, binding)
        shown: list[str] = []
        items = []
        for circle, naming in zip(chunk, circle_names(ctx.store, chunk), strict=True):
            members = [ctx.related(ctx.stored_fields(member), "GUARANTEES") for member in circle.members]
            shown.extend(member.customer.id for member in members if member.customer)
            named = public_naming(naming, ctx.node_ref)
            shown.extend(t.customer.id for t in named.traits if t.customer and not t.customer.stub)
            items.append(GuaranteeCirclePublic(members=members, naming=named, total_exposure=circle.total_exposure))
        ctx.audit("list_guarantee_circles", list(dict.fromkeys(shown)))
        sizes = [SizeCountPublic(size=row.size, count=row.count) for row in found.sizes]
        return GuaranteeCirclePage(items=items, next_cursor=following, total=found.total, sizes=sizes)

    return await ctx.run(work)
