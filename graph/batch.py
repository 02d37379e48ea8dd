"""Checking and normalising a write batch before any store sees it.

Both backends call :func:`prepare_batch` first, so they refuse the same rows with the same errors and
merge duplicates the same way. It is pure: no I/O, no store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypedDict

from pydantic import ValidationError

from graph.errors import InvalidBatch, UnknownLabel, UnknownTieType, UnsupportedProperty
from graph.model import NodeLabel, NodeRow, Properties, TieRow, TieType, checked_properties
from graph.ties import spec

NodeInput = NodeRow | Mapping[str, Any]
TieInput = TieRow | Mapping[str, Any]
NodeRef = tuple[NodeLabel | str, str]
"""A node to delete: (label, id); any label of the node names it (``Person`` or ``Customer``)."""
TIE_ENDS = {tie_type: (spec(tie_type).source.primary, spec(tie_type).target.primary) for tie_type in TieType}
"""The primary labels of each tie type's source and target: the id spaces its ends live in."""


class NodeData(TypedDict):
    """A node row as a plain dict, the form large loads pass (a :class:`NodeRow` costs microseconds to build)."""

    label: NodeLabel
    id: str
    properties: Properties


class TieData(TypedDict):
    """A tie row as a plain dict (see :class:`NodeData`)."""

    type: TieType
    source: str
    target: str
    properties: Properties


class PreparedNode(NamedTuple):
    """A checked node row: the fields of :class:`NodeRow`, built without pydantic (large loads make millions)."""

    label: NodeLabel
    id: str
    properties: Properties


class PreparedTie(NamedTuple):
    """A checked tie row, stored from the smaller id when symmetric (see :class:`PreparedNode`)."""

    type: TieType
    source: str
    target: str
    properties: Properties


@dataclass(frozen=True)
class Batch:
    """A checked batch: nodes merged by key, ties merged by (type, source, target)."""

    nodes: list[PreparedNode]
    ties: list[PreparedTie]
    tie_numbers: list[int]
    """For each merged tie, the number of the first input row it came from (for error messages)."""
    deletions: list[tuple[NodeLabel, str]] = field(default_factory=list)
    """Nodes to delete with their ties, as (primary label, id), each once."""

    @property
    def empty(self) -> bool:
        return not self.nodes and not self.ties and not self.deletions


def prepare_batch(
    nodes: Iterable[NodeInput] = (), ties: Iterable[TieInput] = (), delete: Iterable[NodeRef] = ()
) -> Batch:
    """Validate rows and merge duplicates; raise an ``InvalidBatch`` subclass naming the first bad row.

    Rows are numbered from 1 within their kind ("node row 3", "tie row 7", "delete row 1"). Later rows
    win when two rows of a batch set the same property. Symmetric ties are stored once, from the smaller
    id. Properties are always copied: the batch never shares a dict (or list) with the caller. A batch
    may not write a node it deletes, nor a tie to one.
    """
    merged_nodes: dict[tuple[NodeLabel, str], PreparedNode] = {}
    customer = NodeLabel.CUSTOMER
    primary_of, new_node = _PRIMARY, PreparedNode._make
    for number, raw in enumerate(nodes, start=1):
        label, node_id, raw_properties = _node_fields(raw, number)
        try:
            properties = checked_properties(raw_properties, row=number)[0]
        except UnsupportedProperty:
            _refuse_as_model(raw, number, "node")
            raise
        key = (primary_of[label], node_id)
        previous = merged_nodes.get(key)
        if previous is not None:
            label = label if label is not customer else previous.label
            properties = {**previous.properties, **properties}
        merged_nodes[key] = new_node((label, node_id, properties))

    merged_ties: dict[tuple[TieType, str, str], PreparedTie] = {}
    first_numbers: dict[tuple[TieType, str, str], int] = {}
    new_tie = PreparedTie._make
    for number, raw_tie in enumerate(ties, start=1):
        tie_type, source, target, raw_tie_properties = _tie_fields(raw_tie, number)
        try:
            tie_properties = checked_properties(raw_tie_properties, row=number, kind="tie")[0]
        except UnsupportedProperty:
            _refuse_as_model(raw_tie, number, "tie")
            raise
        if source == target and tie_type in _SAME_END_LABELS:
            raise InvalidBatch(f"{tie_type} from {source!r} to itself is not allowed", row=number, kind="tie")
        if target < source and tie_type in _SYMMETRIC:
            source, target = target, source
        tie_key = (tie_type, source, target)
        previous_tie = merged_ties.get(tie_key)
        if previous_tie is not None:
            tie_properties = {**previous_tie.properties, **tie_properties}
        else:
            first_numbers[tie_key] = number
        merged_ties[tie_key] = new_tie((tie_type, source, target, tie_properties))
    deletions = _deletions(delete, merged_nodes.keys())
    if deletions:
        doomed = set(deletions)
        for number, tie in zip(first_numbers.values(), merged_ties.values(), strict=True):
            ends = TIE_ENDS[tie.type]
            if (ends[0], tie.source) in doomed or (ends[1], tie.target) in doomed:
                raise InvalidBatch(f"{tie.type} names a node the batch deletes", row=number, kind="tie")
    return Batch(list(merged_nodes.values()), list(merged_ties.values()), list(first_numbers.values()), deletions)


def _deletions(delete: Iterable[NodeRef], written: Iterable[tuple[NodeLabel, str]]) -> list[tuple[NodeLabel, str]]:
    found: dict[tuple[NodeLabel, str], None] = {}
    for number, ref in enumerate(delete, start=1):
        label, node_id = ref if isinstance(ref, tuple | list) and len(ref) == 2 else (None, None)
        if label not in _LABELS:
            raise UnknownLabel(
                f"unknown label {label!r}; known labels: {', '.join(NodeLabel)}", row=number, kind="delete"
            )
        if type(node_id) is not str or not node_id:
            raise InvalidBatch("a node to delete needs a non-empty text id", row=number, kind="delete")
        found[(_PRIMARY[_LABELS[label]], node_id)] = None
    both = found.keys() & set(written)
    if both:
        label, node_id = min(both)
        raise InvalidBatch(f"{label} {node_id!r} is both written and deleted by the batch", kind="delete")
    return list(found)


_LABELS: dict[Any, NodeLabel] = dict(NodeLabel._value2member_map_)
_TIE_TYPES: dict[Any, TieType] = dict(TieType._value2member_map_)
_PRIMARY = {label: label.primary for label in NodeLabel}
_SYMMETRIC = frozenset(tie_type for tie_type in TieType if spec(tie_type).symmetric)
_SAME_END_LABELS = frozenset(tie_type for tie_type in TieType if spec(tie_type).source is spec(tie_type).target)
_NODE_FIELDS = frozenset({"label", "id", "properties"})
_TIE_FIELDS = frozenset({"type", "source", "target", "properties"})
_NO_PROPERTIES: Properties = {}
"""No ``properties`` given; when they are given, a row of exactly the model's field count has no extra field."""


def _node_fields(raw: NodeInput, number: int) -> tuple[NodeLabel, str, Mapping[str, Any]]:
    # type() first: isinstance() against a pydantic model class goes through its metaclass, slowly.
    if type(raw) is not dict and isinstance(raw, NodeRow):
        return raw.label, raw.id, raw.properties
    label = raw.get("label")
    if label not in _LABELS:
        raise UnknownLabel(f"unknown label {label!r}; known labels: {', '.join(NodeLabel)}", row=number)
    node_id = raw.get("id")
    properties = raw.get("properties", _NO_PROPERTIES)
    # Plain checks for the rows pydantic would surely accept as they are (large loads pass dicts);
    # anything else is validated by the model, which also words the error.
    if (
        type(raw) is dict
        and type(node_id) is str
        and node_id
        and type(properties) is dict
        and raw.keys() <= _NODE_FIELDS
    ):
        return _LABELS[label], node_id, properties
    try:
        row = NodeRow.model_validate(raw)
    except ValidationError as error:
        raise InvalidBatch(f"{_first_problem(error)}", row=number) from None
    return row.label, row.id, row.properties


def _tie_fields(raw: TieInput, number: int) -> tuple[TieType, str, str, Mapping[str, Any]]:
    if type(raw) is not dict and isinstance(raw, TieRow):
        return raw.type, raw.source, raw.target, raw.properties
    tie_type = raw.get("type")
    if tie_type not in _TIE_TYPES:
        raise UnknownTieType(
            f"unknown relationship type {tie_type!r}; known types: {', '.join(TieType)}",
            row=number,
            kind="tie",
        )
    source, target = raw.get("source"), raw.get("target")
    properties = raw.get("properties", _NO_PROPERTIES)
    if (
        type(raw) is dict
        and type(source) is str
        and source
        and type(target) is str
        and target
        and type(properties) is dict
        and raw.keys() <= _TIE_FIELDS
    ):
        return _TIE_TYPES[tie_type], source, target, properties
    try:
        row = TieRow.model_validate(raw)
    except ValidationError as error:
        raise InvalidBatch(f"{_first_problem(error)}", row=number, kind="tie") from None
    return row.type, row.source, row.target, row.properties


def _refuse_as_model(raw: NodeInput | TieInput, number: int, kind: str) -> None:
    """For a row that took the plain checks and has a bad property: raise pydantic's error if the model
    refuses the row first (a property name that is not text), as before the plain checks existed."""
    if isinstance(raw, dict):
        model = NodeRow if kind == "node" else TieRow
        try:
            model.model_validate(raw)
        except ValidationError as error:
            raise InvalidBatch(f"{_first_problem(error)}", row=number, kind=kind) from None


def _first_problem(error: ValidationError) -> str:
    # Only the location and pydantic's message: the offending value may be personal data.
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "row"
    return f"{where}: {problem['msg']}"
