"""Marketing endpoints: referral clusters, the product catalogue and prospect lists (masked personal data only)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from api.deps import Cursor, PageSize, RequestContext, context_for
from api.group_models import (
    ClusterDetailPublic,
    ClusterPage,
    ClusterPublic,
    ClusterTiePublic,
    ProductSharePublic,
    SizeCountPublic,
)
from api.models import CustomerStub, ProductList, ProductPublic, ProspectPage, ProspectPublic
from api.planned_route import PlannedRoute
from api.problems import problem_responses
from api.routes import PREFIX
from api.shaping import public_naming
from loaders.identifiers import mask_name
from queries.accounts import product_catalogue, product_names
from queries.analytics.community import ClusterSummary, cluster, cluster_graph, clusters
from queries.analytics.crosssell import prospects
from queries.analytics.prospecting import PRECOMPUTED_PROSPECTS, ranked_prospects
from queries.customers import customer_summaries
from queries.naming import cluster_names, cluster_size_counts

router = APIRouter(prefix=PREFIX, tags=["marketing"], route_class=PlannedRoute)

PROSPECT_COLUMNS = ("customer_id", "name", "segment", "city", "tier", "score")


PENETRATION_SHOWN = 5  # the most held products listed per cluster


def _stubs(ctx: RequestContext, customer_ids: list[str]) -> dict[str, CustomerStub]:
    """Masked stubs of these customers, their names read in one query (a page may show hundreds)."""
    found = customer_summaries(ctx.store, customer_ids)
    return {
        customer_id: ctx.stub({"id": customer_id, "name": found[customer_id].name if customer_id in found else None})
        for customer_id in customer_ids
    }


def _top_products(cluster: ClusterSummary) -> list[tuple[str, float]]:
    shares = cluster.product_penetration.items()
    return sorted(shares, key=lambda item: (-item[1], item[0]))[:PENETRATION_SHOWN]


def _clusters_shown(clusters: list[ClusterSummary], ctx: RequestContext) -> list[ClusterPublic]:
    """Cluster summaries as marketing may see them: central members as stubs, each cluster's name with its
    evidence; the members' names, traits and the product names of the whole page read at once."""
    central = {member: None for cluster in clusters for member in cluster.central_members}
    stubs = _stubs(ctx, list(central))
    names = product_names(ctx.store, [code for cluster in clusters for code, _ in _top_products(cluster)])
    naming = cluster_names(ctx.store, [cluster.cluster_id for cluster in clusters])
    shown = {cluster.cluster_id: public_naming(naming[cluster.cluster_id], ctx.node_ref) for cluster in clusters}
    return [
        ClusterPublic(
            id=cluster.cluster_id,
            size=cluster.size,
            label=named.name.text if (named := shown[cluster.cluster_id]).name else None,
            naming=named,
            total_aum=cluster.total_aum,
            central_members=[stubs[member] for member in cluster.central_members],
            product_penetration=[
                ProductSharePublic(product_code=code, product_name=names.get(code), share=share)
                for code, share in _top_products(cluster)
            ],
            referrals_per_member=cluster.referrals_per_member,
            referred_active_share=cluster.referred_active_share,
        )
        for cluster in clusters
    ]


def _named_in_full(clusters: list[ClusterPublic]) -> list[str]:
    """The customers a cluster was named after that the caller sees in full (the audit names them)."""
    traits = [trait for cluster in clusters for trait in cluster.naming.traits]
    return sorted({trait.customer.id for trait in traits if trait.customer and not trait.customer.stub})


@router.get("/clusters", summary="Referral clusters", responses=problem_responses(401, 403, 422, 429, 503))
async def list_clusters(
    ctx: Annotated[RequestContext, Depends(context_for("list_clusters"))],
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> ClusterPage:
    """Clusters found by ``crm-graph analyze``, largest first: the name each is known by with its evidence (its
    members' dominant employer, referrer or city), size, assets, the most central members (masked stubs), the most
    held products and how referrals fared; with every page, how many clusters there are of each size."""
    size = ctx.page_size(page_size)
    offset = ctx.services.cursors.decode(cursor, "clusters")

    def work() -> ClusterPage:
        # One more than the page, so that the cursor knows whether a next page exists.
        found = clusters(ctx.store, limit=size + 1, skip=offset)
        chunk, following = ctx.services.cursors.page_from(found, offset, size, "clusters")
        items = _clusters_shown(chunk, ctx)
        sizes = [SizeCountPublic(size=row.size, count=row.count) for row in cluster_size_counts(ctx.store)]
        ctx.audit("list_clusters", _named_in_full(items))  # the rest was shown as stubs, recorded as such
        return ClusterPage(items=items, next_cursor=following, total=sum(row.count for row in sizes), sizes=sizes)

    return await ctx.run(work)


@router.get("/clusters/{cluster_id}", summary="One cluster", responses=problem_responses(401, 403, 404, 422, 429, 503))
async def get_cluster(
    ctx: Annotated[RequestContext, Depends(context_for("get_cluster"))],
    cluster_id: Annotated[str, Path(min_length=1, max_length=64)],
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> ClusterDetailPublic:
    """A cluster's summary, its most central members (masked stubs, paged; at most 200 in all) and the referral
    and family ties among the members of the page, so that the cluster can be drawn as a graph."""
    size = ctx.page_size(page_size)
    binding = f"cluster:{cluster_id}"
    offset = ctx.services.cursors.decode(cursor, binding)

    def work() -> ClusterDetailPublic:
        summary = cluster(ctx.store, cluster_id)
        drawn = cluster_graph(ctx.store, cluster_id)
        chunk, following = ctx.services.cursors.page(drawn.members, offset, size, binding)
        stubs = _stubs(ctx, chunk)
        ties = [
            ClusterTiePublic(type=tie.type, source=stubs[tie.source].opaque_id, target=stubs[tie.target].opaque_id)
            for tie in drawn.ties
            if tie.source in stubs and tie.target in stubs
        ]
        (shown,) = _clusters_shown([summary], ctx)
        ctx.audit("get_cluster", _named_in_full([shown]))  # the rest was shown as stubs, recorded as such
        return ClusterDetailPublic(cluster=shown, members=list(stubs.values()), ties=ties, next_cursor=following)

    return await ctx.run(work)


@router.get("/products", summary="Product catalogue", responses=problem_responses(401, 403, 422, 429, 503))
async def list_products(ctx: Annotated[RequestContext, Depends(context_for("list_products"))]) -> ProductList:
    """Every product of the bank (id, name, category), by id: what a product picker offers."""

    def work() -> ProductList:
        return ProductList(
            items=[
                ProductPublic(id=product.id, name=product.name, category=product.category)
                for product in product_catalogue(ctx.store)
            ]
        )

    return await ctx.run(work)


def _prospect(ctx: RequestContext, fields: dict[str, Any], score: float) -> ProspectPublic:
    """A prospect as the caller may see it: in full when the caller sees the customer (the check of the
    customer 360), else as a stub keeping only the segment and the score the campaign is planned on."""
    if not ctx.sees(str(fields["id"])):
        hidden = ctx.stub(fields)
        return ProspectPublic(
            customer_id=hidden.opaque_id, stub=True, name=hidden.name, segment=fields.get("segment"), score=score
        )
    name = fields.get("name")
    return ProspectPublic(
        customer_id=str(fields["id"]),
        name=mask_name(name) if isinstance(name, str) and name.strip() else "***",
        segment=fields.get("segment"),
        city=fields.get("city"),
        tier=fields.get("tier"),
        score=score,
    )


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


@router.get(
    "/products/{code}/prospects",
    summary="Prospects for a product",
    response_model=ProspectPage,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": "customer_id,name,segment,city,tier,score\n"}
            },
            "description": "JSON by default; CSV with `Accept: text/csv` or `?format=csv`.",
        },
        **problem_responses(401, 403, 404, 422, 429, 503),
    },
)
async def list_prospects(
    request: Request,
    ctx: Annotated[RequestContext, Depends(context_for("list_prospects"))],
    code: Annotated[
        str,
        Path(
            min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="Product code.", examples=["FUND01"]
        ),
    ],
    page_size: PageSize = None,
    cursor: Cursor = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="Overrides the Accept header.")] = None,
) -> Any:
    """Customers likely to take the product, best first. Customers who refused marketing never appear."""
    size = ctx.page_size(page_size)
    binding = f"prospects:{code}"
    offset = ctx.services.cursors.decode(cursor, binding)

    def work() -> ProspectPage:
        # The list analyze ranked; computed here only for a store analysed before analyze ranked prospects.
        limit = min(PRECOMPUTED_PROSPECTS, offset + size + 1000)  # room for customers who withdrew consent since
        ranked = ranked_prospects(ctx.store, code, limit)
        found = (
            ranked
            if ranked is not None
            else prospects(ctx.store, code, limit=limit, settings=ctx.services.settings.analytics)
        )
        consenting = []
        for item in found:
            fields = ctx.stored_fields(item.customer_id)
            if fields.get("consent_marketing") is not True:
                continue
            consenting.append((fields, item.score))
            if len(consenting) > offset + size:  # enough to know that a next page exists
                break
        chunk, following = ctx.services.cursors.page(consenting, offset, size, binding)
        shown = [_prospect(ctx, fields, score) for fields, score in chunk]
        ctx.audit("list_prospects", [prospect.customer_id for prospect in shown if not prospect.stub])
        return ProspectPage(product_code=code, items=shown, next_cursor=following)

    page = await ctx.run(work)
    if not _wants_csv(request, format):
        return page
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PROSPECT_COLUMNS)
    for prospect in page.items:
        writer.writerow(
            [getattr(prospect, column) if getattr(prospect, column) is not None else "" for column in PROSPECT_COLUMNS]
        )
    headers = {"Content-Disposition": f'attachment; filename="prospects-{code}.csv"'}
    if page.next_cursor:
        headers["Link"] = f'<?cursor={page.next_cursor}&format=csv>; rel="next"'
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
