"""Identifiers checked on whole columns: resident IDs, mobile numbers, card numbers and credit codes in numpy.

Each function takes an Arrow array of cells and returns which cells it settled and their canonical
form. It settles only cells in the plain form most exports use (ASCII, no character the scalar
normaliser would remove other than spaces and hyphens) that pass every check of the scalar function
in ``loaders.identifiers``; it leaves every other cell (a refusal, full-width digits, a stray letter)
to that function, which words the refusal. So a settled cell's canonical form is the scalar
function's, and a cell never settled is never refused here.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.identifiers import CREDIT_CODE_ALPHABET, CREDIT_CODE_WEIGHTS, PROVINCE_CODES

_RESIDENT_ID_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_RESIDENT_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_PROVINCES = np.zeros(100, dtype=bool)
_PROVINCES[[int(code) for code in PROVINCE_CODES]] = True
_DAYS_IN_MONTH = np.array((0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), dtype=np.int64)
_ZERO = ord("0")
_CREDIT_CODE_CHARACTERS = np.frombuffer(CREDIT_CODE_ALPHABET.encode(), dtype=np.uint8)
_CREDIT_CODE_VALUES = np.zeros(256, dtype=np.int64)
_CREDIT_CODE_VALUES[_CREDIT_CODE_CHARACTERS] = np.arange(len(CREDIT_CODE_ALPHABET))
_CREDIT_CODE_WEIGHTS = np.array(CREDIT_CODE_WEIGHTS, dtype=np.int64)

Settled = tuple[np.ndarray, pa.Array]
"""Per cell: whether it was settled, and its canonical form (meaningless where not settled)."""


def _compact(cells: pa.Array) -> pa.Array:
    """The cells as the scalar normaliser sees them once trimmed: spaces and hyphens removed. Only ASCII
    cells are compact here (the others may hold full-width forms); in a plain file the only ASCII
    whitespace a cell can hold is the space."""
    ascii_only = pc.string_is_ascii(cells)
    compact = pc.replace_substring(pc.replace_substring(cells, " ", ""), "-", "")
    return pc.if_else(ascii_only, compact, pa.scalar("", pa.string()))


def _digits(cells: pa.Array, width: int) -> np.ndarray:
    """Cells of exactly ``width`` ASCII characters as a (cells, width) array of their digit values
    (byte value less that of "0")."""
    if len(cells) == 0:
        return np.zeros((0, width), dtype=np.int64)
    offsets = np.frombuffer(cells.buffers()[1], dtype=np.int32)[cells.offset : cells.offset + len(cells) + 1]
    data = np.frombuffer(cells.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(cells), width).astype(np.int64) - _ZERO


def _texts(codes: np.ndarray) -> pa.Array:
    """Rows of character codes of one width as an Arrow string array, without a Python string each."""
    count, width = codes.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    data = codes.astype(np.uint8).tobytes()
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


def resident_ids(cells: pa.Array, today: date) -> Settled:
    """Resident IDs of 18 characters (a final ``x`` read as ``X``) or the legacy 15 digits, as the
    canonical 18 characters: region, birth date (from 1900 to ``today``) and check digit checked."""
    compact = _compact(cells)
    long_form = pc.match_substring_regex(compact, r"^[0-9]{17}[0-9Xx]$").to_numpy(zero_copy_only=False)
    short_form = pc.match_substring_regex(compact, r"^[0-9]{15}$").to_numpy(zero_copy_only=False)
    first17 = np.zeros((len(cells), 17), dtype=np.int64)
    long_at, short_at = np.flatnonzero(long_form), np.flatnonzero(short_form)
    long_cells = pc.utf8_upper(compact.take(pa.array(long_at, pa.int64())))
    long_digits = _digits(long_cells, 18)
    first17[long_at] = long_digits[:, :17]
    short_digits = _digits(compact.take(pa.array(short_at, pa.int64())), 15)
    # A legacy ID was issued to someone born in the 1900s: the year gains "19".
    first17[short_at] = np.concatenate(
        [short_digits[:, :6], np.tile([1, 9], (len(short_at), 1)), short_digits[:, 6:]], axis=1
    )
    check = _RESIDENT_ID_CHECK[(first17 * _RESIDENT_ID_WEIGHTS).sum(axis=1) % 11]
    given = check.copy()
    given[long_at] = long_digits[:, 17] + _ZERO
    year = first17[:, 6:10] @ np.array((1000, 100, 10, 1))
    month = first17[:, 10] * 10 + first17[:, 11]
    day = first17[:, 12] * 10 + first17[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    longest = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & leap)
    real_date = (month >= 1) & (month <= 12) & (day >= 1) & (day <= longest)
    born = year * 10_000 + month * 100 + day
    today_number = today.year * 10_000 + today.month * 100 + today.day
    settled = (long_form | short_form) & _PROVINCES[first17[:, 0] * 10 + first17[:, 1]] & real_date
    settled &= (year >= 1900) & (born <= today_number) & (check == given)
    return settled, _texts(np.concatenate([first17 + _ZERO, check[:, None].astype(np.int64)], axis=1))


def mobiles(cells: pa.Array) -> Settled:
    """Mainland mobile numbers, with or without +86, 86 or 0086, as their 11 digits."""
    compact = _compact(cells)
    settled = pc.match_substring_regex(compact, r"^(?:\+86|0086|86)?1[3-9][0-9]{9}$")
    return settled.to_numpy(zero_copy_only=False), pc.utf8_slice_codeunits(compact, -11)


def card_numbers(cells: pa.Array) -> Settled:
    """Card numbers of 13 to 19 digits whose Luhn check digit holds."""
    compact = _compact(cells)
    shaped = pc.match_substring_regex(compact, r"^[0-9]{13,19}$").to_numpy(zero_copy_only=False)
    at = np.flatnonzero(shaped)
    # Leading zeros add nothing to a Luhn sum, which counts from the right: pad every number to 19.
    digits = _digits(pc.utf8_lpad(compact.take(pa.array(at, pa.int64())), 19, "0"), 19)
    doubled = digits[:, -2::-2] * 2
    total = digits[:, ::-2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    settled = np.zeros(len(cells), dtype=bool)
    settled[at] = total % 10 == 0
    return settled, compact


def credit_codes(cells: pa.Array) -> Settled:
    """Unified social credit codes of 18 characters of the code's alphabet (lower case read as upper) whose
    check character holds."""
    compact = pc.utf8_upper(_compact(cells))
    shaped = pc.match_substring_regex(compact, r"^[0-9A-HJ-NP-RTUWXY]{18}$").to_numpy(zero_copy_only=False)
    at = np.flatnonzero(shaped)
    characters = _digits(compact.take(pa.array(at, pa.int64())), 18) + _ZERO
    total = (_CREDIT_CODE_VALUES[characters[:, :17]] * _CREDIT_CODE_WEIGHTS).sum(axis=1)
    settled = np.zeros(len(cells), dtype=bool)
    settled[at] = _CREDIT_CODE_CHARACTERS[(31 - total % 31) % 31] == characters[:, 17]
    return settled, compact


def resident_id_masks(canonical: pa.Array) -> pa.Array:
    """``mask_resident_id`` of canonical resident IDs: region and check character, 110105***********X."""
    return pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(canonical, 0, 6), "*" * 11, pc.utf8_slice_codeunits(canonical, 17, 18), ""
    )


def mobile_masks(canonical: pa.Array) -> pa.Array:
    """``mask_phone`` of canonical mobile numbers: 138****5678."""
    return pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(canonical, 0, 3), "****", pc.utf8_slice_codeunits(canonical, 7, 11), ""
    )
