"""The tie-type registry: one place that says what every relationship type means.

For each type: the labels at its two ends, its direction, whether it is symmetric, and for ties between
customers a category and a default influence weight. Queries and analytics read weights from here; a bank
overrides them with a small YAML file (``CRM_GRAPH_TIE_WEIGHTS_PATH``) mapping type names to weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import yaml

from graph.errors import ConfigurationError
from graph.model import NodeLabel, TieType


class TieCategory(StrEnum):
    FAMILY = "family"
    CORPORATE = "corporate"
    REFERRAL = "referral"
    HOLDING = "holding"
    SERVICE = "service"
    LINEAGE = "lineage"


@dataclass(frozen=True)
class TieSpec:
    """What one relationship type means."""

    type: TieType
    source: NodeLabel
    target: NodeLabel
    category: TieCategory
    symmetric: bool
    weight: float
    meaning: str

    @property
    def between_customers(self) -> bool:
        return self.source is NodeLabel.CUSTOMER and self.target is NodeLabel.CUSTOMER


C, A = NodeLabel.CUSTOMER, NodeLabel.ACCOUNT
F, K, R = TieCategory.FAMILY, TieCategory.CORPORATE, TieCategory.REFERRAL

_SPECS: tuple[TieSpec, ...] = (
    TieSpec(
        TieType.OWNS,
        C,
        A,
        TieCategory.HOLDING,
        False,
        0.0,
        "customer owns the account; property role = owner | joint | authorized",
    ),
    TieSpec(
        TieType.OF_PRODUCT,
        A,
        NodeLabel.PRODUCT,
        TieCategory.HOLDING,
        False,
        0.0,
        "account is an instance of the product",
    ),
    TieSpec(TieType.SPOUSE_OF, C, C, F, True, 0.9, "the two persons are married"),
    TieSpec(TieType.PARENT_OF, C, C, F, False, 0.8, "source person is a parent of the target person"),
    TieSpec(TieType.SIBLING_OF, C, C, F, True, 0.6, "the two persons are siblings"),
    TieSpec(TieType.RELATIVE_OF, C, C, F, True, 0.4, "the two persons are otherwise related"),
    TieSpec(
        TieType.SHAREHOLDER_OF,
        C,
        C,
        K,
        False,
        0.6,
        "source holds shares of the target company; property ratio in [0, 1]",
    ),
    TieSpec(TieType.LEGAL_REP_OF, C, C, K, False, 0.7, "source person is the company's legal representative"),
    TieSpec(TieType.DIRECTOR_OF, C, C, K, False, 0.5, "source person sits on the company's board"),
    TieSpec(TieType.EMPLOYED_BY, C, C, K, False, 0.3, "source person works for the target company"),
    TieSpec(
        TieType.SUBSIDIARY_OF,
        C,
        C,
        K,
        False,
        0.7,
        "source company is controlled by the target company; property ratio in [0, 1]",
    ),
    TieSpec(TieType.SUPPLIES, C, C, K, False, 0.3, "source company supplies the target company"),
    TieSpec(TieType.GUARANTEES, C, C, K, False, 0.5, "source guarantees the target's obligations; property amount"),
    TieSpec(TieType.REFERRED, C, C, R, False, 0.5, "source customer referred the target; property at"),
    TieSpec(
        TieType.MANAGES,
        NodeLabel.MANAGER,
        C,
        TieCategory.SERVICE,
        False,
        0.0,
        "the relationship manager looks after the customer; property since",
    ),
    TieSpec(
        TieType.WORKS_AT,
        NodeLabel.MANAGER,
        NodeLabel.BRANCH,
        TieCategory.SERVICE,
        False,
        0.0,
        "the manager works at the branch",
    ),
    TieSpec(
        TieType.BANKED_AT,
        C,
        NodeLabel.BRANCH,
        TieCategory.SERVICE,
        False,
        0.0,
        "the customer's home branch: district and branch portfolios follow it",
    ),
    TieSpec(
        TieType.WITH,
        NodeLabel.INTERACTION,
        C,
        TieCategory.SERVICE,
        False,
        0.0,
        "the interaction was with the customer",
    ),
    TieSpec(
        TieType.LOGGED_BY,
        NodeLabel.INTERACTION,
        NodeLabel.MANAGER,
        TieCategory.SERVICE,
        False,
        0.0,
        "the manager logged the interaction",
    ),
    TieSpec(
        TieType.FROM_SOURCE,
        C,
        NodeLabel.SOURCE_RECORD,
        TieCategory.LINEAGE,
        False,
        0.0,
        "the customer was built from this source-system record",
    ),
)

DEFAULT_REGISTRY: dict[TieType, TieSpec] = {spec.type: spec for spec in _SPECS}
assert set(DEFAULT_REGISTRY) == set(TieType), "every tie type needs a spec"


class TieRegistry:
    """Tie specs with the bank's weight overrides applied."""

    def __init__(self, weights: dict[TieType, float] | None = None) -> None:
        self._specs = dict(DEFAULT_REGISTRY)
        for tie_type, weight in (weights or {}).items():
            if not self._specs[tie_type].between_customers:
                raise ConfigurationError(f"{tie_type} is not a tie between customers; it has no weight")
            if not 0.0 <= weight <= 1.0:
                raise ConfigurationError(f"weight of {tie_type} must be within [0, 1], got {weight}")
            self._specs[tie_type] = replace(self._specs[tie_type], weight=weight)

    @classmethod
    def from_file(cls, path: Path | None) -> TieRegistry:
        """Registry with overrides read from a YAML mapping ``TYPE: weight``; defaults when ``path`` is None."""
        if path is None:
            return cls()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigurationError(f"cannot read tie weights from {path}: {error}") from error
        if not isinstance(raw, dict):
            raise ConfigurationError(f"{path} must map tie types to weights")
        weights: dict[TieType, float] = {}
        for name, weight in raw.items():
            if name not in TieType.__members__:
                raise ConfigurationError(f"{path}: unknown tie type {name!r}; known: {', '.join(TieType)}")
            weights[TieType(name)] = float(weight)
        return cls(weights)

    def __getitem__(self, tie_type: TieType) -> TieSpec:
        return self._specs[tie_type]

    def customer_ties(self, category: TieCategory | None = None) -> list[TieSpec]:
        """Specs of ties between customers, optionally of one category, in declaration order."""
        return [s for s in self._specs.values() if s.between_customers and (category is None or s.category is category)]

    def weights(self) -> dict[str, float]:
        """Weight of every customer-to-customer tie type, keyed by type name (for query parameters)."""
        return {s.type.value: s.weight for s in self.customer_ties()}


def spec(tie_type: TieType) -> TieSpec:
    """The default spec of a tie type (end labels and symmetry never change with overrides)."""
    return DEFAULT_REGISTRY[tie_type]
