"""The fields of typed query results that :mod:`api.masking` and the response models read.

Each helper takes one result type of ``queries/`` and names the fields it passes on, so that a field renamed
in a query fails type checking here instead of silently disappearing from an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.group_models import GroupNamePublic, TraitPublic
from api.models import AccountPublic, NodeRefPublic
from queries.customers import AccountHolding, CustomerSummary
from queries.groups import GroupMember
from queries.naming import GroupName, Trait, TraitKind
from queries.network import EgoNode


def summary_fields(customer: CustomerSummary) -> dict[str, Any]:
    """A listed customer's fields, as :func:`api.masking.public_customer` reads them."""
    return {**customer.model_dump(exclude={"kind"}), "kind": customer.kind.value}


def network_node_fields(node: EgoNode) -> dict[str, Any]:
    """A customer of an ego network: what the network query read of it."""
    return {"id": node.id, "kind": node.kind.value, "name": node.name, "tier": node.tier, "churn_risk": node.churn_risk}


def group_member_fields(member: GroupMember) -> dict[str, Any]:
    """A household or group member with its own totals."""
    return {
        "id": member.id,
        "kind": member.kind.value,
        "name": member.name,
        "segment": member.segment,
        "tier": member.tier,
        "churn_risk": member.churn_risk,
        "deposits": member.deposits,
        "aum": member.assets_under_management,
        "loans": member.loans,
    }


def holding(item: AccountHolding) -> AccountPublic:
    """An account the customer holds; the card number is not part of a holding."""
    return AccountPublic(
        id=item.account_id, role=item.role, product_id=item.product_id, status=item.status, balance=item.latest_balance
    )


def number(value: Any) -> float | None:
    """A stored property (a tie's amount or ratio) as a float, None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def public_naming(found: GroupName, node_ref: Callable[[str], NodeRefPublic]) -> GroupNamePublic:
    """A group's name and evidence as the caller may see them: each customer trait through ``node_ref`` (the
    customer in full when in sight, else the network's stub), a city as it is."""

    def shown(trait: Trait) -> TraitPublic:
        customer = None if trait.kind is TraitKind.CITY else node_ref(trait.value)
        text = trait.value if customer is None else customer.name or "***"
        return TraitPublic(**trait.model_dump(exclude={"value"}), text=text, customer=customer)

    return GroupNamePublic(
        name=shown(found.name) if found.name else None,
        traits=[shown(trait) for trait in found.traits],
        examined=found.examined,
    )
