"""A small hand-built bank whose analytics have known answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from graph.settings import AnalyticsSettings
from graph.store import GraphStore

AS_OF = date(2024, 12, 31)
TODAY = date(2024, 12, 31)
SETTINGS = AnalyticsSettings(as_of=AS_OF)
MONTHS = 24

PRODUCTS: dict[str, dict[str, Any]] = {
    "D101": {"name": "活期存款", "category": "deposit", "segments": [], "exclusive_with": []},
    "W301": {"name": "理财", "category": "investment", "min_age": 18, "segments": [], "exclusive_with": []},
    "C501": {"name": "信用卡", "category": "credit", "min_age": 18, "segments": [], "exclusive_with": []},
    "I401": {"name": "养老保险", "category": "insurance", "min_age": 60, "segments": [], "exclusive_with": []},
    "F302": {"name": "基金", "category": "investment", "segments": [], "exclusive_with": []},
    "L601": {"name": "房贷A", "category": "loan", "segments": [], "exclusive_with": ["L602"]},
    "L602": {"name": "房贷B", "category": "loan", "segments": [], "exclusive_with": ["L601"]},
    "S901": {"name": "私行专享", "category": "investment", "segments": ["private"], "exclusive_with": []},
}


def flat(amount: float) -> list[float]:
    return [float(amount)] * MONTHS


def ramp(start: float, end: float, months: int = 12) -> list[float]:
    """Flat at ``start``, then a straight line to ``end`` over the last ``months``."""
    step = (end - start) / (months - 1)
    return [float(start)] * (MONTHS - months) + [start + step * i for i in range(months)]


class BankBuilder:
    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = [
            {"label": "Product", "id": product_id, "properties": props} for product_id, props in PRODUCTS.items()
        ]
        self.ties: list[dict[str, Any]] = []
        self._accounts = 0

    def person(self, customer_id: str, **props: Any) -> BankBuilder:
        defaults = {
            "segment": "retail",
            "consent_marketing": True,
            "customer_since": "2015-01-01",
            "birth_date": "1980-01-01",
            "status": "active",
        }
        self.nodes.append({"label": "Person", "id": customer_id, "properties": {**defaults, **props}})
        return self

    def company(self, customer_id: str, **props: Any) -> BankBuilder:
        defaults = {"segment": "sme", "consent_marketing": True, "customer_since": "2010-01-01", "status": "active"}
        self.nodes.append({"label": "Company", "id": customer_id, "properties": {**defaults, **props}})
        return self

    def account(
        self, owner: str, product: str, balances: list[float], *, status: str = "open", joint: str | None = None
    ) -> str:
        self._accounts += 1
        account_id = f"A{self._accounts:04d}"
        props: dict[str, Any] = {"balances": balances, "status": status, "opened": "2015-02-01", "currency": "CNY"}
        if status == "closed":
            props["closed"] = "2024-06-30"
        self.nodes.append({"label": "Account", "id": account_id, "properties": props})
        self.ties.append({"type": "OWNS", "source": owner, "target": account_id, "properties": {"role": "owner"}})
        if joint:
            self.ties.append({"type": "OWNS", "source": joint, "target": account_id, "properties": {"role": "joint"}})
        self.ties.append({"type": "OF_PRODUCT", "source": account_id, "target": product})
        return account_id

    def tie(self, tie_type: str, source: str, target: str) -> BankBuilder:
        self.ties.append({"type": tie_type, "source": source, "target": target})
        return self

    def write(self, store: GraphStore) -> None:
        store.write(nodes=self.nodes, ties=self.ties)


def small_bank() -> BankBuilder:
    """Tiers, lifecycle cases, a churn chain, a cross-selling family and a referral circle."""
    bank = BankBuilder()
    # Tiers at their thresholds (deposits only, flat balances, long tenure).
    for customer_id, amount in (("t1", 6_000_000), ("t2", 5_999_999.99), ("t3", 50_000), ("t4", 49_999.5)):
        bank.person(customer_id)
        bank.account(customer_id, "D101", flat(amount))
    # A joint account counts in full for both holders; a loan counts as loans.
    bank.person("j1").person("j2")
    bank.account("j1", "D101", flat(200_000), joint="j2")
    bank.account("j1", "L601", flat(300_000))
    # Lifecycle.
    bank.person("s_new", customer_since="2024-08-01")
    bank.account("s_new", "D101", flat(10_000))
    bank.person("s_grow")
    bank.account("s_grow", "D101", ramp(100_000, 200_000))
    bank.person("s_fall")
    bank.account("s_fall", "D101", ramp(200_000, 80_000))
    bank.person("s_flat")
    bank.account("s_flat", "D101", flat(80_000))
    bank.person("s_gone", status="churned")
    bank.account("s_gone", "D101", flat(0))
    bank.person("s_closed")
    bank.account("s_closed", "D101", ramp(5_000, 0), status="closed")
    # A churn chain: h0 left; h1, h2, h3 look alike on their own.
    bank.person("h0", status="churned")
    bank.account("h0", "D101", flat(0), status="closed")
    for customer_id in ("h1", "h2", "h3"):
        bank.person(customer_id)
        bank.account(customer_id, "D101", flat(30_000))
    bank.tie("SPOUSE_OF", "h0", "h1").tie("SIBLING_OF", "h1", "h2").tie("RELATIVE_OF", "h2", "h3")
    # Weights: w0 left, tied to a spouse and to a relative.
    bank.person("w0", status="churned")
    bank.account("w0", "D101", flat(0), status="closed")
    for customer_id in ("w1", "w2"):
        bank.person(customer_id)
        bank.account(customer_id, "D101", flat(30_000))
    bank.tie("SPOUSE_OF", "w0", "w1").tie("RELATIVE_OF", "w0", "w2")
    # Cross-selling: x1 (34, retail) and the family around it.
    bank.person("x1", birth_date="1990-05-01")
    bank.account("x1", "D101", flat(20_000))
    bank.account("x1", "L601", flat(500_000))
    bank.person("x2", segment="private")
    bank.account("x2", "W301", flat(100_000))
    bank.account("x2", "C501", flat(1_000))
    bank.account("x2", "L602", flat(400_000))
    bank.account("x2", "S901", flat(2_000_000))
    bank.person("x3", birth_date="1950-01-01")
    bank.account("x3", "I401", flat(50_000))
    bank.account("x3", "C501", flat(2_000))
    bank.person("x6", birth_date="2005-01-01")
    bank.account("x6", "F302", flat(10_000))
    bank.person("x4", consent_marketing=False)
    bank.account("x4", "D101", flat(1_000))
    bank.person("x7", birth_date="2010-01-01")  # 14: too young for a card or wealth products
    bank.account("x7", "D101", flat(500))
    bank.tie("SPOUSE_OF", "x1", "x2").tie("SIBLING_OF", "x1", "x3").tie("PARENT_OF", "x2", "x6")
    bank.tie("SIBLING_OF", "x2", "x4").tie("PARENT_OF", "x2", "x7")
    # Referral circle: r01 referred r02..r07; r02 referred r08; and a family tie inside.
    for number in range(1, 9):
        bank.person(f"r{number:02d}")
        bank.account(f"r{number:02d}", "D101", flat(10_000 * number))
    for number in range(2, 8):
        bank.tie("REFERRED", "r01", f"r{number:02d}")
    bank.tie("REFERRED", "r02", "r08").tie("SPOUSE_OF", "r03", "r04")
    # A company with staff (employment is not a referral-cluster tie).
    bank.company("k1")
    bank.account("k1", "D101", flat(1_000_000))
    bank.tie("EMPLOYED_BY", "x3", "k1")
    return bank
