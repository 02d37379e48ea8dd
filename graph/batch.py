"""Checking and normalising a write batch before any store sees it.

Both backends call :func:`prepare_batch` first, so they refuse the same rows with the same errors and
merge duplicates the same way. It is pure: no I/O, no store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from graph.errors import InvalidBatch, UnknownLabel, UnknownTieType
from graph.model import NodeLabel, NodeRow, TieRow, TieType, checked_properties
from graph.ties import spec

NodeInput = NodeRow | Mapping[str, Any]
TieInput = TieRow | Mapping[str, Any]


@dataclass(frozen=True)
class Batch:
    """A checked batch: nodes merged by key, ties merged by (type, source, target)."""

    nodes: list[NodeRow]
    ties: list[TieRow]
    tie_numbers: list[int]
    """For each merged tie, the number of the first input row it came from (for error messages)."""

    @property
    def empty(self) -> bool:
        return not self.nodes and not self.ties


def prepare_batch(nodes: Iterable[NodeInput] = (), ties: Iterable[TieInput] = ()) -> Batch:
    """Validate rows and merge duplicates; raise an ``InvalidBatch`` subclass naming the first bad row.

    Rows are numbered from 1 within their kind ("node row 3", "tie row 7"). Later rows win when two
    rows of a batch set the same property. Symmetric ties are stored once, from the smaller id.
    """
    merged_nodes: dict[tuple[NodeLabel, str], NodeRow] = {}
    for number, raw in enumerate(nodes, start=1):
        row = _node_row(raw, number)
        properties, reusable = checked_properties(row.properties, row=number)
        label = row.label
        key = (label.primary, row.id)
        previous = merged_nodes.get(key)
        if previous is not None:
            label = label if label is not NodeLabel.CUSTOMER else previous.label
            properties = {**previous.properties, **properties}
        elif reusable:
            # The common case on large loads: the typed row is already what we would build (rows are frozen).
            merged_nodes[key] = row
            continue
        # Already validated: construct without validating again, which dominates large loads.
        merged_nodes[key] = NodeRow.model_construct(label=label, id=row.id, properties=properties)

    merged_ties: dict[tuple[TieType, str, str], TieRow] = {}
    first_numbers: dict[tuple[TieType, str, str], int] = {}
    for number, raw_tie in enumerate(ties, start=1):
        tie = _tie_row(raw_tie, number)
        source, target = tie.source, tie.target
        tie_properties, reusable = checked_properties(tie.properties, row=number, kind="tie")
        tie_spec = spec(tie.type)
        if source == target and tie_spec.source is tie_spec.target:
            raise InvalidBatch(f"{tie.type} from {source!r} to itself is not allowed", row=number, kind="tie")
        if tie_spec.symmetric and target < source:
            source, target = target, source
        tie_key = (tie.type, source, target)
        previous_tie = merged_ties.get(tie_key)
        if previous_tie is not None:
            tie_properties = {**previous_tie.properties, **tie_properties}
        elif reusable and source == tie.source:
            merged_ties[tie_key] = tie
            first_numbers[tie_key] = number
            continue
        merged_ties[tie_key] = TieRow.model_construct(
            type=tie.type, source=source, target=target, properties=tie_properties
        )
        first_numbers.setdefault(tie_key, number)
    return Batch(list(merged_nodes.values()), list(merged_ties.values()), list(first_numbers.values()))


def _node_row(raw: NodeInput, number: int) -> NodeRow:
    if isinstance(raw, NodeRow):
        return raw
    label = raw.get("label")
    if label not in NodeLabel._value2member_map_:
        raise UnknownLabel(f"unknown label {label!r}; known labels: {', '.join(NodeLabel)}", row=number)
    try:
        return NodeRow.model_validate(raw)
    except ValidationError as error:
        raise InvalidBatch(f"{_first_problem(error)}", row=number) from None


def _tie_row(raw: TieInput, number: int) -> TieRow:
    if isinstance(raw, TieRow):
        return raw
    tie_type = raw.get("type")
    if tie_type not in TieType._value2member_map_:
        raise UnknownTieType(
            f"unknown relationship type {tie_type!r}; known types: {', '.join(TieType)}",
            row=number,
            kind="tie",
        )
    try:
        return TieRow.model_validate(raw)
    except ValidationError as error:
        raise InvalidBatch(f"{_first_problem(error)}", row=number, kind="tie") from None


def _first_problem(error: ValidationError) -> str:
    # Only the location and pydantic's message: the offending value may be personal data.
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "row"
    return f"{where}: {problem['msg']}"
