"""Marketing endpoints: referral clusters and prospect lists (masked personal data only)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from api import wiring
from api.deps import Cursor, PageSize, RequestContext, context_for
from api.masking import stub
from api.models import ClusterDetailPublic, ClusterPage, ClusterPublic, ProspectPage, ProspectPublic
from api.problems import problem_responses
from api.shaping import customer_fields, number
from api.wiring import flatten, items_of, plain
from graph.errors import NotFound
from loaders.identifiers import mask_name

router = APIRouter(tags=["marketing"])

PROSPECT_COLUMNS = ("customer_id", "name", "segment", "city", "tier", "score")


def _cluster(item: Any) -> ClusterPublic:
    value = plain(item)
    fields = flatten(value) if isinstance(value, dict) else {"id": str(value)}
    size = fields.get("size")
    if size is None and isinstance(fields.get("members"), list):
        size = len(fields["members"])
    return ClusterPublic(
        id=str(fields.get("id") or fields.get("cluster_id")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        label=fields.get("label") or fields.get("name"),
    )


@router.get("/clusters", summary="Referral clusters", responses=problem_responses(401, 403, 422, 429, 503))
async def list_clusters(
    ctx: Annotated[RequestContext, Depends(context_for("list_clusters"))],
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> ClusterPage:
    """Clusters found by ``crm-graph analyze``, largest first as the analytics order them."""
    size = ctx.page_size(page_size)
    offset = ctx.services.cursors.decode(cursor, "clusters")

    def work() -> ClusterPage:
        clusters = [_cluster(item) for item in items_of(wiring.call("clusters", ctx.store), "clusters", "items")]
        chunk, following = ctx.services.cursors.page(clusters, offset, size, "clusters")
        return ClusterPage(items=chunk, next_cursor=following)

    return await ctx.run(work)


@router.get("/clusters/{cluster_id}", summary="One cluster", responses=problem_responses(401, 403, 404, 422, 429, 503))
async def get_cluster(
    ctx: Annotated[RequestContext, Depends(context_for("get_cluster"))],
    cluster_id: Annotated[str, Path(min_length=1, max_length=64)],
    page_size: PageSize = None,
    cursor: Cursor = None,
) -> ClusterDetailPublic:
    """A cluster and its members, as masked stubs."""
    size = ctx.page_size(page_size)
    binding = f"cluster:{cluster_id}"
    offset = ctx.services.cursors.decode(cursor, binding)

    def work() -> ClusterDetailPublic:
        result = plain(wiring.call("cluster", ctx.store, cluster_id))
        if not result:
            raise NotFound(f"cluster {cluster_id!r} not found")
        members = [
            customer_fields(item, ctx.store)
            for item in items_of(result, "members", "central_members", "customers", "items")
        ]
        chunk, following = ctx.services.cursors.page(members, offset, size, binding)
        ctx.audit("get_cluster", [str(fields.get("id")) for fields in chunk])
        info = result.get("cluster", result) if isinstance(result, dict) else {"id": cluster_id}
        cluster = _cluster({"size": len(members), **(info if isinstance(info, dict) else {}), "id": cluster_id})
        return ClusterDetailPublic(
            cluster=cluster,
            members=[stub(fields, ctx.services.mask_key) for fields in chunk],
            next_cursor=following,
        )

    return await ctx.run(work)


def _prospect(fields: dict[str, Any]) -> ProspectPublic:
    name = fields.get("name")
    return ProspectPublic(
        customer_id=str(fields.get("id")),
        name=mask_name(name) if isinstance(name, str) and name.strip() else "***",
        segment=fields.get("segment"),
        city=fields.get("city"),
        tier=fields.get("tier"),
        score=number(fields.get("score") if fields.get("score") is not None else fields.get("propensity")),
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
        result = wiring.call("prospects", ctx.store, code, limit=min(10_000, offset + size + 1000))
        prospects = []
        for item in items_of(result, "prospects", "customers", "items"):
            fields = customer_fields(item)
            if "consent_marketing" not in fields:
                fields = customer_fields({"id": fields.get("id")}, ctx.store) | fields
            if fields.get("consent_marketing") is not True:
                continue
            prospects.append(_prospect(fields))
        chunk, following = ctx.services.cursors.page(prospects, offset, size, binding)
        ctx.audit("list_prospects", [prospect.customer_id for prospect in chunk])
        return ProspectPage(product_code=code, items=chunk, next_cursor=following)

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
