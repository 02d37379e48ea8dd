"""Survivorship: what a customer made of several source records holds, and what it keeps of the rest.

When records merge into one customer (the same ID number, a score above ``merge_above``, or a
reviewer's decision), every property takes the value of the highest-ranked record that has one. The
rank is the mapping's ``resolution.source_priority`` (customer sources, most trusted first; sources it
does not list come after those it lists), and among records of equal priority the record read last
wins: sources in mapping order, files in path order, rows in line order. With no priority set this is
"the most recent record wins", the rule loads always had.

The values the survivor replaced are not dropped. For the fields that tell people apart
(:data:`KEPT_FIELDS`: name, birth date, address and the masked phone) the customer gets
``<field>_aliases``, the other values seen, best-ranked first; and each record's ``SourceRecord``
node keeps the values that record carried (:func:`record_values`). Personal numbers appear only as
their masked form, as everywhere in the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

KEPT_FIELDS = ("name", "birth_date", "address", "phone_masked")
"""Customer properties whose other values are kept as aliases when records merge."""


def alias_property(field: str) -> str:
    """The customer property listing a field's other values: ``name`` -> ``name_aliases``."""
    return f"{field}_aliases"


NO_ALIASES: dict[str, Any] = {alias_property(field): None for field in KEPT_FIELDS}


def record_values(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The kept fields a record carried, for its ``SourceRecord`` node (``None`` for an empty one, so that
    a reload of a record whose cell was emptied removes the old value)."""
    return {field: properties.get(field) for field in KEPT_FIELDS}


def source_ranks(source_priority: Sequence[str]) -> dict[str, int]:
    """Source name -> priority rank (0 is the most trusted); sources not listed rank after every listed one."""
    return {name: rank for rank, name in enumerate(source_priority)}


def survivor_order(sources: Sequence[str], ranks: Mapping[str, int]) -> list[int]:
    """Indices of records (given by source name, in the order they were read), the surviving one first."""
    unlisted = len(ranks)
    return sorted(range(len(sources)), key=lambda index: (ranks.get(sources[index], unlisted), -index))


class Record(Protocol):
    """What survivorship reads of a source record (``loaders.resolve.CustomerRecord``)."""

    @property
    def source(self) -> str: ...
    @property
    def properties(self) -> dict[str, Any]: ...


def combined_customers(members: Mapping[str, Sequence[Record]], ranks: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Each customer's properties combined from its records (in the order read), by :func:`survivor_order`."""
    return {
        customer_id: combine(
            group[index].properties for index in survivor_order([record.source for record in group], ranks)
        )
        for customer_id, group in members.items()
    }


def combine(ranked: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One customer's properties from its records' properties, best-ranked first.

    Each property takes the first non-empty value; the other values of :data:`KEPT_FIELDS` become
    ``<field>_aliases`` (``None`` when there are none, so a reload clears aliases that no longer hold).
    """
    records = list(ranked)
    if len(records) == 1:  # most customers: nothing to choose, nothing to keep
        return {**records[0], **NO_ALIASES}
    combined: dict[str, Any] = {}
    for properties in reversed(records):
        for name, value in properties.items():
            if value is not None or name not in combined:
                combined[name] = value
    for field in KEPT_FIELDS:
        combined[alias_property(field)] = _others(combined.get(field), (record.get(field) for record in records))
    return combined


def merged_aliases(kept: Mapping[str, Any], dropped: Mapping[str, Any]) -> dict[str, Any]:
    """The alias properties of ``kept`` once ``dropped`` (another customer's properties) is merged into it."""
    updates: dict[str, Any] = {}
    for field in KEPT_FIELDS:
        alias = alias_property(field)
        seen = [*(kept.get(alias) or []), dropped.get(field), *(dropped.get(alias) or [])]
        aliases = _others(kept.get(field), seen)
        if aliases != kept.get(alias):
            updates[alias] = aliases
    return updates


def _others(survivor: Any, values: Iterable[Any]) -> list[Any] | None:
    others: list[Any] = []
    for value in values:
        if value is not None and value != survivor and value not in others:
            others.append(value)
    return others or None
