"""Who may do what: the role and permission matrix, as data.

Every token has one role; a role brings a fixed set of permissions, and some extra permissions may be
granted when the token is issued (only those the role's ``grantable`` column lists). Endpoints name the
permissions they need in :data:`ENDPOINTS`; nothing else in the API decides access.

=================  ===================================================  ===========================
role               permissions it always has                            may also be granted
=================  ===================================================  ===========================
manager            customers:read:book, network:read,                    --
                   recommendations:read, churn:read,
                   portfolio:read:own, interactions:write,
                   products:read
marketing          clusters:read, prospects:read, products:read          --
risk               customers:read:all, network:read, churn:read,         pii:unmask
                   clusters:read, managers:read, portfolio:read:all,
                   guarantee-circles:read, products:read, models:read
admin              every permission but pii:unmask,                      pii:unmask
                   interactions:write and the :book/:own scopes
service            none                                                  any but audit:read,
                                                                         pii:unmask, interactions:write,
                                                                         models:read
=================  ===================================================  ===========================

Scopes: ``customers:read:book`` shows only the customers the token's manager MANAGES; a customer
outside the book, asked for directly, is answered 404 so that its existence is not revealed, and one
reached through a tie appears only as a masked stub. ``customers:read:all`` shows every customer.
Every response masks personal fields; ``pii:unmask`` together with a ``reason`` shows them (audited).

One permission model for customer data: a customer's id and fields are shown only to a token that
"sees" the customer, by the same check as the customer 360 (a customer-read permission, and the book
for ``customers:read:book``). Endpoints answering with customers in full (:data:`CUSTOMER_ENDPOINTS`,
the portfolio included) refuse a token with no customer-read permission at all; endpoints built on
aggregates (clusters, prospects, guarantee circles) show every customer out of sight as a stub: an
opaque id and a masked name, never what the customer holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


class Role(StrEnum):
    MANAGER = "manager"
    MARKETING = "marketing"
    RISK = "risk"
    ADMIN = "admin"
    SERVICE = "service"


class Permission(StrEnum):
    CUSTOMERS_BOOK = "customers:read:book"
    CUSTOMERS_ALL = "customers:read:all"
    NETWORK = "network:read"
    RECOMMENDATIONS = "recommendations:read"
    CHURN = "churn:read"
    CLUSTERS = "clusters:read"
    PROSPECTS = "prospects:read"
    MANAGERS = "managers:read"
    PORTFOLIO_OWN = "portfolio:read:own"
    PORTFOLIO_ALL = "portfolio:read:all"
    INTERACTIONS_WRITE = "interactions:write"
    GUARANTEE_CIRCLES = "guarantee-circles:read"
    PRODUCTS = "products:read"
    AUDIT = "audit:read"
    MODELS = "models:read"
    UNMASK = "pii:unmask"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MANAGER: frozenset(
        {P.CUSTOMERS_BOOK, P.NETWORK, P.RECOMMENDATIONS, P.CHURN, P.PORTFOLIO_OWN, P.INTERACTIONS_WRITE, P.PRODUCTS}
    ),
    Role.MARKETING: frozenset({P.CLUSTERS, P.PROSPECTS, P.PRODUCTS}),
    Role.RISK: frozenset(
        {
            P.CUSTOMERS_ALL,
            P.NETWORK,
            P.CHURN,
            P.CLUSTERS,
            P.MANAGERS,
            P.PORTFOLIO_ALL,
            P.GUARANTEE_CIRCLES,
            P.PRODUCTS,
            P.MODELS,
        }
    ),
    Role.ADMIN: frozenset(set(Permission) - {P.UNMASK, P.INTERACTIONS_WRITE, P.CUSTOMERS_BOOK, P.PORTFOLIO_OWN}),
    Role.SERVICE: frozenset(),
}
"""Permissions every token of a role has."""

GRANTABLE: dict[Role, frozenset[Permission]] = {
    Role.MANAGER: frozenset(),
    Role.MARKETING: frozenset(),
    Role.RISK: frozenset({P.UNMASK}),
    Role.ADMIN: frozenset({P.UNMASK}),
    Role.SERVICE: frozenset(
        set(Permission) - {P.AUDIT, P.UNMASK, P.INTERACTIONS_WRITE, P.CUSTOMERS_BOOK, P.PORTFOLIO_OWN, P.MODELS}
    ),
}
"""Permissions that may be added to a role's when a token is issued."""

ROLES_NEEDING_MANAGER: frozenset[Role] = frozenset({Role.MANAGER})
"""Roles whose tokens must name the manager they act as (their book is that manager's)."""

CUSTOMER_READ = frozenset({P.CUSTOMERS_BOOK, P.CUSTOMERS_ALL})

ENDPOINTS: dict[str, frozenset[Permission]] = {
    # endpoint name: the token needs ALL of these, plus (for customer endpoints) sight of the customer
    "search_customers": frozenset(),
    "get_customer": frozenset(),
    "get_network": frozenset({P.NETWORK}),
    "get_paths": frozenset({P.NETWORK}),
    "get_household": frozenset({P.NETWORK}),
    "get_group": frozenset({P.NETWORK}),
    "get_recommendations": frozenset({P.RECOMMENDATIONS}),
    "get_churn_risk": frozenset({P.CHURN}),
    "log_interaction": frozenset({P.INTERACTIONS_WRITE}),
    "list_clusters": frozenset({P.CLUSTERS}),
    "get_cluster": frozenset({P.CLUSTERS}),
    "list_prospects": frozenset({P.PROSPECTS}),
    "list_products": frozenset({P.PRODUCTS}),
    "list_managers": frozenset({P.MANAGERS}),
    "get_portfolio": frozenset(),
    "list_guarantee_circles": frozenset({P.GUARANTEE_CIRCLES}),
    "list_audit": frozenset({P.AUDIT}),
    "get_models": frozenset({P.MODELS}),
}
"""Permissions each endpoint needs. Customer endpoints also need one of :data:`CUSTOMER_READ`."""

CUSTOMER_ENDPOINTS = frozenset(
    {
        "search_customers",
        "get_customer",
        "get_network",
        "get_paths",
        "get_household",
        "get_group",
        "get_recommendations",
        "get_churn_risk",
        "log_interaction",
        "get_portfolio",
    }
)
"""Endpoints that answer with customers in full: they need one of :data:`CUSTOMER_READ` as well."""


class Scope(StrEnum):
    NONE = "none"
    BOOK = "book"
    ALL = "all"


@dataclass(frozen=True)
class Principal:
    """The holder of a verified token."""

    token_id: str
    name: str
    role: Role
    manager_id: str | None
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    @cached_property
    def customer_scope(self) -> Scope:
        """Which customers the token may see in full (asked for every customer a response shows; the registry
        keeps a verified principal, so this is worked out once per token)."""
        if P.CUSTOMERS_ALL in self.permissions:
            return Scope.ALL
        if P.CUSTOMERS_BOOK in self.permissions and self.manager_id:
            return Scope.BOOK
        return Scope.NONE

    def may_call(self, endpoint: str) -> bool:
        """Whether the role and grants allow the endpoint at all (before looking at any customer)."""
        needed = ENDPOINTS[endpoint]
        if not needed <= self.permissions:
            return False
        if endpoint in CUSTOMER_ENDPOINTS and self.customer_scope is Scope.NONE:
            return False
        if endpoint == "get_portfolio":
            return bool(self.permissions & {P.PORTFOLIO_ALL, P.PORTFOLIO_OWN})
        return True

    def may_see_portfolio(self, manager_id: str) -> bool:
        if P.PORTFOLIO_ALL in self.permissions:
            return True
        return P.PORTFOLIO_OWN in self.permissions and manager_id == self.manager_id


def permissions_for(
    role: Role, granted: set[Permission] | frozenset[Permission] = frozenset()
) -> frozenset[Permission]:
    """The role's permissions plus the grants; raises ValueError for a grant the role may not have."""
    refused = set(granted) - GRANTABLE[role]
    if refused:
        names = ", ".join(sorted(refused))
        raise ValueError(f"role {role} may not be granted: {names}")
    return ROLE_PERMISSIONS[role] | frozenset(granted)
