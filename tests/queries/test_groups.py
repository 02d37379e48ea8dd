"""Households, corporate groups and guarantee circles, on both backends, over the hand-made bank."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel
from graph.query import NamedQuery
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics import analyze
from queries.circle_pages import CircleOrder, CirclePage, guarantee_circle_page
from queries.groups import DEFAULT_GROUP_SIZE, GET_CUSTOMER_GROUP, corporate_group, household
from queries.guarantees import find_guarantee_circles, guarantee_chains, guarantee_circles
from queries.naming import SizeCount
from tests.queries.bank import TODAY, write_bank


@pytest.fixture
def bank(store: GraphStore) -> GraphStore:
    return write_bank(store)


def test_household_is_the_family_component_with_its_rollup(bank: GraphStore) -> None:
    group = household(bank, "p3")
    assert group.kind == "household" and group.anchor_id == "p3"
    assert [member.id for member in group.members] == ["p1", "p2", "p3", "p4"]
    assert [(t.type.value, t.source, t.target) for t in group.ties] == [
        ("PARENT_OF", "p1", "p3"),
        ("SIBLING_OF", "p1", "p4"),
        ("SPOUSE_OF", "p1", "p2"),
    ]
    members = {member.id: member for member in group.members}
    assert (members["p1"].deposits, members["p1"].assets_under_management, members["p1"].loans) == (
        1200.1,
        6200.43,
        0.0,
    )
    assert (members["p2"].assets_under_management, members["p2"].loans) == (5000.33, 150000.0)  # joint a2; not a6
    rollup = group.rollup
    assert rollup.members == 4
    assert (rollup.deposits, rollup.assets_under_management, rollup.loans) == (1500.3, 6500.63, 150000.0)
    assert (rollup.guarantees_given, rollup.guarantees_received, rollup.guarantees_internal) == (88000.0, 0.0, 0.0)
    assert [(p.product_id, p.holders, p.share) for p in rollup.products] == [
        ("LN01", 1, 0.25),
        ("TD01", 2, 0.5),
        ("WM01", 2, 0.5),
    ]
    assert not group.truncated


def test_household_of_someone_without_family_is_one_member(bank: GraphStore) -> None:
    group = household(bank, "p6")
    assert [member.id for member in group.members] == ["p6"] and group.ties == []
    assert group.rollup.deposits == 0.0 and group.rollup.products == []


def test_corporate_group_follows_control_ties_only(bank: GraphStore) -> None:
    group = corporate_group(bank, "p8")
    assert [member.id for member in group.members] == ["c1", "c2", "p1", "p8"]
    assert [(t.type.value, t.source, t.target) for t in group.ties] == [
        ("LEGAL_REP_OF", "p1", "c1"),
        ("LEGAL_REP_OF", "p8", "c2"),
        ("SHAREHOLDER_OF", "p1", "c1"),
        ("SUBSIDIARY_OF", "c2", "c1"),
    ]
    rollup = group.rollup
    assert (rollup.deposits, rollup.assets_under_management, rollup.loans) == (2001200.1, 2006200.43, 5012345.68)
    assert (rollup.guarantees_given, rollup.guarantees_received, rollup.guarantees_internal) == (
        200000.0,
        50000.0,
        100000.0,
    )
    assert [(p.product_id, p.holders, p.share) for p in rollup.products] == [
        ("CC01", 1, 0.25),
        ("LN01", 1, 0.25),
        ("TD01", 2, 0.5),
        ("WM01", 1, 0.25),
    ]


def test_control_threshold_decides_which_shareholdings_count(bank: GraphStore) -> None:
    assert [m.id for m in corporate_group(bank, "c1", control_threshold=0.3).members] == ["c1", "c2", "c3", "p1", "p8"]
    assert [m.id for m in corporate_group(bank, "c1", control_threshold=0.1).members] == [
        "c1",
        "c2",
        "c3",
        "p1",
        "p7",
        "p8",
    ]
    assert [m.id for m in corporate_group(bank, "c1", control_threshold=0.7).members] == ["c1", "c2", "p1", "p8"]


def test_groups_are_bounded(bank: GraphStore) -> None:
    group = corporate_group(bank, "c1", control_threshold=0.1, max_members=2)
    assert len(group.members) == 2 and group.truncated
    assert group.rollup.members == 2


def test_guarantee_circles_are_listed_once_from_the_smallest_id(bank: GraphStore) -> None:
    found = guarantee_circles(bank)
    assert found.total == 3
    assert [circle.members for circle in found.circles] == [["g6", "g7"], ["g1", "g3", "g2"], ["h1", "h2", "h3", "h4"]]
    ring = found.circles[1]
    assert [(t.source, t.target, t.amount) for t in ring.ties] == [
        ("g1", "g3", 1000000.0),
        ("g3", "g2", 2000000.5),
        ("g2", "g1", 500000.25),
    ]
    assert ring.total_exposure == 3500000.75
    assert found.circles[0].total_exposure == 30.3


def test_guarantee_circles_respect_length_and_limit(bank: GraphStore) -> None:
    assert [c.members for c in guarantee_circles(bank, max_length=3).circles] == [["g6", "g7"], ["g1", "g3", "g2"]]
    assert [c.members for c in guarantee_circles(bank, max_length=2).circles] == [["g6", "g7"]]
    limited = guarantee_circles(bank, limit=1)
    assert len(limited.circles) == 1 and limited.total == 3


def test_circles_analyze_found_are_read_as_the_search_finds_them(bank: GraphStore) -> None:
    analyze(bank, AnalyticsSettings(as_of=TODAY))
    assert len(list(bank.nodes(NodeLabel.GUARANTEE_CIRCLE))) == 3
    for length in (2, 3, 6):
        for limit in (1, 2, 100):
            assert guarantee_circles(bank, length, limit) == find_guarantee_circles(bank, length, limit)
    # What analyze found is read, not searched again: an amount changed since shows only in a new search.
    bank.write(ties=[{"type": "GUARANTEES", "source": "g6", "target": "g7", "properties": {"amount": 99.0}}])
    assert guarantee_circles(bank).circles[0].total_exposure == 30.3
    assert find_guarantee_circles(bank).circles[0].total_exposure == 119.2
    # The next analysis replaces the circles it no longer finds.
    bank.write(nodes=[{"label": "GuaranteeCircle", "id": "G000009", "properties": {"rank": 9, "members": ["x"]}}])
    analyze(bank, AnalyticsSettings(as_of=TODAY))
    assert sorted(record.id for record in bank.nodes(NodeLabel.GUARANTEE_CIRCLE)) == ["G000001", "G000002", "G000003"]
    assert guarantee_circles(bank) == find_guarantee_circles(bank)


def test_a_page_of_circles_is_its_slice_of_the_list_whether_stored_or_searched(bank: GraphStore) -> None:
    def pages(order: CircleOrder) -> list[CirclePage]:
        return [
            guarantee_circle_page(bank, order=order, skip=skip, limit=limit) for skip in range(4) for limit in (1, 2, 9)
        ]

    searched = {order: pages(order) for order in ("ring", "exposure")}
    analyze(bank, AnalyticsSettings(as_of=TODAY))
    assert len(list(bank.nodes(NodeLabel.GUARANTEE_CIRCLE))) == 3  # read from here on, not searched
    stored = {order: pages(order) for order in ("ring", "exposure")}
    assert stored == searched
    ring = guarantee_circles(bank).circles
    exposure = sorted(ring, key=lambda circle: -circle.total_exposure)
    assert (
        [c.total_exposure for c in exposure]
        == sorted((c.total_exposure for c in ring), reverse=True)
        != [c.total_exposure for c in ring]
    )
    wanted = {"ring": ring, "exposure": exposure}
    for order, found in stored.items():
        slices = [wanted[order][skip : skip + limit] for skip in range(4) for limit in (1, 2, 9)]
        assert [page.circles for page in found] == slices
        assert all(page.total == 3 for page in found)
        assert all(page.sizes == [SizeCount(size=size, count=1) for size in (2, 3, 4)] for page in found)


def test_guarantee_chains_follow_who_stands_behind_whom(bank: GraphStore) -> None:
    found = guarantee_chains(bank, "g5")
    assert [chain.members for chain in found.chains] == [["g5", "c1", "c2", "g4", "g1", "g3", "g2"]]
    assert found.chains[0].total_exposure == 50000.0 + 100000.0 + 200000.0 + 300000.0 + 1000000.0 + 2000000.5
    short = guarantee_chains(bank, "g5", max_depth=2)
    assert [chain.members for chain in short.chains] == [["g5", "c1", "c2"]]
    assert [(t.source, t.target, t.amount) for t in short.chains[0].ties] == [
        ("g5", "c1", 50000.0),
        ("c1", "c2", 100000.0),
    ]
    # A chain stops where it would come back to one of its members (g2 guarantees g1 again).
    assert guarantee_chains(bank, "g1").chains[0].members == ["g1", "g3", "g2"]
    assert guarantee_chains(bank, "p1").chains == []


def test_unknown_customer_is_not_found(bank: GraphStore) -> None:
    with pytest.raises(NotFound):
        household(bank, "zz")
    with pytest.raises(NotFound):
        corporate_group(bank, "zz")
    with pytest.raises(NotFound):
        guarantee_chains(bank, "zz")


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5])
def test_bad_threshold_is_refused(bank: GraphStore, threshold: float) -> None:
    with pytest.raises(InvalidRequest, match=r"control_threshold must be in \(0, 1\]"):
        corporate_group(bank, "c1", control_threshold=threshold)


def test_bad_bounds_are_refused(bank: GraphStore) -> None:
    with pytest.raises(InvalidRequest, match="max_members must be an integer between 1 and 2000"):
        household(bank, "p1", max_members=0)
    with pytest.raises(InvalidRequest, match="max_length must be an integer between 2 and 6"):
        guarantee_circles(bank, max_length=7)
    with pytest.raises(InvalidRequest, match="limit must be an integer between 1 and 1000"):
        guarantee_circles(bank, limit=0)


def test_a_whole_group_read_in_one_statement_is_the_group_the_search_finds(
    bank: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every customer's household and corporate groups as one statement reads them equal what the breadth-first
    search and the members' statement find (the path taken when the statement answers nothing), cut or not."""
    customers = sorted(record.id for record in bank.nodes(NodeLabel.CUSTOMER))
    groups = [
        (customer, max_members, kind)
        for customer in [*customers, "zz"]
        for max_members in (2, DEFAULT_GROUP_SIZE)
        for kind in ("household", "corporate", "corporate_loose")
    ]

    def answers() -> list[object]:
        found: list[object] = []
        for customer, max_members, kind in groups:
            try:
                if kind == "household":
                    group = household(bank, customer, max_members=max_members)
                else:
                    threshold = 0.5 if kind == "corporate" else 0.1
                    group = corporate_group(bank, customer, threshold, max_members=max_members)
                found.append(group.model_dump(mode="json"))
            except NotFound as error:
                found.append(str(error))
        return found

    read = answers()
    whole = [answer for answer in read if isinstance(answer, dict) and not answer["truncated"]]
    assert len(whole) > len(customers) and any(len(answer["members"]) > 2 for answer in whole)
    assert any(isinstance(answer, dict) and answer["truncated"] for answer in read)
    asked = bank.run

    def searched(query: NamedQuery, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [] if query is GET_CUSTOMER_GROUP else asked(query, params)

    monkeypatch.setattr(bank, "run", searched)
    assert answers() == read
