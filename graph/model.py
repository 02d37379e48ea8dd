"""The graph's data model: node labels, relationship types and the typed rows that enter the store.

Every node has a string key ``id``, unique within its *primary* label (``Customer`` for persons and
companies). Ids are strings everywhere: source ids can exceed 2^53 and must never pass through a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graph.errors import UnsupportedProperty


class NodeLabel(StrEnum):
    """Node labels. ``PERSON`` and ``COMPANY`` nodes also carry ``CUSTOMER``."""

    CUSTOMER = "Customer"
    PERSON = "Person"
    COMPANY = "Company"
    ACCOUNT = "Account"
    PRODUCT = "Product"
    MANAGER = "Manager"
    BRANCH = "Branch"
    INTERACTION = "Interaction"
    SOURCE_RECORD = "SourceRecord"
    CLUSTER = "Cluster"
    GUARANTEE_CIRCLE = "GuaranteeCircle"

    @property
    def primary(self) -> NodeLabel:
        """The label whose ``id`` is unique: persons and companies share the customer key space."""
        return NodeLabel.CUSTOMER if self in _CUSTOMER_KINDS else self

    @property
    def labels(self) -> tuple[NodeLabel, ...]:
        """All labels a node of this kind carries, primary first."""
        return (NodeLabel.CUSTOMER, self) if self in _CUSTOMER_KINDS else (self,)


_CUSTOMER_KINDS = frozenset({NodeLabel.PERSON, NodeLabel.COMPANY})
PRIMARY_LABELS: tuple[NodeLabel, ...] = tuple(label for label in NodeLabel if label.primary is label)


class TieType(StrEnum):
    """Relationship types. Direction, meaning and symmetry are documented in ``graph.ties``."""

    OWNS = "OWNS"
    OF_PRODUCT = "OF_PRODUCT"
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
    MANAGES = "MANAGES"
    WORKS_AT = "WORKS_AT"
    BANKED_AT = "BANKED_AT"
    WITH = "WITH"
    LOGGED_BY = "LOGGED_BY"
    FROM_SOURCE = "FROM_SOURCE"


PropertyValue = str | int | float | bool | list[str] | list[int] | list[float] | list[bool]
Properties = dict[str, Any]


def check_properties(props: Mapping[str, Any], *, row: int | None = None, kind: str = "node") -> Properties:
    """Return a copy of ``props`` that both stores hold alike, or raise ``UnsupportedProperty``.

    Allowed: str, int, float, bool, None (removes the property) and homogeneous lists of those scalars.
    Nested maps and mixed lists are refused because Neo4j cannot store them; a list mixing ints and
    floats becomes all floats, as Neo4j would not keep it either.
    """
    return checked_properties(props, row=row, kind=kind)[0]


def checked_properties(
    props: Mapping[str, Any], *, row: int | None = None, kind: str = "node"
) -> tuple[Properties, bool]:
    """:func:`check_properties`, and whether ``props`` itself could be kept: only immutable scalars, unchanged."""
    checked: Properties = {}
    same = True
    for key, value in props.items():
        value_type = type(value)
        # Fast path for exact builtin types (most rows of a large load); everything else takes the full checks.
        if value_type in _PLAIN_SCALARS and type(key) is str and key and key != "id":
            if value_type is not float or value == value:
                checked[key] = value
                continue
        elif value_type is list and type(key) is str and key and key != "id":
            item_types = set(map(type, value))
            if len(item_types) <= 1 and item_types <= _PLAIN_ITEMS:
                checked[key] = list(value)
                same = False  # the copy keeps the store's list apart from the caller's
                continue
        same = False
        if not isinstance(key, str) or not key or key == "id":
            raise UnsupportedProperty(f"property name {key!r} is not allowed", row=row, kind=kind)
        if isinstance(value, float) and value != value:
            raise UnsupportedProperty(f"property {key!r} is NaN", row=row, kind=kind)
        if value is None or isinstance(value, str | bool | int | float):
            checked[key] = value
            continue
        if isinstance(value, list | tuple):
            item_kinds = {_scalar_kind(item) for item in value}
            if len(item_kinds) <= 1 and None not in item_kinds:
                checked[key] = list(value)
                continue
            if item_kinds == {int, float}:
                checked[key] = [float(item) for item in value]
                continue
        raise UnsupportedProperty(f"property {key!r} has unsupported type {type(value).__name__}", row=row, kind=kind)
    return checked, same


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})
_PLAIN_ITEMS = frozenset({str, int, float, bool})


def _scalar_kind(value: Any) -> type | None:
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind
    return None


class NodeRow(BaseModel):
    """One node to upsert: matched on (primary label, id); ``properties`` are merged into the node."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: NodeLabel
    id: str = Field(min_length=1)
    properties: Properties = Field(default_factory=dict)


class TieRow(BaseModel):
    """One relationship to upsert: matched on (type, source id, target id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: TieType
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    properties: Properties = Field(default_factory=dict)


class NodeRecord(BaseModel):
    """A node as read back from a store."""

    model_config = ConfigDict(frozen=True)

    label: NodeLabel
    id: str
    properties: Properties


class TieRecord(BaseModel):
    """A relationship as read back from a store."""

    model_config = ConfigDict(frozen=True)

    type: TieType
    source: str
    target: str
    properties: Properties


class GraphCounts(BaseModel):
    """Node counts by label and relationship counts by type (zero counts omitted)."""

    nodes: dict[str, int]
    ties: dict[str, int]
