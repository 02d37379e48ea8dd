"""Where customers bank: their BANKED_AT ties to branches, for drawing branches in a network.

Branches are not customers, so the network's traversal never passes through them (two customers of one branch
are not related by it); this question only adds, for customers already drawn, the branches they bank at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore


class BranchTie(BaseModel):
    """A customer banking at a branch."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    branch_id: str
    branch_name: str | None


def _list_customer_branches(view: GraphView, params: Mapping[str, Any]) -> Rows:
    rows = []
    for customer_id in params["customer_ids"]:
        if not view.has(NodeLabel.CUSTOMER, customer_id):
            continue
        for _, branch, _ in view.out_ties((NodeLabel.CUSTOMER, customer_id), [TieType.BANKED_AT]):
            if branch[0] is NodeLabel.BRANCH:
                name = view.props(branch).get("name")
                rows.append({"customer_id": customer_id, "branch_id": branch[1], "branch_name": name})
    rows.sort(key=lambda row: (row["customer_id"], row["branch_id"]))
    return rows


LIST_CUSTOMER_BRANCHES = NamedQuery("list_customer_branches", "queries.cypher", _list_customer_branches)


def customer_branches(store: GraphStore, customer_ids: Iterable[str]) -> list[BranchTie]:
    """The branches these customers bank at, by customer then branch id."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return []
    return [BranchTie(**row) for row in store.run(LIST_CUSTOMER_BRANCHES, {"customer_ids": wanted})]
