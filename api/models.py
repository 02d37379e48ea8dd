"""Request and response bodies of the API: ``XCreate`` in (``extra="forbid"``), ``XPublic`` out.

Response models list their fields explicitly, so nothing the store holds (hashes, clear addresses)
can leak by being added to a node. Personal fields arrive here already masked by :mod:`api.masking`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from api.audit import AuditRecord
from graph.ties import TieRegistry
from queries.analytics.model_card import CrossSellCard, ModelCard

_OUT = ConfigDict(extra="ignore")


class CustomerStub(BaseModel):
    """A customer the caller may not see, reached through a tie: no id, balances or contact data."""

    model_config = _OUT

    opaque_id: str = Field(
        description="Stable within this server, not reversible to the customer id.", examples=["x-5f1c0a9e2b7d4c18"]
    )
    name: str = Field(description="Always masked.", examples=["李*"])
    tie_type: str | None = Field(default=None, examples=["SPOUSE_OF"])


class NodeRefPublic(BaseModel):
    """A customer on a path or in a list, as the graph draws it: the real id when the caller may see the
    customer, else the same opaque id the network endpoint gives its stub (and a masked name)."""

    model_config = _OUT

    id: str = Field(description="The customer id, or the stub's opaque id when ``stub``.", examples=["p1"])
    stub: bool = Field(default=False, examples=[False])
    name: str | None = Field(default=None, description="Masked for persons.", examples=["王*"])
    kind: str | None = Field(default=None, description="Person or Company; absent for stubs.", examples=["Person"])


class CustomerPublic(BaseModel):
    """A customer as shown to a caller who may see it. Names are masked unless unmasking was granted."""

    model_config = _OUT

    id: str = Field(examples=["p1"])
    kind: str = Field(description="Person or Company.", examples=["Person"])
    name: str | None = Field(default=None, examples=["王*"])
    masked: bool = Field(default=True, description="Whether personal fields are masked in this body.")
    gender: str | None = Field(default=None, examples=["M"])
    birth_year: int | None = Field(default=None, examples=[1980])
    birth_date: str | None = Field(default=None, description="Only when unmasked.", examples=[None])
    city: str | None = Field(default=None, examples=["杭州"])
    address: str | None = Field(default=None, description="Only when unmasked.", examples=[None])
    segment: str | None = Field(default=None, examples=["retail"])
    status: str | None = Field(default=None, examples=["active"])
    customer_since: str | None = Field(default=None, examples=["2015-06-01"])
    consent_marketing: bool | None = Field(default=None, examples=[True])
    phone_masked: str | None = Field(default=None, examples=["138****5678"])
    resident_id_masked: str | None = Field(default=None, examples=["330106***********X"])
    industry: str | None = Field(default=None, examples=[None])
    credit_code: str | None = Field(default=None, description="Companies only; public.", examples=[None])
    tier: str | None = Field(default=None, examples=["gold"])
    aum: float | None = Field(default=None, examples=[523000.0])
    deposits: float | None = Field(default=None, examples=[300000.0])
    loans: float | None = Field(default=None, examples=[0.0])
    lifecycle_stage: str | None = Field(default=None, examples=["maturity"])
    churn_risk: float | None = Field(default=None, examples=[0.12])
    cluster_id: str | None = Field(default=None, examples=["c-17"])


class TieDetailsPublic(BaseModel):
    """The tie that reached a customer of a network, as its parties signed it."""

    model_config = _OUT

    outward: bool = Field(description="Whether the tie points from the customer it was reached from to this one.")
    amount: float | None = Field(default=None, description="A guarantee's amount.", examples=[1000000.0])
    ratio: float | None = Field(default=None, description="A shareholding's ratio, 0-1.", examples=[0.35])
    since: str | None = Field(
        default=None, description="When the tie began (signed, referred).", examples=["2021-03-01"]
    )


class RelatedCustomerPublic(BaseModel):
    """A customer reached from another: in full when the caller may see it, else as a stub."""

    model_config = _OUT

    tie_type: str | None = Field(default=None, examples=["SPOUSE_OF"])
    depth: int | None = Field(default=None, examples=[1])
    customer: CustomerPublic | None = None
    stub: CustomerStub | None = None
    omitted_neighbours: int | None = Field(
        default=None,
        description="Neighbours of this customer left out by the per-customer cap (network only; "
        "absent for stubs and for customers that were not expanded).",
        examples=[None],
    )
    tie: TieDetailsPublic | None = Field(
        default=None, description="The tie that reached this customer, with its details (network only)."
    )


class AccountPublic(BaseModel):
    model_config = _OUT

    id: str = Field(examples=["a1"])
    role: str | None = Field(default=None, examples=["owner"])
    product_id: str | None = Field(default=None, examples=["TD01"])
    status: str | None = Field(default=None, examples=["open"])
    balance: float | None = Field(default=None, description="Latest month-end balance.", examples=[300.0])
    card_number_masked: str | None = Field(default=None, examples=["622202******1234"])


class Customer360Public(BaseModel):
    """A customer with accounts, managers and relationships."""

    model_config = _OUT

    customer: CustomerPublic
    accounts: list[AccountPublic] = Field(default_factory=list)
    manager_ids: list[str] = Field(default_factory=list, examples=[["m1"]])
    related: list[RelatedCustomerPublic] = Field(default_factory=list)
    tie_counts: dict[str, int] = Field(default_factory=dict, examples=[{"SPOUSE_OF": 1}])


class CustomerPage(BaseModel):
    """A page of search results among the customers the caller may see."""

    items: list[CustomerPublic]
    total: int = Field(description="Matches in the caller's scope (its book, or the bank), all pages.", examples=[32])
    names_searched: bool = Field(
        description="Whether names were matched: only for callers who see them in clear (unmask with a reason);"
        " otherwise ``q`` matches a customer id or the last four digits of a phone.",
        examples=[False],
    )
    next_cursor: str | None = Field(default=None, description="Pass as ?cursor= for the next page.")


class BranchTiePublic(BaseModel):
    """A customer banking at a branch (BANKED_AT)."""

    customer_id: str = Field(examples=["p1"])
    branch_id: str = Field(examples=["b1"])
    branch_name: str | None = Field(default=None, examples=["西湖支行"])


class NetworkPublic(BaseModel):
    center_id: str = Field(examples=["p1"])
    depth: int = Field(examples=[2])
    related: list[RelatedCustomerPublic]
    omitted_neighbours: int = Field(
        default=0,
        description='Neighbours of the centre left out by the cap (`limit`): the graph\'s "N more".',
        examples=[3],
    )
    truncated: bool = Field(default=False, description="Whether `limit` stopped the search early.")
    branches: list[BranchTiePublic] = Field(
        default_factory=list,
        description="With `types` naming BANKED_AT: the branches the centre and the customers shown in full bank at.",
    )


class MemberTiePublic(BaseModel):
    """A tie within a household or group, by its ends' ids as the graph draws them (a stub's opaque id out of
    sight), in its stored direction."""

    type: str = Field(examples=["PARENT_OF"])
    source: str = Field(examples=["p1"])
    target: str = Field(examples=["p3"])


class MembersPublic(BaseModel):
    """A household or a corporate group around a customer."""

    anchor_id: str = Field(examples=["p1"])
    members: list[RelatedCustomerPublic]
    ties: list[MemberTiePublic] = Field(
        default_factory=list, description="The ties joining the members and the anchor, as stored (bounded)."
    )
    total_aum: float | None = Field(
        default=None, description="Only when the caller may see every member.", examples=[1250000.0]
    )


class EvidencePathPublic(BaseModel):
    """A path from the customer to someone holding the product; ``ties[i]`` joins ``nodes[i]`` and ``nodes[i+1]``."""

    nodes: list[NodeRefPublic]
    ties: list[str] = Field(examples=[["SPOUSE_OF"]])
    contribution: float | None = Field(default=None, examples=[0.9])


class CustomerPathPublic(BaseModel):
    """A path between two customers; ``ties[i]`` joins ``nodes[i]`` and ``nodes[i+1]``, pointing forward when
    ``forward[i]`` (from ``nodes[i]`` to ``nodes[i+1]``)."""

    nodes: list[NodeRefPublic]
    ties: list[str] = Field(examples=[["SPOUSE_OF", "SHAREHOLDER_OF"]])
    forward: list[bool] = Field(examples=[[True, True]])


class ShortestPathsPublic(BaseModel):
    """Every shortest path between two customers (ties between customers only), those out of sight as stubs."""

    from_id: str = Field(examples=["p1"])
    to_id: str = Field(examples=["p3"])
    hops: int | None = Field(description="Ties on each path; null when not connected within 4.", examples=[2])
    paths: list[CustomerPathPublic]


class RecommendationPublic(BaseModel):
    model_config = _OUT

    product_code: str = Field(examples=["FUND01"])
    product_name: str | None = Field(default=None, examples=["稳健理财"])
    score: float | None = Field(default=None, examples=[0.73])
    parts: dict[str, float] = Field(
        default_factory=dict,
        description="What the score is made of: `network` (the evidence paths together), `similar` (held by "
        "customers like this one), `eligibility`. `network` is left out when some evidence is out of sight.",
        examples=[{"network": 0.62, "similar": 0.35, "eligibility": 1.0}],
    )
    why: str | None = Field(default=None, examples=["spouse holds it"])
    evidence: list[EvidencePathPublic] = Field(default_factory=list)


class RecommendationsPublic(BaseModel):
    customer_id: str = Field(examples=["p1"])
    recommendations: list[RecommendationPublic]
    reason: str | None = Field(
        default=None, description="Why the list is empty, when it is.", examples=["customer refused marketing"]
    )


class ChurnContributorPublic(BaseModel):
    tie_type: str | None = Field(default=None, examples=["SPOUSE_OF"])
    share: float | None = Field(default=None, examples=[0.4])
    customer: CustomerPublic | None = None
    stub: CustomerStub | None = None
    node: NodeRefPublic | None = Field(default=None, description="The contributor as the graph draws it.")


class ChurnRiskPublic(BaseModel):
    customer_id: str = Field(examples=["p1"])
    churn_risk: float = Field(examples=[0.31])
    churn_risk_own: float | None = Field(default=None, examples=[0.2])
    churn_risk_network: float | None = Field(default=None, examples=[0.11])
    contributors: list[ChurnContributorPublic] = Field(default_factory=list)
    analytics_at: str | None = Field(default=None, examples=["2025-03-01T02:00:00"])


class ProspectPublic(BaseModel):
    """A prospect: in full for a caller who sees the customer, else a stub (opaque id, masked name, segment, score)."""

    customer_id: str = Field(description="The customer id, or the stub's opaque id when ``stub``.", examples=["p2"])
    stub: bool = Field(default=False, description="The caller may not see this customer.", examples=[False])
    name: str = Field(description="Masked.", examples=["李*"])
    segment: str | None = Field(default=None, examples=["retail"])
    city: str | None = Field(default=None, examples=["杭州"])
    tier: str | None = Field(default=None, examples=["gold"])
    score: float | None = Field(default=None, examples=[0.81])


class ProspectPage(BaseModel):
    product_code: str = Field(examples=["FUND01"])
    items: list[ProspectPublic]
    next_cursor: str | None = None


class ManagerPublic(BaseModel):
    model_config = _OUT

    id: str = Field(examples=["m1"])
    name: str | None = Field(default=None, examples=["赵经理"])
    employee_no: str | None = Field(default=None, examples=["E1001"])
    branch_id: str | None = Field(default=None, examples=["b1"])
    customers: int | None = Field(default=None, examples=[120])


class ManagerPage(BaseModel):
    items: list[ManagerPublic]
    next_cursor: str | None = None


class FollowUpPublic(BaseModel):
    """An overdue follow-up; the note itself stays in the CRM, only its kind and dates are shown."""

    interaction_id: str = Field(examples=["int-4f1d2c"])
    customer_id: str = Field(examples=["p1"])
    customer_name: str | None = Field(default=None, examples=["王*"])
    channel: str | None = Field(default=None, examples=["phone"])
    due: str = Field(examples=["2025-02-20"])
    days_overdue: int = Field(examples=[9])


class OpportunityPublic(BaseModel):
    """A product to offer a customer of the book."""

    customer_id: str = Field(examples=["p1"])
    customer_name: str | None = Field(default=None, description="Masked for persons.", examples=["王*"])
    product_code: str = Field(examples=["FUND01"])
    product_name: str | None = Field(default=None, examples=["稳健理财"])
    score: float = Field(examples=[0.73])
    parts: dict[str, float] = Field(
        default_factory=dict,
        description="What the score is made of, as for a recommendation (`network` left out when some evidence "
        "is out of sight).",
        examples=[{"network": 0.62, "similar": 0.35, "eligibility": 1.0}],
    )
    evidence_ties: list[str] = Field(
        default_factory=list,
        description="The kinds of tie the evidence in the caller's sight came through, in name order.",
        examples=[["SPOUSE_OF"]],
    )
    why: str | None = Field(default=None, examples=["held by customers tied by SPOUSE_OF"])


class AtRiskPublic(CustomerPublic):
    """A customer of the book who may leave, with what leaving would cost the bank."""

    value: float = Field(description="Current lifetime value; 0 when not analysed yet.", examples=[52000.0])
    expected_loss: float = Field(description="Churn risk times value.", examples=[33800.0])


class PortfolioPublic(BaseModel):
    """A manager's book: sizes by tier and stage, the customers most at risk, overdue follow-ups and the
    best open cross-sell opportunities."""

    manager: ManagerPublic
    as_of: date = Field(
        description="The day the book is read on: the day the data describe (overdue follow-ups count from it), "
        "not the calendar's today.",
        examples=["2024-12-31"],
    )
    customers: int = Field(examples=[120])
    by_tier: dict[str, int] = Field(examples=[{"gold": 12, "standard": 100}])
    by_lifecycle_stage: dict[str, int] = Field(examples=[{"maturity": 80}])
    risk_threshold: float = Field(examples=[0.6])
    at_risk: list[AtRiskPublic] = Field(
        description="Customers still with the bank at or above the risk threshold, largest expected loss first."
    )
    at_risk_total: int = Field(examples=[3])
    overdue_follow_ups: list[FollowUpPublic]
    overdue_total: int = Field(examples=[1])
    opportunities: list[OpportunityPublic] = Field(
        default_factory=list,
        description="The best cross-sell recommendations over the book's 50 consenting customers with the highest "
        "potential lifetime value, picked by score with each earlier pick of the same product or customer halving "
        "the score a candidate competes with (so the list spans products and customers).",
    )


class ProductPublic(BaseModel):
    id: str = Field(examples=["FUND01"])
    name: str | None = Field(default=None, examples=["稳健理财"])
    category: str | None = Field(default=None, examples=["investment"])


class ProductList(BaseModel):
    items: list[ProductPublic]


class CustomerTieType(StrEnum):
    """Tie types between two customers: the ones a network query may follow."""

    SPOUSE_OF = "SPOUSE_OF"
    PARENT_OF = "PARENT_OF"
    SIBLING_OF = "SIBLING_OF"
    RELATIVE_OF = "RELATIVE_OF"
    SHAREHOLDER_OF = "SHAREHOLDER_OF"
    LEGAL_REP_OF = "LEGAL_REP_OF"
    DIRECTOR_OF = "DIRECTOR_OF"
    EMPLOYED_BY = "EMPLOYED_BY"
    SUBSIDIARY_OF = "SUBSIDIARY_OF"
    SUPPLIES = "SUPPLIES"
    GUARANTEES = "GUARANTEES"
    REFERRED = "REFERRED"


assert {t.value for t in CustomerTieType} == {s.type.value for s in TieRegistry().customer_ties()}, (
    "CustomerTieType must list exactly the registry's customer-to-customer ties"
)


class Channel(StrEnum):
    BRANCH = "branch"
    PHONE = "phone"
    VISIT = "visit"
    WECHAT = "wechat"
    SMS = "sms"
    EMAIL = "email"
    APP = "app"


class Outcome(StrEnum):
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    PURCHASED = "purchased"
    FOLLOW_UP = "follow_up"
    COMPLAINT = "complaint"
    NO_CONTACT = "no_contact"


class InteractionCreate(BaseModel):
    """A contact with a customer, logged by the calling manager."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "phone",
                    "summary": "讨论定期存款到期续存",
                    "outcome": "interested",
                    "follow_up": "2025-04-01",
                }
            ]
        },
    )

    channel: Channel
    summary: str = Field(min_length=1, max_length=2000)
    outcome: Outcome | None = None
    follow_up: date | None = Field(default=None, description="Date to contact the customer again.")


class InteractionPublic(BaseModel):
    id: str = Field(examples=["int-4f1d2c"])
    customer_id: str = Field(examples=["p1"])
    manager_id: str = Field(examples=["m1"])
    channel: Channel
    summary: str = Field(description="As stored: phone, resident-ID and card numbers in it are masked.")
    masked: list[str] = Field(
        default_factory=list,
        description="Kinds of number masked in the summary on write: phone, resident_id, card, number.",
        examples=[["phone"]],
    )
    outcome: Outcome | None = None
    follow_up: date | None = None
    at: str = Field(examples=["2025-03-01T09:30:00+00:00"])


class AuditPage(BaseModel):
    items: list[AuditRecord]
    next_cursor: str | None = None


class MePublic(BaseModel):
    """The caller's own token: who it is, its role and what it may do (pages use it to choose their views)."""

    name: str = Field(examples=["manager-m1"])
    role: str = Field(examples=["manager"])
    manager_id: str | None = Field(default=None, examples=["m1"])
    permissions: list[str] = Field(examples=[["customers:read:book", "network:read"]])


class HealthPublic(BaseModel):
    status: str = Field(examples=["ok"])


class ModelsPublic(BaseModel):
    """The models behind the analytics' scores."""

    churn: ModelCard
    cross_sell: CrossSellCard | None = None


class ReadyPublic(BaseModel):
    status: str = Field(examples=["ready"])
    backend: str = Field(examples=["embedded"])
