"""A small bank graph shared by the store tests: a family, a company, accounts and a manager."""

from __future__ import annotations

from typing import Any

from graph.model import NodeLabel
from graph.store import GraphStore

BIG_ID = "4835703278458516698"  # above 2^53: a float would round it


def family_nodes() -> list[dict[str, Any]]:
    return [
        {"label": "Person", "id": "p1", "properties": {"name": "王伟", "birth_year": 1980, "score": 0.5}},
        {"label": "Person", "id": "p2", "properties": {"name": "李娜", "consent_marketing": True}},
        {"label": "Person", "id": BIG_ID, "properties": {"name": "王小明"}},
        {"label": "Company", "id": "c1", "properties": {"name": "杭州云帆科技有限公司", "capital": 5_000_000}},
        {"label": "Account", "id": "a1", "properties": {"balances": [100.0, 250.5, 300.0], "status": "open"}},
        {"label": "Account", "id": "a2", "properties": {"balances": [1, 2.5], "status": "closed"}},
        {"label": "Product", "id": "TD01", "properties": {"name": "定期存款", "category": "deposit"}},
        {"label": "Manager", "id": "m1", "properties": {"name": "赵经理"}},
        {"label": "Branch", "id": "b1", "properties": {"name": "西湖支行"}},
    ]


def family_ties() -> list[dict[str, Any]]:
    return [
        {"type": "SPOUSE_OF", "source": "p2", "target": "p1", "properties": {"since": "2005-05-01"}},
        {"type": "PARENT_OF", "source": "p1", "target": BIG_ID},
        {"type": "SHAREHOLDER_OF", "source": "p1", "target": "c1", "properties": {"ratio": 0.6}},
        {"type": "LEGAL_REP_OF", "source": "p1", "target": "c1"},
        {"type": "EMPLOYED_BY", "source": "p2", "target": "c1"},
        {"type": "OWNS", "source": "p1", "target": "a1", "properties": {"role": "owner"}},
        {"type": "OWNS", "source": "p2", "target": "a1", "properties": {"role": "joint"}},
        {"type": "OWNS", "source": "p1", "target": "a2", "properties": {"role": "owner"}},
        {"type": "OF_PRODUCT", "source": "a1", "target": "TD01"},
        {"type": "MANAGES", "source": "m1", "target": "p1", "properties": {"since": "2020-01-01"}},
        {"type": "WORKS_AT", "source": "m1", "target": "b1"},
    ]


def snapshot(store: GraphStore) -> dict[str, Any]:
    """Everything in the store, in a form two backends can be compared by."""
    return {
        "nodes": {label.value: [record.model_dump() for record in store.nodes(label)] for label in NodeLabel},
        "ties": [record.model_dump() for record in store.ties()],
        "counts": store.counts().model_dump(),
    }
