"""Cross-selling and campaign prospects: eligibility, network evidence, ranking."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from graph.errors import NotFound
from graph.model import NodeLabel
from graph.store import GraphStore
from queries.analytics import analyze, cross_sell, prospects
from queries.analytics.fetch import CUSTOMER_TIES, PACKAGE
from tests.analytics.bank import SETTINGS, TODAY, small_bank


@pytest.fixture
def analysed(store: GraphStore) -> GraphStore:
    small_bank().write(store)
    analyze(store, SETTINGS)
    return store


def test_recommendations_respect_eligibility_and_holdings(analysed: GraphStore) -> None:
    found = {item.product_id: item for item in cross_sell(analysed, "x1", settings=SETTINGS, today=TODAY)}
    assert "D101" not in found and "L601" not in found  # held
    assert "L602" not in found  # exclusive with the held L601
    assert "I401" not in found  # min_age 60, x1 is 34
    assert "S901" not in found  # private segment only
    assert {"W301", "C501", "F302"} <= set(found)
    assert found["C501"].parts["network"] > 0 and found["C501"].parts["eligibility"] == 1.0


def test_ranking_is_by_score_then_product_id(analysed: GraphStore) -> None:
    found = cross_sell(analysed, "x1", settings=SETTINGS, today=TODAY)
    keys = [(-item.score, item.product_id) for item in found]
    assert keys == sorted(keys)
    assert all(round(item.score, 6) == item.score for item in found)
    assert len(cross_sell(analysed, "x1", limit=2, settings=SETTINGS, today=TODAY)) == 2


def test_no_personalised_recommendations_without_consent(analysed: GraphStore) -> None:
    assert cross_sell(analysed, "x4", settings=SETTINGS, today=TODAY) == []
    with pytest.raises(NotFound):
        cross_sell(analysed, "nobody", settings=SETTINGS, today=TODAY)


def test_minors_get_no_age_restricted_products(analysed: GraphStore) -> None:
    found = {item.product_id for item in cross_sell(analysed, "x7", settings=SETTINGS, today=TODAY)}
    assert not found & {"W301", "C501", "I401"}


def test_evidence_paths_are_real_ties(analysed: GraphStore) -> None:
    found = cross_sell(analysed, "x1", settings=SETTINGS, today=TODAY)
    paths = [path for item in found for path in item.evidence]
    assert paths and any(len(path.nodes) == 3 for path in paths)
    for item in found:
        assert len(item.evidence) <= 5
        for path in item.evidence:
            assert path.nodes[0] == "x1" and len(path.ties) == len(path.nodes) - 1
            for (left, right), tie_type in zip(zip(path.nodes, path.nodes[1:], strict=False), path.ties, strict=True):
                around = analysed.neighbourhood(NodeLabel.CUSTOMER, left, [tie_type], limit=1000)
                assert any({tie.source, tie.target} == {left, right} for tie in around.ties)
    second_hop = next(item for item in found if item.product_id == "F302").evidence[0]
    assert second_hop.nodes == ["x1", "x2", "x6"] and second_hop.ties == ["SPOUSE_OF", "PARENT_OF"]


def test_prospects_exclude_holders_refusers_and_ineligible(analysed: GraphStore) -> None:
    found = [item.customer_id for item in prospects(analysed, "C501", settings=SETTINGS, today=TODAY)]
    assert "x1" in found
    assert "x2" not in found and "x3" not in found  # hold it
    assert "x4" not in found  # refused marketing
    assert "x7" not in found  # too young
    with pytest.raises(NotFound):
        prospects(analysed, "NOPE", settings=SETTINGS, today=TODAY)


def test_cypher_files_name_exactly_the_customer_tie_types() -> None:
    expected = "|".join(tie_type.value for tie_type in CUSTOMER_TIES)
    for entry in resources.files(PACKAGE).iterdir():
        if entry.name.endswith(".cypher"):
            for found in re.findall(r"\[\w*:([A-Z_|]{20,})\]", entry.read_text(encoding="utf-8")):
                assert found == expected, entry.name
