"""Response bodies for groups of customers: referral clusters (marketing) and guarantee circles (risk), each
with the name it is known by and the evidence for it, and the distribution of their sizes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.models import CustomerStub, NodeRefPublic, RelatedCustomerPublic
from queries.naming import TraitKind

_OUT = ConfigDict(extra="ignore")


class TraitPublic(BaseModel):
    """What members of a group share: a city, or a customer (employer, referrer, parent company, guarantor)."""

    model_config = _OUT

    kind: TraitKind = Field(examples=["employer"])
    text: str = Field(description="The city, or the customer's name as the caller may see it.", examples=["杭州"])
    customer: NodeRefPublic | None = Field(
        default=None, description="The customer it is, as the graph draws it (a stub when out of sight)."
    )
    members: int = Field(description="Members examined that share it (a guarantor: 1).", examples=[9])
    share: float = Field(
        description="Of the members examined; for a guarantor, of the circle's guaranteed amount.", examples=[0.75]
    )
    amount: float | None = Field(default=None, description="A guarantor's amount guaranteed around the circle.")


class GroupNamePublic(BaseModel):
    """A group's name and the evidence behind it."""

    name: TraitPublic | None = Field(default=None, description="What the group is named after; absent: nothing.")
    traits: list[TraitPublic] = Field(default_factory=list, description="The strongest trait of each kind.")
    examined: int = Field(default=0, description="Members examined (a large cluster: its most central 200).")


class SizeCountPublic(BaseModel):
    size: int = Field(examples=[4])
    count: int = Field(description="Groups of this size.", examples=[31])


class ProductSharePublic(BaseModel):
    product_code: str = Field(examples=["FUND01"])
    product_name: str | None = Field(default=None, examples=["稳健理财"])
    share: float = Field(description="Share of the cluster's members holding the product.", examples=[0.42])


class ClusterPublic(BaseModel):
    """A referral cluster in summary, for marketing: no member is identified (central members are stubs)."""

    model_config = _OUT

    id: str = Field(examples=["c-17"])
    size: int | None = Field(default=None, examples=[12])
    label: str | None = Field(default=None, description="The name's text (see `naming`).", examples=["杭州"])
    naming: GroupNamePublic = Field(default_factory=GroupNamePublic)
    total_aum: float | None = Field(default=None, examples=[3250000.0])
    central_members: list[CustomerStub] = Field(
        default_factory=list, description="The most central members (PageRank), as masked stubs."
    )
    product_penetration: list[ProductSharePublic] = Field(
        default_factory=list, description="The most held products, highest share first (at most five)."
    )
    referrals_per_member: float | None = Field(default=None, examples=[0.8])
    referred_active_share: float | None = Field(
        default=None, description="Of the members who were referred, the share still active.", examples=[0.9]
    )


class ClusterPage(BaseModel):
    items: list[ClusterPublic]
    next_cursor: str | None = None
    total: int = Field(default=0, description="Clusters in all, over every page.", examples=[412])
    sizes: list[SizeCountPublic] = Field(
        default_factory=list, description="How many clusters have each size, over every page; smallest first."
    )


class ClusterTiePublic(BaseModel):
    """A tie between two members of a cluster, by their stubs' opaque ids, in its stored direction."""

    type: str = Field(examples=["REFERRED"])
    source: str = Field(examples=["x-5f1c0a9e2b7d4c18"])
    target: str = Field(examples=["x-0b9c7d1e2f3a4b5c"])


class ClusterDetailPublic(BaseModel):
    cluster: ClusterPublic
    members: list[CustomerStub] = Field(description="The most central members first; paged.")
    ties: list[ClusterTiePublic] = Field(
        default_factory=list, description="Referral and family ties among the members of this page (bounded)."
    )
    next_cursor: str | None = None


class GuaranteeCirclePublic(BaseModel):
    members: list[RelatedCustomerPublic] = Field(description="In the order of the ring: each guarantees the next.")
    naming: GroupNamePublic = Field(default_factory=GroupNamePublic)
    total_exposure: float = Field(default=0.0, description="The amounts guaranteed around the ring, summed.")


class GuaranteeCirclePage(BaseModel):
    items: list[GuaranteeCirclePublic]
    next_cursor: str | None = None
    total: int = Field(default=0, description="Circles found (the list holds at most 1,000).", examples=[37])
    sizes: list[SizeCountPublic] = Field(
        default_factory=list, description="How many listed circles have each number of members; smallest first."
    )
