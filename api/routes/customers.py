"""Customer endpoints: search, 360 view, network, household, group, recommendations, churn risk, interactions."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, status

from api.access import Scope
from api.deps import Cursor, PageSize, RequestContext, context_for
from api.models import (
    BranchTiePublic,
    ChurnContributorPublic,
    ChurnRiskPublic,
    Customer360Public,
    CustomerPage,
    CustomerPathPublic,
    CustomerTieType,
    EvidencePathPublic,
    InteractionCreate,
    InteractionPublic,
    MembersPublic,
    MemberTiePublic,
    NetworkPublic,
    RecommendationPublic,
    RecommendationsPublic,
    ShortestPathsPublic,
    TieDetailsPublic,
)
from api.planned_route import PlannedRoute
from api.problems import problem_responses
from api.routes import PREFIX
from api.shaping import group_member_fields, holding, network_node_fields, number, summary_fields
from graph.errors import InvalidRequest
from graph.model import NodeLabel, TieType
from graph.store import GraphStore
from loaders.free_text import mask_identifiers
from queries.analytics.churn import churn_risk
from queries.analytics.crosssell import EvidencePath, cross_sell_inputs
from queries.as_of import as_of_date
from queries.branches import customer_branches
from queries.customers import customer_360, search_customers_in_scope
from queries.groups import CustomerGroup, corporate_group, household
from queries.network import EgoNetwork, related_customers
from queries.paths import MAX_PATHS, shortest_paths
from queries.portfolio import CHURNED

router = APIRouter(prefix=f"{PREFIX}/customers", tags=["customers"], route_class=PlannedRoute)

CustomerId = Annotated[str, Path(min_length=1, max_length=64, description="The customer's id.", examples=["p1"])]

_COMMON = problem_responses(401, 403, 404, 422, 429, 503)


def _ctx(endpoint: str) -> Any:
    return Depends(context_for(endpoint))


@router.get("", summary="Search customers", responses=problem_responses(401, 403, 422, 429, 503))
async def search_customers(
    ctx: Annotated[RequestContext, _ctx("search_customers")],
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            description="A customer id, the last four digits of a phone, or part of a name (callers who see names).",
        ),
    ],
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> CustomerPage:
    """Customers matching ``q`` among those the caller may see (its book, or the bank), with their total.

    Names are matched only for a caller who sees them in clear (unmasked, or a manager in his own book): one
    who sees masked names must not be able to confirm a full name by finding a customer with it. Every search
    term is audited as a keyed hash.
    """
    size = ctx.page_size(page_size)
    scope = ctx.principal.customer_scope
    manager_id = ctx.principal.manager_id if scope is Scope.BOOK else None
    match_names = ctx.view.unmask or scope is Scope.BOOK  # a manager searches only his book, whose names he sees
    binding = f"search:{q}:{ctx.principal.token_id}:{match_names}"
    offset = ctx.services.cursors.decode(cursor, binding)

    def work() -> CustomerPage:
        found = search_customers_in_scope(
            ctx.store, q, manager_id=manager_id, match_names=match_names, offset=offset, limit=size
        )
        shown = [summary_fields(customer) for customer in found.customers if ctx.sees(customer.id)]
        ctx.audit("search_customers", [str(fields["id"]) for fields in shown], search_term=q)
        following = ctx.services.cursors.encode(offset + size, binding) if offset + size < found.total else None
        return CustomerPage(
            items=[ctx.public(fields) for fields in shown],
            total=found.total,
            names_searched=match_names,
            next_cursor=following,
        )

    return await ctx.run(work)


@router.get("/{customer_id}", summary="Customer 360", responses=_COMMON)
async def get_customer(
    ctx: Annotated[RequestContext, _ctx("get_customer")],
    customer_id: CustomerId,
) -> Customer360Public:
    """Everything about one customer: profile, accounts, managers and relationships."""

    def work() -> Customer360Public:
        with ctx.asking_about(customer_id, book_in_query=True) as book:
            found = customer_360(ctx.store, customer_id, in_book_of=book)
        body = Customer360Public(
            customer=ctx.public({**found.properties, "label": found.kind.value, "id": customer_id}),
            accounts=[holding(item) for item in found.accounts],
            manager_ids=[found.manager.id] if found.manager else [],
            related=[],
            tie_counts=found.tie_counts,
        )
        ctx.audit("get_customer", [customer_id])
        return body

    return await ctx.run(work, cheap=True)


@router.get("/{customer_id}/network", summary="Related customers", responses=_COMMON)
async def get_network(
    ctx: Annotated[RequestContext, _ctx("get_network")],
    customer_id: CustomerId,
    depth: Annotated[int, Query(ge=1, le=3, description="Ties to follow outward, 1 to 3.")] = 1,
    types: Annotated[
        list[CustomerTieType | Literal["BANKED_AT"]] | None,
        Query(
            description="Tie types between customers to follow (all when none is named); BANKED_AT adds the "
            "branches the centre and the customers shown in full bank at."
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Most related customers returned.")] = 50,
) -> NetworkPublic:
    """Customers reached from this one through ties; those the caller may not see appear as stubs."""
    wanted = [tie_type for tie_type in dict.fromkeys(types or []) if isinstance(tie_type, CustomerTieType)]
    with_branches = "BANKED_AT" in (types or [])

    def work() -> NetworkPublic:
        with ctx.asking_about(customer_id):
            found = related_customers(
                ctx.store,
                customer_id,
                depth=depth,
                types=[tie_type.value for tie_type in wanted],
                limit_per_node=limit,
                max_nodes=limit + 1,
            )
        centre = next((node for node in found.nodes if node.id == customer_id), None)
        others = [node for node in found.nodes if node.id != customer_id]
        ties = reaching_ties(found)
        ctx.see(node.id for node in others[:limit])
        related = []
        for node in others[:limit]:
            reached_by = node.path[-1].tie.value if node.path else None
            shown = ctx.related(network_node_fields(node), reached_by, node.depth)
            if shown.customer is not None and node.omitted_neighbours is not None:
                shown.omitted_neighbours = node.omitted_neighbours
            shown.tie = ties.get(node.id)
            related.append(shown)
        seen = [customer_id] + [item.customer.id for item in related if item.customer]
        # Only customers shown in full: where a stub banks would say more of it than its masked name.
        branches = customer_branches(ctx.store, seen) if with_branches else []
        ctx.audit("get_network", seen)
        return NetworkPublic(
            center_id=customer_id,
            depth=depth,
            related=related,
            omitted_neighbours=(centre.omitted_neighbours or 0) if centre else 0,
            truncated=found.truncated or len(others) > limit,
            branches=[BranchTiePublic(**tie.model_dump()) for tie in branches],
        )

    return await ctx.run(work, cheap=depth <= 2)


@router.get("/{customer_id}/paths/{other_id}", summary="Shortest paths between two customers", responses=_COMMON)
async def get_paths(
    ctx: Annotated[RequestContext, _ctx("get_paths")],
    customer_id: CustomerId,
    other_id: Annotated[str, Path(min_length=1, max_length=64, description="The other customer's id.")],
    types: Annotated[
        list[CustomerTieType] | None, Query(description="Tie types between customers to follow; all when absent.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PATHS, description="Most paths returned.")] = 10,
) -> ShortestPathsPublic:
    """How two customers the caller may see are connected: every shortest path of at most 4 ties between them,
    the customers along it that the caller may not see as stubs."""

    def work() -> ShortestPathsPublic:
        ctx.customer(customer_id)
        ctx.customer(other_id)
        found = shortest_paths(ctx.store, customer_id, other_id, [t.value for t in types or []], limit=limit)
        ctx.node_refs(node_id for path in found.paths for node_id in path.node_ids)
        paths = [
            CustomerPathPublic(
                nodes=[ctx.node_ref(node_id) for node_id in path.node_ids],
                ties=[tie.type.value for tie in path.ties],
                forward=[tie.source == node_id for tie, node_id in zip(path.ties, path.node_ids[:-1], strict=True)],
            )
            for path in found.paths
        ]
        shown = {node.id for path in paths for node in path.nodes if not node.stub}
        ctx.audit("get_paths", [customer_id, other_id, *sorted(shown - {customer_id, other_id})])
        return ShortestPathsPublic(from_id=customer_id, to_id=other_id, hops=found.hops, paths=paths)

    return await ctx.run(work)


SINCE_KEYS = ("since", "signed", "at")
"""Where a tie keeps the day it began: a guarantee's signing day, a referral's day, any other tie's start."""


def reaching_ties(network: EgoNetwork) -> dict[str, TieDetailsPublic]:
    """For each customer of an ego network, the details of the tie its path reached it by."""
    properties = {(edge.type.value, edge.source, edge.target): edge.properties for edge in network.edges}
    found = {}
    for node in network.nodes:
        if not node.path:
            continue
        step = node.path[-1]
        before = node.path[-2].node_id if len(node.path) > 1 else network.center_id
        ends = (before, step.node_id) if step.forward else (step.node_id, before)
        tie = properties.get((step.tie.value, *ends), {})
        since = next((tie[key] for key in SINCE_KEYS if isinstance(tie.get(key), str)), None)
        found[node.id] = TieDetailsPublic(
            outward=step.forward, amount=number(tie.get("amount")), ratio=number(tie.get("ratio")), since=since
        )
    return found


def _members(
    ctx: RequestContext, endpoint: str, group: Callable[[GraphStore, str], CustomerGroup], customer_id: str
) -> MembersPublic:
    with ctx.asking_about(customer_id):
        found = group(ctx.store, customer_id)
    fields = {member.id: group_member_fields(member) for member in found.members}
    ctx.see(fields)
    members = [ctx.related(fields[member.id], None) for member in found.members if member.id != customer_id]
    # The total would tell what members out of sight hold: it is shown only when every member is in sight.
    total = found.rollup.assets_under_management if all(member.customer for member in members) else None
    ctx.node_refs([end for tie in found.ties for end in (tie.source, tie.target)], known=fields)
    ties = [
        MemberTiePublic(type=tie.type.value, source=ctx.node_ref(tie.source).id, target=ctx.node_ref(tie.target).id)
        for tie in found.ties
    ]
    ctx.audit(endpoint, [customer_id] + [member.customer.id for member in members if member.customer])
    return MembersPublic(anchor_id=customer_id, members=members, ties=ties, total_aum=total)


@router.get("/{customer_id}/household", summary="Household", responses=_COMMON)
async def get_household(
    ctx: Annotated[RequestContext, _ctx("get_household")], customer_id: CustomerId
) -> MembersPublic:
    """The customer's household (family ties); members out of the caller's sight appear as stubs."""
    return await ctx.run(lambda: _members(ctx, "get_household", household, customer_id), cheap=True)


@router.get("/{customer_id}/group", summary="Corporate group", responses=_COMMON)
async def get_group(ctx: Annotated[RequestContext, _ctx("get_group")], customer_id: CustomerId) -> MembersPublic:
    """The corporate group the customer belongs to (shareholding, control, legal representation)."""
    return await ctx.run(lambda: _members(ctx, "get_group", corporate_group, customer_id), cheap=True)


def _no_offer_reason(properties: Mapping[str, Any]) -> str | None:
    """Why a customer gets no cross-sell offer at all, or None. A customer who has left is a case for winning back,
    not for a product score computed as if he were still here."""
    if CHURNED in (properties.get("status"), properties.get("lifecycle_stage")):
        return "customer has left the bank"
    if properties.get("consent_marketing") is not True:
        return "customer has not consented to marketing"
    return None


@router.get("/{customer_id}/recommendations", summary="Cross-sell recommendations", responses=_COMMON)
async def get_recommendations(
    ctx: Annotated[RequestContext, _ctx("get_recommendations")],
    customer_id: CustomerId,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> RecommendationsPublic:
    """Products to offer. A customer who left the bank or refused marketing gets none, and the reason says so."""

    def work() -> RecommendationsPublic:
        with ctx.asking_about(customer_id):
            inputs = cross_sell_inputs(ctx.store, customer_id)
        refused = _no_offer_reason(inputs.facts)
        if refused is not None:
            ctx.audit("get_recommendations", [customer_id])
            return RecommendationsPublic(customer_id=customer_id, recommendations=[], reason=refused)
        settings = ctx.services.settings.analytics
        as_of = as_of_date(settings.as_of, [inputs.facts.get("analytics_as_of")])
        found = inputs.recommend(ctx.store.registry, settings, as_of)[:limit]
        ctx.node_refs(node for item in found for path in item.evidence for node in path.nodes)
        recommendations = []
        for item in found:
            parts, evidence = as_shown(ctx, item.parts, item.evidence)
            recommendations.append(
                RecommendationPublic(
                    product_code=item.product_id,
                    product_name=inputs.catalogue.name(item.product_id),
                    score=item.score,
                    parts=parts,
                    why=why(parts, evidence),
                    evidence=[evidence_path(ctx, path) for path in evidence],
                )
            )
        shown = {node.id for item in recommendations for path in item.evidence for node in path.nodes if not node.stub}
        ctx.audit("get_recommendations", [customer_id, *sorted(shown - {customer_id})])
        reason = None if recommendations else "no product fits this customer now"
        return RecommendationsPublic(customer_id=customer_id, recommendations=recommendations[:limit], reason=reason)

    # One customer's two-hop neighbourhood: CPU p50 0.6 ms, p99 3 ms on the embedded store at 20,000 customers,
    # like a 2-hop network; in a worker thread its two hops made it twice as slow as the mix's other endpoints.
    return await ctx.run(work, cheap=True)


def as_shown(
    ctx: RequestContext, parts: dict[str, float], evidence: list[EvidencePath]
) -> tuple[dict[str, float], list[EvidencePath]]:
    """A recommendation's score parts and evidence paths as the caller may see them: only the paths whose
    holder (the last node) the caller sees.

    A path ending at a customer out of sight would tell which product that customer holds: it still counts
    in the score, but it is neither shown nor named in the reason, and the reason then does not name the
    network either (with a single tie out of sight, "strongest signal: network" would say the same).
    """
    visible = [path for path in evidence if path.nodes and ctx.sees(path.nodes[-1])]
    if len(visible) < len([path for path in evidence if path.nodes]):
        parts = {name: value for name, value in parts.items() if name != "network"}
    return parts, visible


def evidence_path(ctx: RequestContext, path: EvidencePath) -> EvidencePathPublic:
    """An evidence path with each customer as the caller may see it (real id in sight, stub id otherwise)."""
    return EvidencePathPublic(
        nodes=[ctx.node_ref(node) for node in path.nodes], ties=path.ties, contribution=path.contribution
    )


def evidence_ties(evidence: list[EvidencePath]) -> list[str]:
    """The kinds of tie the evidence came through, in name order."""
    return sorted({tie for path in evidence for tie in path.ties})


def why(parts: dict[str, float], evidence: list[EvidencePath]) -> str | None:
    """A one-line reason in English: the kinds of tie the evidence came through, or the strongest part."""
    ties = evidence_ties(evidence)
    if ties:
        return "held by customers tied by " + ", ".join(ties)
    if parts:
        return "strongest signal: " + max(parts, key=lambda name: parts[name] or 0)
    return None


@router.get("/{customer_id}/churn-risk", summary="Churn risk", responses=_COMMON)
async def get_churn_risk(
    ctx: Annotated[RequestContext, _ctx("get_churn_risk")], customer_id: CustomerId
) -> ChurnRiskPublic:
    """The churn score written back by ``crm-graph analyze``, split into own and network parts, with the
    neighbours that contribute most (stubs when out of the caller's sight)."""

    def work() -> ChurnRiskPublic:
        ctx.customer(customer_id)
        found = churn_risk(ctx.store, customer_id)
        fields = {item.customer_id: ctx.stored_fields(item.customer_id) for item in found.contributors}
        ctx.see(fields)
        ctx.node_refs(fields, known={other: shown for other, shown in fields.items() if "label" in shown})
        contributors = []
        for item in found.contributors:
            related = ctx.related(fields[item.customer_id], item.tie_type)
            contributors.append(
                ChurnContributorPublic(
                    tie_type=item.tie_type,
                    share=item.share,
                    customer=related.customer,
                    stub=related.stub,
                    node=ctx.node_ref(item.customer_id),
                )
            )
        ctx.audit("get_churn_risk", [customer_id] + [c.customer.id for c in contributors if c.customer])
        return ChurnRiskPublic(
            customer_id=customer_id,
            churn_risk=found.churn_risk,
            churn_risk_own=found.churn_risk_own,
            churn_risk_network=found.churn_risk_network,
            contributors=contributors,
            analytics_at=found.analytics_at,
        )

    return await ctx.run(work, cheap=True)


@router.post(
    "/{customer_id}/interactions",
    summary="Log an interaction",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 413, 422, 429, 503),
)
async def log_interaction(
    ctx: Annotated[RequestContext, _ctx("log_interaction")],
    customer_id: CustomerId,
    interaction: InteractionCreate,
) -> InteractionPublic:
    """Record a contact with a customer of the caller's book, logged by the caller's manager."""
    manager_id = ctx.principal.manager_id
    if not manager_id:  # the matrix grants interactions:write only with a manager; keep the store honest anyway
        raise InvalidRequest("only a token acting as a manager may log interactions")

    def work() -> InteractionPublic:
        ctx.customer(customer_id)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        interaction_id = f"int-{secrets.token_hex(8)}"
        summary = mask_identifiers(interaction.summary)  # stored masked: the graph never holds them in clear
        properties: dict[str, Any] = {"channel": interaction.channel.value, "summary": summary.text, "at": at}
        if interaction.outcome is not None:
            properties["outcome"] = interaction.outcome.value
        if interaction.follow_up is not None:
            properties["due"] = interaction.follow_up.isoformat()
        ctx.store.write(
            nodes=[{"label": NodeLabel.INTERACTION, "id": interaction_id, "properties": properties}],
            ties=[
                {"type": TieType.WITH, "source": interaction_id, "target": customer_id},
                {"type": TieType.LOGGED_BY, "source": interaction_id, "target": manager_id},
            ],
        )
        ctx.audit("log_interaction", [customer_id])
        return InteractionPublic(
            id=interaction_id,
            customer_id=customer_id,
            manager_id=manager_id,
            channel=interaction.channel,
            summary=summary.text,
            masked=[kind.value for kind in summary.kinds],
            outcome=interaction.outcome,
            follow_up=interaction.follow_up,
            at=at,
        )

    return await ctx.run(work)
