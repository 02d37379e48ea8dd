"""Key persons (PageRank) and referral clusters (Louvain) over customer-to-customer ties.

PageRank runs on all customer ties, both directions, weighted by the tie registry, as a scipy power iteration
(the same fixed point as ``networkx.pagerank``; a test compares them). Referral clusters are Louvain
communities (networkx, fixed seed) over REFERRED and family ties. Connected components of at most
``SMALL_COMPONENT`` customers are taken whole, which is what Louvain returns for them in practice and keeps a
million customers tractable; customers with no such tie belong to no cluster.

Cluster ids survive reruns: each new cluster takes the id of the previous cluster it overlaps most, when their
Jaccard similarity reaches ``cluster_match_jaccard``; otherwise it gets a fresh id.

``analyze`` also summarises every cluster (:func:`summarise_clusters`, from the arrays it already holds) and
writes the summaries as ``Cluster`` nodes, so that listing clusters, one cluster and its drawing read a few
nodes instead of every clustered customer (seconds per request on a large bank).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import sparse
from scipy.sparse import csgraph

from graph.embedded.view import GraphView
from graph.errors import NotFound
from graph.model import NodeLabel, NodeRecord, TieType
from graph.query import NamedQuery, Rows
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from graph.ties import TieCategory, TieRegistry
from queries.analytics.fetch import PACKAGE
from queries.analytics.frames import FloatArray, GraphFrames, IntArray, weighted_sum
from queries.network import LIST_CUSTOMER_TIES

SMALL_COMPONENT = 12
CENTRAL_MEMBERS = 5
MAX_DRAWN_MEMBERS = 200
MAX_DRAWN_TIES = 1000
ID_PREFIX = "K"


def pagerank(frames: GraphFrames, damping: float = 0.85) -> FloatArray:
    """Weighted PageRank of every customer over customer ties taken both ways; sums to 1."""
    source = np.concatenate([frames.tie_source, frames.tie_target])
    target = np.concatenate([frames.tie_target, frames.tie_source])
    weight = np.concatenate([frames.tie_weight, frames.tie_weight])
    return directed_pagerank(frames.size, source, target, weight, damping)


def directed_pagerank(
    n: int,
    source: IntArray,
    target: IntArray,
    weight: FloatArray,
    damping: float = 0.85,
    tolerance: float = 1e-10,
    max_steps: int = 200,
) -> FloatArray:
    """Weighted PageRank of ``n`` nodes over the directed ties given; sums to 1."""
    if n == 0:
        return np.zeros(0)
    out_weight = weighted_sum(source, weight, n)
    keep = weight > 0
    transition = sparse.csr_matrix(
        (weight[keep] / out_weight[source[keep]], (target[keep], source[keep])), shape=(n, n)
    )
    dangling = out_weight <= 0
    rank = np.full(n, 1.0 / n)
    for _ in range(max_steps):
        previous = rank
        rank = damping * (transition @ rank + rank[dangling].sum() / n) + (1.0 - damping) / n
        if np.abs(rank - previous).sum() < n * tolerance:
            break
    return rank / rank.sum()


def referral_communities(frames: GraphFrames, registry: TieRegistry, settings: AnalyticsSettings) -> list[list[int]]:
    """Communities (customer numbers, sorted) over referral and family ties; singletons left out."""
    n = frames.size
    types = {s.type.value for s in registry.customer_ties() if s.category in (TieCategory.REFERRAL, TieCategory.FAMILY)}
    chosen = np.isin(frames.tie_type, list(types))
    source, target = frames.tie_source[chosen], frames.tie_target[chosen]
    weight = np.maximum(frames.tie_weight[chosen], 1e-6)
    adjacency = sparse.coo_matrix((weight, (source, target)), shape=(n, n)).tocsr()
    adjacency = adjacency + adjacency.T
    count, labels = csgraph.connected_components(adjacency, directed=False)
    sizes = np.bincount(labels, minlength=count)
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    communities: list[list[int]] = []
    for component in range(count):
        members = order[bounds[component] : bounds[component + 1]]
        if len(members) < 2:
            continue
        if len(members) <= SMALL_COMPONENT:
            communities.append(sorted(members.tolist()))
            continue
        sub = adjacency[members][:, members].tocoo()
        graph = nx.Graph()
        graph.add_nodes_from(range(len(members)))
        graph.add_weighted_edges_from(
            (int(a), int(b), float(w)) for a, b, w in zip(sub.row, sub.col, sub.data, strict=True) if a < b
        )
        found = nx.community.louvain_communities(
            graph, weight="weight", resolution=settings.cluster_resolution, seed=settings.cluster_seed
        )
        communities.extend(sorted(int(members[i]) for i in group) for group in found)
    communities.sort(key=lambda group: group[0])
    return communities


def stable_cluster_ids(communities: list[list[int]], previous: list[str | None], threshold: float) -> list[str]:
    """An id for each community: the previous cluster id it overlaps most (Jaccard >= threshold), else new."""
    previous_sizes = Counter(cluster_id for cluster_id in previous if cluster_id)
    candidates: list[tuple[float, int, str]] = []
    for number, members in enumerate(communities):
        overlaps = Counter(cluster_id for member in members if (cluster_id := previous[member]))
        for cluster_id, overlap in overlaps.items():
            jaccard = overlap / (len(members) + previous_sizes[cluster_id] - overlap)
            if jaccard >= threshold:
                candidates.append((jaccard, number, cluster_id))
    assigned = match_previous_ids(candidates)
    next_number = 1 + max((_id_number(cluster_id) for cluster_id in previous_sizes), default=0)
    ids = []
    for number in range(len(communities)):
        if number not in assigned:
            assigned[number] = f"{ID_PREFIX}{next_number:06d}"
            next_number += 1
        ids.append(assigned[number])
    return ids


_Community = TypeVar("_Community", int, str)


def match_previous_ids(candidates: Iterable[tuple[float, _Community, str]]) -> dict[_Community, str]:
    """Greedily from the best overlap (ties by community, then id): each community takes the previous cluster id
    of its best remaining candidate (jaccard, community, cluster_id), each id going to one community at most."""
    assigned: dict[_Community, str] = {}
    taken: set[str] = set()
    for _, community, cluster_id in sorted(candidates, key=lambda item: (-item[0], item[1], item[2])):
        if community not in assigned and cluster_id not in taken:
            assigned[community] = cluster_id
            taken.add(cluster_id)
    return assigned


def _id_number(cluster_id: str) -> int:
    digits = cluster_id.removeprefix(ID_PREFIX)
    return int(digits) if digits.isdigit() else 0


class ClusterSummary(BaseModel):
    """A referral cluster: how big, how rich, who is central, what it holds and how referrals fared."""

    model_config = ConfigDict(frozen=True)

    cluster_id: str
    size: int
    total_aum: float
    central_members: list[str]
    """Up to five members with the highest PageRank, highest first (ties by id)."""
    product_penetration: dict[str, float]
    """Share of members holding each product held by anyone in the cluster."""
    referrals_per_member: float
    referred_active_share: float
    """Of the members who were referred, the share still active."""


class _Member(NamedTuple):
    """What a cluster's summary needs of one member (a plain tuple: a large bank has a million of them)."""

    customer_id: str
    aum: float
    pagerank: float
    churned: bool
    products: frozenset[str]
    referrals_made: int
    referred: bool


def _ranked(members: list[_Member]) -> list[str]:
    return [member.customer_id for member in sorted(members, key=lambda m: (-m.pagerank, m.customer_id))]


def _summary(cluster_id: str, members: list[_Member]) -> ClusterSummary:
    size = len(members)
    holding = Counter(product for member in members for product in member.products)
    referred = [member for member in members if member.referred]
    return ClusterSummary(
        cluster_id=cluster_id,
        size=size,
        total_aum=round(sum(member.aum for member in members), 2),
        central_members=_ranked(members)[:CENTRAL_MEMBERS],
        product_penetration={product: round(count / size, 6) for product, count in sorted(holding.items())},
        referrals_per_member=round(sum(member.referrals_made for member in members) / size, 6),
        referred_active_share=round(sum(not m.churned for m in referred) / len(referred), 6) if referred else 0.0,
    )


def summarise_clusters(
    frames: GraphFrames, cluster_ids: list[str | None], aum: FloatArray, rank: FloatArray
) -> list[tuple[ClusterSummary, list[str]]]:
    """Each cluster's summary and its ``MAX_DRAWN_MEMBERS`` most central members, largest cluster first (then
    by id), from the arrays of one analyze run (pure). Amounts and ranks are rounded as they are written back.
    A product counts as held through an open account the member owns as owner or joint holder."""
    clustered = np.array([cluster_id is not None for cluster_id in cluster_ids], dtype=bool)
    products = frames.accounts["product_id"].to_numpy(dtype=object)
    owner, account = frames.owner_customer, frames.owner_account
    kept = clustered[owner] & ~frames.accounts["closed"].to_numpy(dtype=bool)[account] & (products[account] != "")
    held: dict[int, set[str]] = {}
    for customer, product in zip(owner[kept].tolist(), products[account[kept]].tolist(), strict=True):
        held.setdefault(customer, set()).add(str(product))
    referral = frames.tie_type == TieType.REFERRED.value
    made = np.bincount(frames.tie_source[referral], minlength=frames.size).tolist()
    received = np.bincount(frames.tie_target[referral], minlength=frames.size).tolist()
    churned = (frames.customers["status"] == "churned").to_numpy(dtype=bool).tolist()
    ids, aum_list, rank_list = frames.ids, aum.tolist(), rank.tolist()
    by_cluster: dict[str, list[_Member]] = {}
    for number in np.flatnonzero(clustered).tolist():
        by_cluster.setdefault(str(cluster_ids[number]), []).append(
            _Member(
                customer_id=str(ids[number]),
                aum=round(aum_list[number], 2),
                pagerank=round(rank_list[number], 12),
                churned=churned[number],
                products=frozenset(held.get(number, ())),
                referrals_made=made[number],
                referred=received[number] > 0,
            )
        )
    found = [
        (_summary(cluster_id, members), _ranked(members)[:MAX_DRAWN_MEMBERS])
        for cluster_id, members in by_cluster.items()
    ]
    found.sort(key=lambda item: (-item[0].size, item[0].cluster_id))
    return found


def cluster_rows(summaries: list[tuple[ClusterSummary, list[str]]], analytics_at: str) -> list[dict[str, Any]]:
    """``Cluster`` node rows, ``rank`` 1 for the first (largest) summary; product shares as parallel lists."""
    return [
        {
            "label": NodeLabel.CLUSTER,
            "id": summary.cluster_id,
            "properties": {
                "rank": rank,
                "size": summary.size,
                "total_aum": summary.total_aum,
                "central_members": summary.central_members,
                "drawn_members": drawn,
                "penetration_products": list(summary.product_penetration),
                "penetration_shares": list(summary.product_penetration.values()),
                "referrals_per_member": summary.referrals_per_member,
                "referred_active_share": summary.referred_active_share,
                "analytics_at": analytics_at,
            },
        }
        for rank, (summary, drawn) in enumerate(summaries, start=1)
    ]


SUMMARY_PROPERTIES = (
    "size",
    "total_aum",
    "central_members",
    "penetration_products",
    "penetration_shares",
    "referrals_per_member",
    "referred_active_share",
)


def _to_summary(cluster_id: str, props: Mapping[str, Any]) -> ClusterSummary:
    return ClusterSummary(
        cluster_id=cluster_id,
        size=props["size"],
        total_aum=props["total_aum"],
        central_members=list(props.get("central_members") or []),
        product_penetration=dict(
            zip(props.get("penetration_products") or [], props.get("penetration_shares") or [], strict=True)
        ),
        referrals_per_member=props["referrals_per_member"],
        referred_active_share=props["referred_active_share"],
    )


def _cluster_ranking(view: GraphView) -> list[tuple[int, str]]:
    return sorted(
        (view.props(key)["rank"], key[1]) for key in view.keys(NodeLabel.CLUSTER) if "rank" in view.props(key)
    )


def _list_clusters(view: GraphView, params: Mapping[str, Any]) -> Rows:
    # The ranking is kept until the graph changes: a large bank has a quarter of a million clusters to sort.
    ranking = view.derived("cluster_ranking", lambda: _cluster_ranking(view))
    skip, limit = max(params["skip"], 0), max(params["limit"], 0)
    rows = []
    for rank, cluster_id in ranking[skip : skip + limit]:
        if not skip < rank <= skip + limit:
            break
        props = view.props((NodeLabel.CLUSTER, cluster_id))
        rows.append({"cluster_id": cluster_id, **{name: props.get(name) for name in SUMMARY_PROPERTIES}})
    return rows


LIST_CLUSTERS = NamedQuery("list_clusters", PACKAGE, _list_clusters)


def _cluster_node(store: GraphStore, cluster_id: str) -> NodeRecord:
    record = store.get_node(NodeLabel.CLUSTER, cluster_id)
    if record is None:
        raise NotFound(f"no cluster with id {cluster_id!r}")
    return record


def clusters(store: GraphStore, limit: int = 100, skip: int = 0) -> list[ClusterSummary]:
    """The largest referral clusters (ties by id), as ``crm-graph analyze`` last summarised them: ``limit`` of
    them after the ``skip`` largest, so that a page costs its own size whatever its place."""
    rows = store.run(LIST_CLUSTERS, {"limit": limit, "skip": skip})
    return [_to_summary(row["cluster_id"], row) for row in rows]


def cluster(store: GraphStore, cluster_id: str) -> ClusterSummary:
    """One referral cluster; ``NotFound`` when ``analyze`` summarised none with that id."""
    return _to_summary(cluster_id, _cluster_node(store, cluster_id).properties)


class ClusterTie(BaseModel):
    """A referral or family tie between two members of a cluster, in its stored direction."""

    model_config = ConfigDict(frozen=True)

    type: str
    source: str
    target: str


class ClusterGraph(BaseModel):
    """A cluster drawn as a graph: its most central members and the ties among them (both bounded)."""

    model_config = ConfigDict(frozen=True)

    cluster_id: str
    members: list[str]
    """Highest PageRank first (ties by id), at most ``limit``."""
    ties: list[ClusterTie]
    """Referral and family ties whose both ends are in ``members``, by (type, source, target), at most ``max_ties``."""
    truncated: bool
    """True when members or ties were left out by the bounds."""


def cluster_graph(
    store: GraphStore, cluster_id: str, limit: int = MAX_DRAWN_MEMBERS, max_ties: int = MAX_DRAWN_TIES
) -> ClusterGraph:
    """The cluster's ``limit`` most central members and the ties among them; ``NotFound`` for an unknown id."""
    props = _cluster_node(store, cluster_id).properties
    members = list(props.get("drawn_members") or [])[:limit]
    types = [
        s.type.value for s in store.registry.customer_ties() if s.category in (TieCategory.REFERRAL, TieCategory.FAMILY)
    ]
    params = {"customer_ids": members, "types": types, "min_share_ratio": None, "limit": max_ties}
    inside = set(members)
    found = {
        (tie["type"], tie["source"], tie["target"])
        for row in store.run(LIST_CUSTOMER_TIES, params)
        for tie in row["kept"]
        if tie["source"] in inside and tie["target"] in inside
    }
    ties = [ClusterTie(type=t, source=a, target=b) for t, a, b in sorted(found)]
    return ClusterGraph(
        cluster_id=cluster_id,
        members=members,
        ties=ties[:max_ties],
        truncated=props["size"] > len(members) or len(ties) > max_ties,
    )
