"""Identifiers checked on whole columns (loaders.identifier_columns) against the scalar checks they stand in for:
every cell they settle has the scalar function's canonical form, and every plain cell the scalar function
accepts is settled."""

from __future__ import annotations

import random
from collections.abc import Callable

import pyarrow as pa
import pytest

from loaders import identifier_columns
from loaders.identifiers import (
    CREDIT_CODE_ALPHABET,
    InvalidIdentifier,
    credit_code_check_char,
    luhn_check_digit,
    mask_phone,
    mask_resident_id,
    normalize_card_number,
    normalize_credit_code,
    normalize_mobile,
    normalize_resident_id,
    resident_id_check_digit,
)
from tests.loaders.identifier_samples import GB11643_EXAMPLE, TODAY, full_width

DIGITS = "0123456789"


def resident_id_cells(rng: random.Random) -> str:
    """IDs with valid and invalid regions, dates and check digits, legacy and decorated forms."""
    region = rng.choice(["11", "12", "44", "65", "91", "99", "00", "20"]) + f"{rng.randrange(10_000):04d}"
    year = rng.choice([1899, 1900, 1950, 1988, 2000, 2024, 2025])
    first17 = f"{region}{year:04d}{rng.randrange(0, 14):02d}{rng.randrange(0, 32):02d}{rng.randrange(1000):03d}"
    cell = first17 + (resident_id_check_digit(first17) if rng.random() < 0.7 else rng.choice(DIGITS + "Xx"))
    if rng.random() < 0.2:
        cell = cell[:6] + cell[8:17]  # a legacy 15-digit ID
    if rng.random() < 0.3:
        cell = cell.lower()
    return decorated(rng, cell)


def mobile_cells(rng: random.Random) -> str:
    number = "1" + rng.choice(DIGITS) + "".join(rng.choice(DIGITS) for _ in range(rng.choice([8, 9, 9, 9, 10])))
    return decorated(rng, rng.choice(["", "+86", "86", "0086", "+85", "+86 ", "008"]) + number)


def card_cells(rng: random.Random) -> str:
    partial = "".join(rng.choice(DIGITS) for _ in range(rng.randrange(10, 20)))
    return decorated(rng, partial + (luhn_check_digit(partial) if rng.random() < 0.7 else rng.choice(DIGITS)))


def credit_code_cells(rng: random.Random) -> str:
    """Codes of the alphabet and with letters outside it (I, O, S, V, Z), of 17 to 19 characters."""
    alphabet = CREDIT_CODE_ALPHABET + "IOSVZ" * (rng.random() < 0.1)
    first17 = "".join(rng.choice(alphabet) for _ in range(rng.choice([16, 17, 17, 17, 18])))
    try:
        cell = first17 + (credit_code_check_char(first17) if rng.random() < 0.7 else rng.choice(CREDIT_CODE_ALPHABET))
    except InvalidIdentifier:  # a letter outside the alphabet, or a length other than 17
        cell = first17 + "0"
    if rng.random() < 0.3:
        cell = cell.lower()
    return decorated(rng, cell)


def decorated(rng: random.Random, cell: str) -> str:
    """The cell with what exports add: surrounding spaces, a hyphen or space inside, full-width forms, a letter."""
    if rng.random() < 0.05:
        cell = f" {cell} "
    if rng.random() < 0.05:
        cell = f"{cell[:4]}{rng.choice('- ')}{cell[4:]}"
    if rng.random() < 0.05:
        cell = full_width(cell)
    if rng.random() < 0.03:
        cell += rng.choice("1aX")
    return cell


CASES: list[
    tuple[str, Callable[[random.Random], str], Callable[[pa.Array], identifier_columns.Settled], Callable[[str], str]]
] = [
    (
        "resident_id",
        resident_id_cells,
        lambda cells: identifier_columns.resident_ids(cells, TODAY),
        lambda cell: normalize_resident_id(cell, today=TODAY),
    ),
    ("mobile", mobile_cells, identifier_columns.mobiles, normalize_mobile),
    ("card_number", card_cells, identifier_columns.card_numbers, normalize_card_number),
    ("credit_code", credit_code_cells, identifier_columns.credit_codes, normalize_credit_code),
]
EDGE_CELLS = [
    "",
    " ",
    "-",
    "x",
    "+",
    "86",
    GB11643_EXAMPLE,
    GB11643_EXAMPLE.lower(),
    "110105491231002",
    "0000000000000",
    "91350100M000100Y43",
    "91350100m000100y43",
    "91350100M000100Y44",
]


@pytest.mark.parametrize(("kind", "make", "settle", "scalar"), CASES, ids=[case[0] for case in CASES])
def test_settled_cells_are_the_scalar_checks_canonical_form(
    kind: str,
    make: Callable[[random.Random], str],
    settle: Callable[[pa.Array], identifier_columns.Settled],
    scalar: Callable[[str], str],
) -> None:
    rng = random.Random(kind)
    cells = [make(rng) for _ in range(5_000)] + EDGE_CELLS
    settled, canonical = settle(pa.array(cells, pa.string()))
    expected: list[str | None] = []
    for cell in cells:
        try:
            expected.append(scalar(cell))
        except InvalidIdentifier:
            expected.append(None)
    found = canonical.to_pylist()
    for cell, is_settled, value, wanted in zip(cells, settled.tolist(), found, expected, strict=True):
        if is_settled:
            assert value == wanted, cell
        else:  # left to the scalar function: a refusal, or a form only it reads (full-width digits)
            assert wanted is None or not cell.isascii(), cell
    assert sum(settled.tolist()) > 1_000  # the plain, valid cells were settled, not all left to Python


def test_a_sliced_array_is_read_from_its_own_offset() -> None:
    cells = pa.array(["13812345678", GB11643_EXAMPLE, "15012345678"], pa.string())
    settled, canonical = identifier_columns.resident_ids(cells.slice(1, 1), TODAY)
    assert settled.tolist() == [True] and canonical.to_pylist() == [GB11643_EXAMPLE]


@pytest.mark.parametrize(
    ("settle", "mask", "scalar"),
    [
        (
            lambda cells: identifier_columns.resident_ids(cells, TODAY),
            identifier_columns.resident_id_masks,
            mask_resident_id,
        ),
        (CASES[1][2], identifier_columns.mobile_masks, mask_phone),
    ],
)
def test_masks_on_columns_are_the_scalar_masks(
    settle: Callable[[pa.Array], identifier_columns.Settled],
    mask: Callable[[pa.Array], pa.Array],
    scalar: Callable[[str], str],
) -> None:
    rng = random.Random(7)
    cells = [make(rng) for make in (resident_id_cells, mobile_cells) for _ in range(2_000)]
    settled, canonical = settle(pa.array(cells, pa.string()))
    valid = canonical.filter(pa.array(settled))
    assert len(valid) > 100
    assert mask(valid).to_pylist() == [scalar(value) for value in valid.to_pylist()]
