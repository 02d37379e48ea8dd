"""Names for groups of customers, from what their members have in common, with the evidence.

A referral cluster is named after the company most of its members work for (``employer``) or the member who
referred most of the others (``referrer``: that member and the members it referred), whichever covers more
members, when it covers at least a third of them; else after the city at least half of them live in; else it
has no name. A guarantee circle is named after the company group at least half of its members belong to
(``group``: a parent company and its direct subsidiaries among the members), else after its largest guarantor
(the member guaranteeing the largest amount around the circle).

Every name comes with its evidence: how many of the members examined share the trait and their share (for a
guarantor, the share of the circle's exposure it guarantees). A large cluster is examined through its most
central members (the ones ``crm-graph analyze`` keeps for drawing it, at most 200).

Both backends read the members' traits through one named query (``list_member_traits``); the counting here
is pure and shared, so both give the same names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore
from queries.guarantees import GuaranteeCircle

SPECIFIC_SHARE = 1 / 3
"""An employer or a referrer names a cluster when it covers at least this share of the members examined."""
COMMON_SHARE = 0.5
"""A city names a cluster, and a company group a circle, when it covers at least this share."""


class TraitKind(StrEnum):
    EMPLOYER = "employer"
    REFERRER = "referrer"
    CITY = "city"
    GROUP = "group"
    GUARANTOR = "guarantor"


class Trait(BaseModel):
    """Something members of a group share: a customer (employer, referrer, group's parent, guarantor) or a city."""

    model_config = ConfigDict(frozen=True)

    kind: TraitKind
    value: str
    """The customer id, or the city."""
    members: int
    """Members examined that share it (a guarantor: 1)."""
    share: float
    """Of the members examined; for a guarantor, of the circle's exposure."""
    amount: float | None = None
    """A guarantor's amount guaranteed around the circle."""


class GroupName(BaseModel):
    """What a group is named after (None: nothing its members share enough), and the strongest trait of each kind."""

    model_config = ConfigDict(frozen=True)

    name: Trait | None
    traits: list[Trait]
    examined: int


class MemberTraits(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    city: str | None
    employers: list[str]
    parents: list[str]
    referred: list[str]


class SizeCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    size: int
    count: int


# -- the members' traits, on both backends ----------------------------------------------------------------


def _list_member_traits(view: GraphView, params: Mapping[str, Any]) -> Rows:
    def customers(key: Any, tie_type: TieType) -> list[str]:
        return [other[1] for _, other, _ in view.out_ties(key, [tie_type]) if other[0] is NodeLabel.CUSTOMER]

    rows = []
    for customer_id in sorted(set(params["customer_ids"])):
        if not view.has(NodeLabel.CUSTOMER, customer_id):
            continue
        key = (NodeLabel.CUSTOMER, customer_id)
        rows.append(
            {
                "customer_id": customer_id,
                "city": view.props(key).get("city"),
                "employers": customers(key, TieType.EMPLOYED_BY),
                "parents": customers(key, TieType.SUBSIDIARY_OF),
                "referred": customers(key, TieType.REFERRED),
            }
        )
    return rows


LIST_MEMBER_TRAITS = NamedQuery("list_member_traits", "queries.cypher", _list_member_traits)


def member_traits(store: GraphStore, customer_ids: Iterable[str]) -> dict[str, MemberTraits]:
    """Each existing customer's city, employers, parent companies and referred customers (lists sorted)."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    found = {}
    for row in store.run(LIST_MEMBER_TRAITS, {"customer_ids": wanted}):
        city = row["city"]
        found[row["customer_id"]] = MemberTraits(
            customer_id=row["customer_id"],
            city=city if isinstance(city, str) and city.strip() else None,
            employers=sorted(set(row["employers"])),
            parents=sorted(set(row["parents"])),
            referred=sorted(set(row["referred"])),
        )
    return found


# -- counting, pure ---------------------------------------------------------------------------------------


def _strongest(kind: TraitKind, counts: Counter[str], examined: int, least: int = 1) -> Trait | None:
    """The value most members share (ties by value), if at least ``least`` do."""
    if not counts:
        return None
    value, members = min(counts.items(), key=lambda item: (-item[1], item[0]))
    if members < least:
        return None
    return Trait(kind=kind, value=value, members=members, share=round(members / examined, 6))


def _city(traits: Sequence[MemberTraits]) -> Trait | None:
    return _strongest(TraitKind.CITY, Counter(t.city for t in traits if t.city), len(traits))


def name_cluster(members: Sequence[str], traits: Mapping[str, MemberTraits]) -> GroupName:
    """A cluster's name from its members' traits (members the store no longer holds are not examined)."""
    examined = [traits[member] for member in dict.fromkeys(members) if member in traits]
    if not examined:
        return GroupName(name=None, traits=[], examined=0)
    inside = {t.customer_id for t in examined}
    employers = Counter(employer for t in examined for employer in t.employers)
    referrals = Counter({t.customer_id: 1 + len(inside.intersection(t.referred)) for t in examined})
    employer = _strongest(TraitKind.EMPLOYER, employers, len(examined), least=2)
    referrer = _strongest(TraitKind.REFERRER, referrals, len(examined), least=2)
    city = _city(examined)
    specific = [trait for trait in (employer, referrer) if trait and trait.share >= SPECIFIC_SHARE]
    name = max(specific, key=lambda trait: trait.members) if specific else None  # the employer on a tie
    if name is None and city and city.share >= COMMON_SHARE:
        name = city
    found = sorted((t for t in (employer, referrer, city) if t), key=lambda t: -t.share)
    return GroupName(name=name, traits=found, examined=len(examined))


def name_circle(circle: GuaranteeCircle, traits: Mapping[str, MemberTraits]) -> GroupName:
    """A guarantee circle's name: its company group when at least half its members belong to one, else its
    largest guarantor."""
    examined = [traits[member] for member in circle.members if member in traits]
    # A member heads its own group; a parent company heads the group of its subsidiaries.
    heads = Counter(head for t in examined for head in {t.customer_id, *t.parents})
    group = _strongest(TraitKind.GROUP, heads, max(len(examined), 1), least=2)
    largest = min(circle.ties, key=lambda tie: (-tie.amount, tie.source), default=None)
    guarantor = None
    if largest is not None:
        exposure = circle.total_exposure
        guarantor = Trait(
            kind=TraitKind.GUARANTOR,
            value=largest.source,
            members=1,
            share=round(largest.amount / exposure, 6) if exposure > 0 else 0.0,
            amount=largest.amount,
        )
    city = _city(examined)
    name = group if group and group.share >= COMMON_SHARE else guarantor
    found = [t for t in (group, guarantor, city) if t]
    return GroupName(name=name, traits=found, examined=len(examined))


def size_counts(sizes: Iterable[int]) -> list[SizeCount]:
    """How many groups have each size, smallest first."""
    return [SizeCount(size=size, count=count) for size, count in sorted(Counter(sizes).items())]


# -- clusters and circles ---------------------------------------------------------------------------------


def cluster_names(store: GraphStore, cluster_ids: Sequence[str]) -> dict[str, GroupName]:
    """Names of these clusters (as ``crm-graph analyze`` last summarised them), their members read at once."""
    drawn = {}
    for cluster_id in cluster_ids:
        record = store.get_node(NodeLabel.CLUSTER, cluster_id)
        drawn[cluster_id] = list(record.properties.get("drawn_members") or []) if record else []
    traits = member_traits(store, (member for members in drawn.values() for member in members))
    return {cluster_id: name_cluster(members, traits) for cluster_id, members in drawn.items()}


def circle_names(store: GraphStore, circles: Sequence[GuaranteeCircle]) -> list[GroupName]:
    """Names of these guarantee circles, in their order, their members read at once."""
    traits = member_traits(store, (member for circle in circles for member in circle.members))
    return [name_circle(circle, traits) for circle in circles]


def _count_cluster_sizes(view: GraphView, params: Mapping[str, Any]) -> Rows:
    def count() -> Rows:
        sizes = Counter(
            props["size"] for key in view.keys(NodeLabel.CLUSTER) if (props := view.props(key)).get("rank") is not None
        )
        return [{"size": size, "clusters": clusters} for size, clusters in sorted(sizes.items())]

    return view.derived("cluster_size_counts", count)  # kept until the graph changes


COUNT_CLUSTER_SIZES = NamedQuery("count_cluster_sizes", "queries.cypher", _count_cluster_sizes)


def cluster_size_counts(store: GraphStore) -> list[SizeCount]:
    """How many clusters have each size, over every cluster ``crm-graph analyze`` last summarised."""
    return [SizeCount(size=row["size"], count=row["clusters"]) for row in store.run(COUNT_CLUSTER_SIZES, {})]
