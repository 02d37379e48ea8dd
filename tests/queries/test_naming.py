"""Clusters and guarantee circles named by what their members share, with the evidence, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from graph.embedded import EmbeddedStore
from graph.neo4j_store import Neo4jStore
from graph.store import GraphStore
from queries.guarantees import guarantee_circles
from queries.naming import (
    MemberTraits,
    SizeCount,
    Trait,
    TraitKind,
    circle_names,
    cluster_names,
    cluster_size_counts,
    member_traits,
    name_cluster,
)
from tests.queries.bank import write_bank


def traits(
    customer_id: str, city: str | None = None, employers: tuple[str, ...] = (), referred: tuple[str, ...] = ()
) -> MemberTraits:
    return MemberTraits(
        customer_id=customer_id, city=city, employers=list(employers), parents=[], referred=list(referred)
    )


def _cluster(cluster_id: str, rank: int, members: list[str]) -> dict[str, Any]:
    return {
        "label": "Cluster",
        "id": cluster_id,
        "properties": {"rank": rank, "size": len(members), "drawn_members": members},
    }


def write_named_bank(store: GraphStore) -> GraphStore:
    """The hand-made bank with three clusters written as analyze writes them, and a circle inside c1's group."""
    write_bank(store)
    store.write(
        nodes=[
            _cluster("K000001", 1, ["p1", "p2", "p3", "p4", "p5", "p6"]),
            _cluster("K000002", 2, ["g1", "g2", "g3"]),
            _cluster("K000003", 3, ["p7", "p8"]),
            {"label": "Person", "id": "p9", "properties": {"name": "吴磊", "city": "杭州"}},
            {"label": "Person", "id": "p10", "properties": {"name": "郑爽", "city": "宁波"}},
        ],
        ties=[{"type": "EMPLOYED_BY", "source": person, "target": "c3", "properties": {}} for person in ("p7", "p8")]
        + [
            {"type": "GUARANTEES", "source": "c2", "target": "c1", "properties": {"amount": 30000.0}},
            {"type": "REFERRED", "source": "p9", "target": "p10", "properties": {}},
        ],
    )
    return store


def test_a_cluster_is_named_after_the_employer_or_referrer_covering_most_members_else_its_city() -> None:
    members = ["a", "b", "c", "d", "e", "f"]
    city_only = {m: traits(m, city="杭州") for m in members}
    named = name_cluster(members, city_only)
    assert named.name == Trait(kind=TraitKind.CITY, value="杭州", members=6, share=1.0)

    # Two of six work for one company (a third), three were brought by one referrer: the referrer names it.
    mixed = {
        **city_only,
        "a": traits("a", city="杭州", employers=("co",), referred=("b", "c", "outside")),
        "d": traits("d", city="宁波", employers=("co",)),
    }
    named = name_cluster(members, mixed)
    assert named.name == Trait(kind=TraitKind.REFERRER, value="a", members=3, share=0.5)
    assert [trait.kind for trait in named.traits] == [TraitKind.CITY, TraitKind.REFERRER, TraitKind.EMPLOYER]
    assert named.traits[0].share == pytest.approx(5 / 6, abs=1e-6) and named.examined == 6

    # Nothing shared enough: no name, and a member the store no longer holds is not examined.
    scattered = {m: traits(m, city=f"city-{m}") for m in members}
    assert name_cluster([*members, "gone"], scattered).name is None
    assert name_cluster([*members, "gone"], scattered).examined == 6


def test_cluster_and_circle_names_read_from_the_store(store: GraphStore) -> None:
    write_named_bank(store)
    assert member_traits(store, ["p7", "c2", "p9", "zz"]) == {
        "p7": traits("p7", employers=("c3",)),
        "c2": MemberTraits(customer_id="c2", city=None, employers=[], parents=["c1"], referred=[]),
        "p9": traits("p9", city="杭州", referred=("p10",)),
    }
    names = cluster_names(store, ["K000001", "K000003", "K999999"])
    assert names["K000001"].name is None  # one of six in 杭州, p2 referred p6: two of six, under a third
    assert names["K000003"].name == Trait(kind=TraitKind.EMPLOYER, value="c3", members=2, share=1.0)
    assert names["K999999"].examined == 0
    assert cluster_size_counts(store) == [SizeCount(size=size, count=1) for size in (2, 3, 6)]

    circles = guarantee_circles(store).circles
    by_members = dict(zip((tuple(c.members) for c in circles), circle_names(store, circles), strict=True))
    # c1 and its subsidiary c2 guarantee each other: the c1 group.
    assert by_members[("c1", "c2")].name == Trait(kind=TraitKind.GROUP, value="c1", members=2, share=1.0)
    # g3 guarantees 2,000,000.50 of the 3,500,000.75 around its circle.
    largest = by_members[("g1", "g3", "g2")].name
    assert largest == Trait(
        kind=TraitKind.GUARANTOR, value="g3", members=1, share=round(2000000.5 / 3500000.75, 6), amount=2000000.5
    )
    # Four equal guarantees: the smallest id.
    assert by_members[("h1", "h2", "h3", "h4")].name is not None
    assert by_members[("h1", "h2", "h3", "h4")].name.value == "h1"


@pytest.mark.neo4j
def test_names_agree_across_backends(embedded_store: EmbeddedStore, neo4j_store: Neo4jStore) -> None:
    answers = []
    for store in (embedded_store, neo4j_store):
        write_named_bank(store)
        circles = guarantee_circles(store).circles
        customers = [f"p{n}" for n in range(1, 11)] + ["c1", "c2", "c3", "g1", "g3", "zz"]
        answers.append(
            {
                "traits": {key: value.model_dump() for key, value in member_traits(store, customers).items()},
                "clusters": {
                    key: value.model_dump()
                    for key, value in cluster_names(store, ["K000001", "K000002", "K000003"]).items()
                },
                "sizes": [row.model_dump() for row in cluster_size_counts(store)],
                "circles": [name.model_dump() for name in circle_names(store, circles)],
            }
        )
    embedded, neo4j = answers
    for key in embedded:
        assert embedded[key] == neo4j[key], key
