"""Small bank exports written into tmp_path, and a mapping that reads them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from graph.model import TieType
from graph.store import GraphStore
from loaders.identifiers import luhn_check_digit, resident_id_check_digit

TODAY = date(2024, 6, 15)


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


RID_ZHANG = resident_id("11010519900307002")
RID_LI = resident_id("31010419850512003")
CARD = "622202123456789" + luhn_check_digit("622202123456789")

MAPPING = """
version: 1
name: test-bank
resolution: {merge_above: MERGE_ABOVE, review_above: 0.7}
sources:
  - name: core_customers
    system: core
    path: core/customers.csv
    encoding: ENCODING
    node: Person
    key: [cust_no]
    columns:
      name: {from: cust_name, required: true}
      resident_id: {from: id_no, type: resident_id}
      birth_date: {from: birth, type: date, format: YYYYMMDD}
      phone: {from: mobile, type: mobile}
      segment: {from: seg_cd, map: {"01": retail, "02": private}}
  - name: card_customers
    system: card
    path: card/holders.csv
    node: Person
    key: [holder_id]
    columns:
      name: {from: holder_name}
      resident_id: {from: cert_no, type: resident_id}
      birth_date: {from: birth, type: date, format: YYYY-MM-DD}
      phone: {from: mobile, type: mobile}
      card: {from: card_no, type: card_number}
  - name: accounts
    system: core
    path: core/accounts.csv
    node: Account
    key: [acct_no]
    id_prefix: acct-
    columns:
      balance: {from: bal, type: amount}
    links:
      - {type: OWNS, from: cust_no, system: core}
  - name: family
    system: core
    path: core/family.csv
    tie: {type_from: rel_cd, map: {"10": SPOUSE_OF, "20": PARENT_OF}}
    source: {from: cust_a}
    target: {from: cust_b}
"""


def write_bank(
    root: Path,
    *,
    customers: str | None = None,
    holders: str | None = None,
    accounts: str | None = None,
    family: str | None = None,
    merge_above: float = 0.95,
    encoding: str = "utf-8",
) -> Path:
    """Write the mapping and the four exports (defaults: a small clean bank) and return the mapping path."""
    (root / "core").mkdir(parents=True, exist_ok=True)
    (root / "card").mkdir(parents=True, exist_ok=True)
    mapping = MAPPING.replace("MERGE_ABOVE", str(merge_above)).replace("ENCODING", encoding)
    (root / "mapping.yaml").write_text(mapping, encoding="utf-8")
    if customers is None:
        customers = (
            "cust_no,cust_name,id_no,birth,mobile,seg_cd\n"
            f"C1,张三,{RID_ZHANG},19900307,13812345678,01\n"
            f"C2,李四,{RID_LI},19850512,13900001111,02\n"
            "C3,王五,,19700101,,01\n"
        )
    (root / "core" / "customers.csv").write_bytes(customers.encode(encoding))
    if holders is None:
        holders = f"holder_id,holder_name,cert_no,birth,mobile,card_no\nH1,张三,{RID_ZHANG},1990-03-07,,{CARD}\n"
    (root / "card" / "holders.csv").write_text(holders, encoding="utf-8")
    if accounts is None:
        accounts = 'acct_no,cust_no,bal\nA1,C1,"1,000.50"\nA2,C2,20\n'
    (root / "core" / "accounts.csv").write_text(accounts, encoding="utf-8")
    if family is None:
        family = "cust_a,cust_b,rel_cd\nC1,C2,10\n"
    (root / "core" / "family.csv").write_text(family, encoding="utf-8")
    return root / "mapping.yaml"


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    return write_bank(tmp_path / "bank")


def lineage(store: GraphStore) -> dict[str, set[str]]:
    """Customer id -> the source record refs it was built from."""
    found: dict[str, set[str]] = {}
    for tie in store.ties([TieType.FROM_SOURCE]):
        found.setdefault(tie.source, set()).add(tie.target)
    return found
