"""Masks that do not re-identify: the bound test.

What one masked response shows of a person (the resident-ID mask, birth year, sex, city) must leave at
least about 10,000 resident ID numbers that fit it, for every person of a generated bank. The count is
exact: every valid birth date of the shown year and every sequence number of the shown sex, kept when
the check character they give is the one shown. The attacker is assumed to know the whole region code
(the mask shows it; the city hints at it) but not the PII hash key (``serve`` refuses the public one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from typing import Any

import pytest

from api.access import Role
from api.app import create_app
from api.masking import stub_name
from api.tokens import TokenRegistry
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.settings import Settings
from loaders.identifiers import mask_phone, mask_resident_id, resident_id_check_digit
from tests.api.conftest import TestClient, api_settings_for, auth

BOUND = 10_000
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643, one per digit of the first 17
CHECK_CHARACTERS = "10X98765432"  # the check character of each weighted sum modulo 11
OLDEST_YEAR = 1900


def _residue(digits: str, first_position: int) -> int:
    return sum(int(d) * WEIGHTS[first_position + i] for i, d in enumerate(digits)) % 11


def _fits(shown: str, digits: str) -> bool:
    return all(s == "*" or s == d for s, d in zip(shown, digits, strict=True))


def _dates(birth_year: int | None) -> Iterator[date]:
    first, last = (
        (date(birth_year, 1, 1), date(birth_year, 12, 31)) if birth_year else (date(OLDEST_YEAR, 1, 1), date.today())
    )
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


@cache
def _date_residues(birth_year: int | None, shown_date: str) -> Counter[int]:
    return Counter(_residue(f"{d:%Y%m%d}", 6) for d in _dates(birth_year) if _fits(shown_date, f"{d:%Y%m%d}"))


@cache
def _sequence_residues(gender: str | None, shown_sequence: str) -> Counter[int]:
    parities = {"M": {1}, "F": {0}}.get(gender or "", {0, 1})
    return Counter(
        _residue(f"{n:03d}", 14) for n in range(1000) if n % 2 in parities and _fits(shown_sequence, f"{n:03d}")
    )


def candidate_count(mask: str, birth_year: int | None, gender: str | None) -> int:
    """How many valid resident ID numbers agree with what a response shows."""
    region, shown_check = mask[:6], mask[17]
    assert region.isdigit(), "the count assumes the region is known; a mask hiding it leaves more"
    base = _residue(region, 0)
    return sum(
        dates * sequences
        for a, dates in _date_residues(birth_year, mask[6:14]).items()
        for b, sequences in _sequence_residues(gender, mask[14:17]).items()
        if shown_check == "*" or CHECK_CHARACTERS[(base + a + b) % 11] == shown_check
    )


@pytest.fixture(scope="module")
def shown_persons(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every person of a generated bank as the risk role (all customers, masked) reads them through the API."""
    from loaders.generator import generate
    from loaders.load import load_mapping

    directory = tmp_path_factory.mktemp("bound")
    settings: Settings = api_settings_for(directory, api_rate_burst=100_000, api_rate_per_second=10_000.0)
    generate(600, 13, directory / "bank")
    registry = TokenRegistry(settings.api_tokens_path)
    token, _ = registry.issue(Role.RISK, name="bound")
    registry.close()
    with EmbeddedStore(settings.embedded_path) as store:
        load_mapping(store, directory / "bank" / "mapping.yaml", directory / "report", settings=settings)
        persons = [node.id for node in store.nodes(NodeLabel.CUSTOMER) if node.label is NodeLabel.PERSON]
        # A plain client: the 360 also lists the generated accounts, whose core account numbers may look like
        # card numbers, which CheckedClient would take for a leak; this test is about the resident-ID mask.
        with TestClient(create_app(settings, store)) as client:
            return [client.get(f"/api/v1/customers/{p}", headers=auth(token)).json()["customer"] for p in persons]


def test_no_masked_response_narrows_a_resident_id_below_the_bound(shown_persons: list[dict[str, Any]]) -> None:
    with_id = [person for person in shown_persons if person["resident_id_masked"]]
    assert len(with_id) > 300
    assert all(person["birth_year"] and person["gender"] and person["city"] for person in with_id)
    counts = [
        candidate_count(person["resident_id_masked"], person["birth_year"], person["gender"]) for person in with_id
    ]
    assert min(counts) >= BOUND, f"fewest candidates: {min(counts)}"


def test_phone_masks_leave_ten_thousand_numbers(shown_persons: list[dict[str, Any]]) -> None:
    phones = [person["phone_masked"] for person in shown_persons if person["phone_masked"]]
    assert phones and all(10 ** phone.count("*") >= BOUND for phone in phones)
    assert mask_phone("13812345678") == "138****5678"


def test_the_count_is_exact_and_catches_the_former_mask() -> None:
    resident_id = "11010519491231002X"
    assert mask_resident_id(resident_id) == "110105***********X"
    # Checked against brute force on December only (a mask showing the month), to keep the test quick.
    december = "110105****12*****X"
    expected = sum(
        1
        for day in _dates(1949)
        if day.month == 12
        for sequence in range(0, 1000, 2)  # female: an even last sequence digit
        if resident_id_check_digit(f"110105{day:%Y%m%d}{sequence:03d}") == "X"
    )
    assert candidate_count(december, 1949, "F") == expected > 1000
    assert candidate_count(mask_resident_id(resident_id), 1949, "F") >= BOUND
    # The former mask showed the sequence number as well: a few dozen candidates, as the review found.
    former = resident_id[:6] + "*" * 8 + resident_id[-4:]
    assert candidate_count(former, 1949, "F") < 60
    # Hiding the birth year would not have saved the former mask either.
    assert candidate_count(former, None, None) < BOUND


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("杭州云帆科技有限公司", "杭**"),  # not a row of nine stars: the length is not told
        ("张三丰", "张**"),
        ("王伟", "王*"),
        ("Acme Trading Limited", "A** T** L**"),
        ("", "**"),
        (None, "**"),
    ],
)
def test_a_stub_name_is_masked_with_short_runs(name: Any, shown: str) -> None:
    assert stub_name(name) == shown
