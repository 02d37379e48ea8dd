"""What the explorer draws from: "N more" counts, evidence paths and churn contributors as graph nodes (real id
in the book, the network's stub id outside it), cluster summaries and graphs, portfolio opportunities, products."""

from __future__ import annotations

from typing import Any

from graph.store import GraphStore
from queries.guarantees import circle_rows, find_guarantee_circles
from tests.api.conftest import CheckedClient, auth

V1 = "/api/v1"


def _get(client: CheckedClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(V1 + path, params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def _stub_ids(client: CheckedClient, token: str) -> dict[str, str]:
    """Masked name -> opaque id of the stubs the network endpoint gives around p1 (depth 2)."""
    related = _get(client, token, "/customers/p1/network", depth=2)["related"]
    return {item["stub"]["name"]: item["stub"]["opaque_id"] for item in related if item["stub"]}


def test_network_counts_the_neighbours_left_out(client: CheckedClient, tokens: dict[str, str]) -> None:
    capped = _get(client, tokens["manager"], "/customers/p1/network", limit=1)
    assert len(capped["related"]) == 1 and capped["omitted_neighbours"] == 2  # p1 has p2, p3 and c1
    full = _get(client, tokens["manager"], "/customers/p1/network", depth=2)
    assert full["omitted_neighbours"] == 0 and full["truncated"] is False
    by_kind = {(item["customer"] or {}).get("id") or "stub": item for item in full["related"]}
    assert by_kind["p3"]["omitted_neighbours"] == 0 and by_kind["c1"]["omitted_neighbours"] == 0
    assert all(item["omitted_neighbours"] is None for item in full["related"] if item["stub"])


def test_evidence_paths_name_nodes_as_the_graph_draws_them(client: CheckedClient, tokens: dict[str, str]) -> None:
    admin = _get(client, tokens["admin"], "/customers/p1/recommendations")
    deposit = next(item for item in admin["recommendations"] if item["product_code"] == "TD01")
    assert deposit["product_name"] == "定期存款" and "SPOUSE_OF" in deposit["why"]
    assert set(deposit["parts"]) == {"network", "similar", "eligibility"} and deposit["parts"]["network"] > 0
    path = deposit["evidence"][0]
    assert path["ties"] == ["SPOUSE_OF"]
    assert path["nodes"] == [
        {"id": "p1", "stub": False, "name": "王*", "kind": "Person"},
        {"id": "p2", "stub": False, "name": "李*", "kind": "Person"},
    ]


def test_evidence_does_not_tell_what_another_book_holds(client: CheckedClient, tokens: dict[str, str]) -> None:
    """p1's spouse p2 (m2's book) holds TD01: m1 is offered TD01 for p1, but not told that, nor through whom."""
    body = _get(client, tokens["manager"], "/customers/p1/recommendations")
    deposit = next(item for item in body["recommendations"] if item["product_code"] == "TD01")
    assert deposit["evidence"] == [] and "SPOUSE_OF" not in str(deposit["why"])
    assert "network" not in str(deposit["why"])
    assert "network" not in deposit["parts"] and "similar" in deposit["parts"]  # the score's parts say no more
    assert _stub_ids(client, tokens["manager"])["李*"] not in client.bodies[-2]


def test_churn_contributors_are_graph_nodes(client: CheckedClient, tokens: dict[str, str]) -> None:
    body = _get(client, tokens["manager"], "/customers/p1/churn-risk")
    node = body["contributors"][0]["node"]
    assert node["stub"] is True and node["id"] == body["contributors"][0]["stub"]["opaque_id"]
    assert node["id"] == _stub_ids(client, tokens["manager"])["李*"]
    risk = _get(client, tokens["risk"], "/customers/p1/churn-risk")
    assert risk["contributors"][0]["node"] == {"id": "p2", "stub": False, "name": "李*", "kind": "Person"}


def test_cluster_summaries_for_marketing(client: CheckedClient, tokens: dict[str, str]) -> None:
    (cluster,) = _get(client, tokens["marketing"], "/clusters")["items"]
    assert cluster["id"] == "k1" and cluster["size"] == 2 and cluster["total_aum"] == 500000.0
    assert sorted(member["name"] for member in cluster["central_members"]) == ["李*", "王*"]
    assert all(member["opaque_id"].startswith("x-") for member in cluster["central_members"])
    assert cluster["product_penetration"] == [
        {"product_code": "FUND01", "product_name": "稳健理财", "share": 0.5},
        {"product_code": "TD01", "product_name": "定期存款", "share": 0.5},
    ]
    assert cluster["referrals_per_member"] == 0.0 and cluster["referred_active_share"] == 0.0


def test_cluster_detail_draws_members_and_their_ties(client: CheckedClient, tokens: dict[str, str]) -> None:
    body = _get(client, tokens["marketing"], "/clusters/k1")
    ids = {member["opaque_id"] for member in body["members"]}
    assert len(ids) == 2 and all(member.startswith("x-") for member in ids)
    assert [(tie["type"], {tie["source"], tie["target"]}) for tie in body["ties"]] == [("SPOUSE_OF", ids)]
    assert body["cluster"]["size"] == 2 and '"p1"' not in client.bodies[-1]
    assert client.get(f"{V1}/clusters/nope", headers=auth(tokens["marketing"])).status_code == 404


def test_portfolio_lists_the_best_opportunities(client: CheckedClient, tokens: dict[str, str]) -> None:
    body = _get(client, tokens["manager"], "/managers/m1/portfolio")
    recommendations = _get(client, tokens["manager"], "/customers/p1/recommendations")["recommendations"]
    # m1's book: p1 consents, p3 refused, c1 never said; so every opportunity is p1's.
    assert [(o["customer_id"], o["product_code"], o["score"]) for o in body["opportunities"]] == [
        ("p1", r["product_code"], r["score"]) for r in recommendations
    ]
    first = body["opportunities"][0]
    assert first["customer_name"] == "王伟" and first["product_name"] == "定期存款"  # his own customer: in clear
    assert "SPOUSE_OF" not in str(first["why"])  # the spouse holding it is in another book
    # The portfolio explains each opportunity as the panel explains the recommendation: the same parts and ties.
    for opportunity, recommendation in zip(body["opportunities"], recommendations, strict=True):
        assert opportunity["parts"] == recommendation["parts"] and opportunity["parts"]
        ties = {tie for path in recommendation["evidence"] for tie in path["ties"]}
        assert opportunity["evidence_ties"] == sorted(ties)
    assert "SPOUSE_OF" not in first["evidence_ties"] and "network" not in first["parts"]
    assert _get(client, tokens["risk"], "/managers/m2/portfolio")["opportunities"][0]["customer_id"] in {"p2", "p4"}


def test_product_catalogue(client: CheckedClient, tokens: dict[str, str]) -> None:
    for token in ("manager", "marketing", "risk", "admin"):
        assert _get(client, tokens[token], "/products")["items"] == [
            {"id": "FUND01", "name": "稳健理财", "category": "investment"},
            {"id": "TD01", "name": "定期存款", "category": "deposit"},
        ]
    assert client.get(f"{V1}/products", headers=auth(tokens["service_none"])).status_code == 403


def test_each_related_customer_carries_the_tie_that_reached_it(client: CheckedClient, tokens: dict[str, str]) -> None:
    """The hover details of a drawn tie: its direction from the customer it was reached from, amount, ratio."""
    related = _get(client, tokens["manager"], "/customers/c1/network")["related"]
    ties = {(item["customer"] or {}).get("id") or "stub": (item["tie_type"], item["tie"]) for item in related}
    assert ties["p1"] == ("SHAREHOLDER_OF", {"outward": False, "amount": None, "ratio": 0.6, "since": None})
    # Of the two guarantees between c1 and p2 (another book: a stub), the first by source id reached it.
    assert ties["stub"] == ("GUARANTEES", {"outward": True, "amount": 1000.0, "ratio": None, "since": None})


def test_shortest_paths_show_customers_out_of_sight_as_the_network_stubs(
    client: CheckedClient, tokens: dict[str, str]
) -> None:
    stubs = _stub_ids(client, tokens["manager"])
    body = _get(client, tokens["manager"], "/customers/p1/paths/c1", types=["SPOUSE_OF", "GUARANTEES"])
    assert body["hops"] == 2 and '"p2"' not in client.bodies[-1]
    # Through his spouse p2 (another book), who guarantees c1 and is guaranteed by it: two paths, one stub.
    middle = {path["nodes"][1]["id"] for path in body["paths"]}
    assert len(middle) == 1 and middle <= set(stubs.values()) and all(p["nodes"][1]["stub"] for p in body["paths"])
    assert [(path["ties"], path["forward"]) for path in body["paths"]] == [
        (["SPOUSE_OF", "GUARANTEES"], [True, False]),
        (["SPOUSE_OF", "GUARANTEES"], [True, True]),
    ]
    assert _get(client, tokens["manager"], "/customers/p1/paths/p3")["paths"][0]["ties"] == ["PARENT_OF"]
    # Another book's customer is not there to be reached.
    assert client.get(f"{V1}/customers/p1/paths/p4", headers=auth(tokens["manager"])).status_code == 404


def test_clusters_and_circles_come_named_with_their_evidence(client: CheckedClient, tokens: dict[str, str]) -> None:
    page = _get(client, tokens["marketing"], "/clusters")
    (cluster,) = page["items"]
    # p1 lives in 杭州, his spouse p2 has no city on file: half the members, enough for a city to name it.
    assert cluster["label"] == "杭州" and cluster["naming"]["examined"] == 2
    assert cluster["naming"]["name"] == {
        "kind": "city",
        "text": "杭州",
        "customer": None,
        "members": 1,
        "share": 0.5,
        "amount": None,
    }
    assert page["total"] == 1 and page["sizes"] == [{"size": 2, "count": 1}]
    assert _get(client, tokens["marketing"], "/clusters/k1")["cluster"]["naming"] == cluster["naming"]

    circles = _get(client, tokens["risk"], "/guarantee-circles")
    assert circles["total"] == 1 and circles["sizes"] == [{"size": 2, "count": 1}]
    (pair,) = circles["items"]  # c1 and p2 guarantee each other 1,000 and 500: c1 the larger
    assert pair["total_exposure"] == 1500.0
    name = pair["naming"]["name"]
    assert name["kind"] == "guarantor" and name["customer"]["id"] == "c1" and not name["customer"]["stub"]
    assert name["text"] == name["customer"]["name"] and name["amount"] == 1000.0 and name["share"] == 0.666667


def test_a_household_comes_with_its_ties_as_they_point(client: CheckedClient, tokens: dict[str, str]) -> None:
    body = _get(client, tokens["manager"], "/customers/p1/household")
    stubs = {item["stub"]["name"]: item["stub"]["opaque_id"] for item in body["members"] if item["stub"]}
    spouse, sibling = stubs["李*"], stubs["陈*"]  # p2 and p4 are in m2's book: stubs, by the network's ids
    # p4 is p2's sibling, not p1's: no tie is drawn from the anchor to every member.
    assert [(tie["type"], tie["source"], tie["target"]) for tie in body["ties"]] == [
        ("PARENT_OF", "p1", "p3"),
        ("SIBLING_OF", spouse, sibling),
        ("SPOUSE_OF", "p1", spouse),
    ]
    assert spouse == _stub_ids(client, tokens["manager"])["李*"]


def test_a_network_names_the_branches_its_customers_bank_at_when_asked(
    client: CheckedClient, tokens: dict[str, str], bank: GraphStore
) -> None:
    bank.write(nodes=[], ties=[{"type": "BANKED_AT", "source": c, "target": "b1"} for c in ("p1", "p2", "p3")])
    plain = _get(client, tokens["manager"], "/customers/p1/network")
    assert plain["branches"] == []
    body = _get(client, tokens["manager"], "/customers/p1/network", types=["BANKED_AT"])
    assert body["related"] == plain["related"]  # BANKED_AT alone still follows every tie between customers
    # p2 is in m2's book (a stub here): where a stub banks is not told.
    assert body["branches"] == [
        {"customer_id": customer, "branch_id": "b1", "branch_name": "西湖支行"} for customer in ("p1", "p3")
    ]
    spouse = _get(client, tokens["manager"], "/customers/p1/network", types=["SPOUSE_OF", "BANKED_AT"])
    assert [item["tie_type"] for item in spouse["related"]] == ["SPOUSE_OF"]
    assert [tie["customer_id"] for tie in spouse["branches"]] == ["p1"]
    assert (
        client.get(
            f"{V1}/customers/p1/network", params={"types": "MANAGES"}, headers=auth(tokens["manager"])
        ).status_code
        == 422
    )


def test_circles_listed_by_exposure_put_the_largest_first(
    client: CheckedClient, tokens: dict[str, str], bank: GraphStore
) -> None:
    bank.write(
        nodes=[],
        ties=[
            {"type": "GUARANTEES", "source": "p3", "target": "p4", "properties": {"amount": 5000.0}},
            {"type": "GUARANTEES", "source": "p4", "target": "p3", "properties": {"amount": 1.0}},
        ],
    )

    def listed(**params: Any) -> list[tuple[float, list[str]]]:
        body = _get(client, tokens["risk"], "/guarantee-circles", **params)
        return [(c["total_exposure"], [m["customer"]["id"] for m in c["members"]]) for c in body["items"]]

    assert listed() == [(1500.0, ["c1", "p2"]), (5001.0, ["p3", "p4"])]
    assert listed(order="exposure") == [(5001.0, ["p3", "p4"]), (1500.0, ["c1", "p2"])]
    first = _get(client, tokens["risk"], "/guarantee-circles", order="exposure", page_size=1)
    second = _get(client, tokens["risk"], "/guarantee-circles", order="exposure", cursor=first["next_cursor"])
    assert [m["customer"]["id"] for m in second["items"][0]["members"]] == ["c1", "p2"]


def test_every_page_of_stored_circles_is_walked_in_either_order(
    client: CheckedClient, tokens: dict[str, str], bank: GraphStore
) -> None:
    # As analyze stores them: the route asks the store for its page alone, in ring order or by exposure.
    bank.write(
        ties=[
            {"type": "GUARANTEES", "source": "p3", "target": "p4", "properties": {"amount": 5000.0}},
            {"type": "GUARANTEES", "source": "p4", "target": "p3", "properties": {"amount": 1.0}},
        ]
    )
    bank.write(nodes=circle_rows(find_guarantee_circles(bank), "2024-06-01T02:00:00"))

    def walk(order: str) -> tuple[list[list[str]], dict[str, Any]]:
        seen, params = [], {"page_size": 1, "order": order}
        while True:
            page = _get(client, tokens["risk"], "/guarantee-circles", **params)
            seen += [[m["customer"]["id"] for m in item["members"]] for item in page["items"]]
            if not page["next_cursor"]:
                return seen, page
            params["cursor"] = page["next_cursor"]

    ring, last = walk("ring")
    assert ring == [["c1", "p2"], ["p3", "p4"]] and last["total"] == 2
    assert last["sizes"] == [{"size": 2, "count": 2}]
    assert walk("exposure")[0] == [["p3", "p4"], ["c1", "p2"]]


def test_every_cluster_page_follows_the_ranking(
    client: CheckedClient, tokens: dict[str, str], bank: GraphStore
) -> None:
    # The route asks the store for its page alone (skip and limit): pages of one walk the ranking without a gap.
    summary = {"size": 1, "total_aum": 0.0, "referrals_per_member": 0.0, "referred_active_share": 0.0}
    bank.write(
        nodes=[{"label": "Cluster", "id": f"k{rank}", "properties": {"rank": rank, **summary}} for rank in (2, 3)]
    )
    seen, params = [], {"page_size": 1}
    while True:
        page = _get(client, tokens["marketing"], "/clusters", **params)
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["k1", "k2", "k3"] and page["total"] == 3
