"""The Cypher of the relationship queries: one named query per file, every traversal bounded."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from graph.query import NamedQuery
from queries import accounts, book, branches, circle_pages, customers, groups, guarantees, naming, network, portfolio

QUERIES = sorted(
    {
        value.name: value
        for module in (
            accounts,
            book,
            branches,
            circle_pages,
            customers,
            groups,
            guarantees,
            naming,
            network,
            portfolio,
        )
        for value in vars(module).values()
        if isinstance(value, NamedQuery)
    }.values(),
    key=lambda query: query.name,
)
VARIABLE_LENGTH = re.compile(r"\[[^\]]*\*([^\]]*)\]")
QUANTIFIER = re.compile(r"\)\s*\{([\d\s,]*)\}")
"""A quantified path pattern's repetitions, ``((a)-[r]-(b)){1,5}``."""


def test_every_query_has_its_file_named_verb_noun() -> None:
    assert len(QUERIES) == 24
    for query in QUERIES:
        assert re.fullmatch(r"(get|list|count|search|find)_[a-z_]+", query.name), query.name
        assert resources.files(query.package).joinpath(f"{query.name}.cypher").is_file()


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: query.name)
def test_no_traversal_without_an_upper_bound(query: NamedQuery) -> None:
    for bounds in VARIABLE_LENGTH.findall(query.cypher):
        assert re.fullmatch(r"\s*\d*\s*\.\.\s*\d+\s*", bounds), f"{query.name}: [*{bounds}] has no upper bound"
    for bounds in QUANTIFIER.findall(query.cypher):
        assert re.fullmatch(r"\s*\d*\s*,\s*\d+\s*|\s*\d+\s*", bounds), f"{query.name}: {{{bounds}}} has no upper bound"
