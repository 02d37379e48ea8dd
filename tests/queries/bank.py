"""A hand-made bank for the relationship queries, small enough to work every answer out by hand.

* Household of p1 (王伟): spouse p2, child p3, sibling p4; p4 guarantees p5 (outside) for 88,000.
* Corporate group of c1 at 50 %: p1 holds 60 % of c1 and is its legal representative, c2 is a
  subsidiary of c1 (80 %), p8 is c2's legal representative. c1 holds 30 % of c3 and p7 10 % of c1
  (control only at lower thresholds); p5 works for c1 (not control).
  Guarantees: c1 → c2 100,000 (internal), c2 → g4 200,000 (given), g5 → c1 50,000 (received).
* Guarantee circle g1 → g3 → g2 → g1, a chain g4 → g1 feeding it, a mutual pair g6 ↔ g7 and a
  ring of four h1 → h2 → h3 → h4 → h1.
* Manager m1 (branch b1) manages p1, p2, c1, p6; m2 (branch b2) manages g1; m3 has no branch and no book.
  Overdue on 2024-06-01: i1 (p1, logged by m1, due 2024-05-01) and i2 (p2, logged by m2, due 2024-05-20).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from graph.store import GraphStore

TODAY = date(2024, 6, 1)


def _node(label: str, node_id: str, **properties: Any) -> dict[str, Any]:
    return {"label": label, "id": node_id, "properties": properties}


def _tie(tie_type: str, source: str, target: str, **properties: Any) -> dict[str, Any]:
    return {"type": tie_type, "source": source, "target": target, "properties": properties}


def bank_nodes() -> list[dict[str, Any]]:
    persons = [
        _node(
            "Person",
            "p1",
            name="王伟",
            segment="private",
            city="杭州",
            status="active",
            phone_masked="137****0001",
            tier="gold",
            lifecycle_stage="maturity",
            churn_risk=0.8,
            ltv_current=12345.6,
        ),
        _node(
            "Person",
            "p2",
            name="李娜",
            segment="retail",
            phone_masked="138****5678",
            tier="gold",
            lifecycle_stage="growth",
            churn_risk=0.65,
        ),
        _node("Person", "p3", name="王小明", segment="retail"),
        _node("Person", "p4", name="王芳", segment="retail"),
        _node("Person", "p5", name="陈刚", phone_masked="139****1234"),
        _node("Person", "p6", name="赵敏"),
        _node("Person", "p7", name="孙强"),
        _node("Person", "p8", name="周杰"),
    ]
    companies = [
        _node(
            "Company", "c1", name="杭州云帆科技有限公司", segment="corporate", tier="private_banking", churn_risk=0.2
        ),
        _node("Company", "c2", name="云帆贸易有限公司", segment="sme"),
        _node("Company", "c3", name="西溪物流有限公司", segment="sme"),
        *(_node("Company", f"g{n}", name=f"担保公司{n}", segment="sme") for n in range(1, 8)),
        *(_node("Company", f"h{n}", name=f"环形公司{n}", segment="sme") for n in range(1, 5)),
    ]
    products = [
        _node("Product", "TD01", name="定期存款", category="deposit"),
        _node("Product", "WM01", name="稳健理财", category="investment"),
        _node("Product", "LN01", name="经营贷", category="loan"),
        _node("Product", "CC01", name="信用卡", category="credit"),
    ]
    accounts = [
        _node("Account", "a1", balances=[1000.0, 1200.10], status="open", currency="CNY"),
        _node("Account", "a2", balances=[5000.0, 5000.333], status="open", currency="CNY"),
        _node("Account", "a3", balances=[10.0, 0.0], status="closed", currency="CNY"),
        _node("Account", "a4", balances=[200000.0, 150000.0], status="open", currency="CNY"),
        _node("Account", "a6", balances=[300.2], status="open", currency="CNY"),
        _node("Account", "a7", balances=[1e6, 2000000.0], status="open", currency="CNY"),
        _node("Account", "a8", balances=[5e6], status="open", currency="CNY"),
        _node("Account", "a9", balances=[12345.678], status="open", currency="CNY"),
    ]
    service = [
        _node("Manager", "m1", name="赵经理", employee_no="E001"),
        _node("Manager", "m2", name="钱经理", employee_no="E002"),
        _node("Manager", "m3", name="孙经理"),
        _node("Branch", "b1", name="西湖支行"),
        _node("Branch", "b2", name="滨江支行"),
        _node("Interaction", "i1", channel="phone", summary="到期提醒", at="2024-04-20T10:00:00", due="2024-05-01"),
        _node("Interaction", "i2", channel="visit", summary="贷款回访", at="2024-05-10T09:00:00", due="2024-05-20"),
        _node("Interaction", "i3", channel="phone", due="2024-05-01", outcome="done"),
        _node("Interaction", "i4", channel="phone", due="2024-06-01"),
        _node("Interaction", "i5", channel="phone"),
        _node("Interaction", "i6", channel="phone", due="2024-01-01"),
    ]
    return [*persons, *companies, *products, *accounts, *service]


def bank_ties() -> list[dict[str, Any]]:
    family = [
        _tie("SPOUSE_OF", "p2", "p1"),
        _tie("PARENT_OF", "p1", "p3"),
        _tie("SIBLING_OF", "p4", "p1"),
        _tie("REFERRED", "p2", "p6", at="2023-01-01"),
    ]
    corporate = [
        _tie("SHAREHOLDER_OF", "p1", "c1", ratio=0.6),
        _tie("LEGAL_REP_OF", "p1", "c1"),
        _tie("SHAREHOLDER_OF", "p7", "c1", ratio=0.1),
        _tie("SUBSIDIARY_OF", "c2", "c1", ratio=0.8),
        _tie("LEGAL_REP_OF", "p8", "c2"),
        _tie("SHAREHOLDER_OF", "c1", "c3", ratio=0.3),
        _tie("EMPLOYED_BY", "p5", "c1"),
    ]
    guarantees = [
        _tie("GUARANTEES", "p4", "p5", amount=88000),
        _tie("GUARANTEES", "c1", "c2", amount=100000.0),
        _tie("GUARANTEES", "c2", "g4", amount=200000.0),
        _tie("GUARANTEES", "g5", "c1", amount=50000.0),
        _tie("GUARANTEES", "g3", "g2", amount=2000000.5),
        _tie("GUARANTEES", "g1", "g3", amount=1000000.0),
        _tie("GUARANTEES", "g2", "g1", amount=500000.25),
        _tie("GUARANTEES", "g4", "g1", amount=300000.0),
        _tie("GUARANTEES", "g6", "g7", amount=10.1),
        _tie("GUARANTEES", "g7", "g6", amount=20.2),
        *(_tie("GUARANTEES", f"h{n}", f"h{n % 4 + 1}", amount=1.0) for n in range(1, 5)),
    ]
    holdings = [
        _tie("OWNS", "p1", "a1", role="owner"),
        _tie("OWNS", "p1", "a2", role="owner"),
        _tie("OWNS", "p2", "a2", role="joint"),
        _tie("OWNS", "p1", "a3", role="owner"),
        _tie("OWNS", "p2", "a4", role="owner"),
        _tie("OWNS", "p3", "a6", role="owner"),
        _tie("OWNS", "p2", "a6", role="authorized"),
        _tie("OWNS", "c1", "a7", role="owner"),
        _tie("OWNS", "c1", "a8", role="owner"),
        _tie("OWNS", "c2", "a9", role="owner"),
        _tie("OF_PRODUCT", "a1", "TD01"),
        _tie("OF_PRODUCT", "a2", "WM01"),
        _tie("OF_PRODUCT", "a3", "TD01"),
        _tie("OF_PRODUCT", "a4", "LN01"),
        _tie("OF_PRODUCT", "a6", "TD01"),
        _tie("OF_PRODUCT", "a7", "TD01"),
        _tie("OF_PRODUCT", "a8", "LN01"),
        _tie("OF_PRODUCT", "a9", "CC01"),
    ]
    service = [
        *(_tie("MANAGES", "m1", customer) for customer in ("p1", "p2", "c1", "p6")),
        _tie("MANAGES", "m2", "g1"),
        _tie("WORKS_AT", "m1", "b1"),
        _tie("WORKS_AT", "m2", "b2"),
        _tie("WITH", "i1", "p1"),
        _tie("LOGGED_BY", "i1", "m1"),
        _tie("WITH", "i2", "p2"),
        _tie("LOGGED_BY", "i2", "m2"),
        _tie("WITH", "i3", "p1"),
        _tie("WITH", "i4", "p6"),
        _tie("WITH", "i5", "p1"),
        _tie("WITH", "i6", "g1"),
    ]
    return [*family, *corporate, *guarantees, *holdings, *service]


def write_bank(store: GraphStore) -> GraphStore:
    store.write(bank_nodes(), bank_ties())
    return store
