"""LDBC FinBench SF0.1 through loaders/mappings/finbench.yaml: every row accounted for, counts match the files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graph.model import NodeLabel
from graph.store import GraphStore
from loaders.load import load_mapping
from loaders.mapping import Mapping

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "loaders" / "mappings" / "finbench.yaml"
DATA = ROOT.parent / "shared" / "data" / "finbench-sf0.1" / "snapshot"

# CI lays shared/ beside the checkout, so there the data must be found, not skipped.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not DATA.is_dir() and os.environ.get("CI") != "true", reason=f"FinBench snapshot not found at {DATA}"
    ),
]


def data_rows(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("|") for line in lines[1:] if line.strip()]


def test_finbench_loads_with_complete_accounting(store: GraphStore, tmp_path: Path) -> None:
    mapping = Mapping.from_file(MAPPING, data_dir=DATA)
    report = load_mapping(store, MAPPING, tmp_path / "report", data_dir=DATA)
    by_name = {source.name: source for source in report.sources}
    for source in mapping.sources:
        counted = by_name[source.name]
        assert counted.rows_read == len(data_rows(source.path)), source.name
        assert counted.rows_read == counted.loaded + counted.merged + counted.quarantined

    persons, companies = data_rows("Person.csv"), data_rows("Company.csv")
    accounts, loans = data_rows("Account.csv"), data_rows("Loan.csv")
    counts = report.counts
    assert counts.nodes["Person"] == len(persons) == 7771  # no name-alike persons merged
    assert counts.nodes["Company"] == len(companies)
    assert counts.nodes["Account"] == len(accounts) + len(loans)
    assert counts.nodes["SourceRecord"] == len(persons) + len(companies)
    assert counts.nodes["Product"] == len({row[4] for row in loans})
    assert counts.ties["OWNS"] == sum(
        len(data_rows(f))
        for f in ("PersonOwnAccount.csv", "CompanyOwnAccount.csv", "PersonApplyLoan.csv", "CompanyApplyLoan.csv")
    )
    guarantees = data_rows("PersonGuaranteePerson.csv")
    assert counts.ties["SIBLING_OF"] <= sum(row[3] == "siblings" for row in guarantees)
    assert counts.ties["PARENT_OF"] == sum(row[3] == "parents" for row in guarantees)
    # Company investing in itself: refused as self ties, nothing else refused.
    self_investments = sum(row[0] == row[1] for row in data_rows("CompanyInvestCompany.csv"))
    assert by_name["fb_company_invests_company"].reasons == {"self_tie": self_investments}
    assert report.quarantined == self_investments

    big = "4614219293217785425"
    assert int(big) > 2**53
    account = store.get_node(NodeLabel.ACCOUNT, f"fb-a-{big}")
    assert account is not None and account.properties["source_id"] == big
    assert account.properties["account_type"] == "brokerage account"
    person = store.get_node(NodeLabel.PERSON, "fb-p-5172")
    assert person is not None and person.properties["birth_date"] == "1991-07-23"
