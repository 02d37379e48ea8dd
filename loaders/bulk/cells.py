"""Typed columns from text columns: each distinct cell read once by the row path's own transform.

A bank's columns hold few distinct values for most of their cells (dates, codes, branches, amounts
repeat), so a column is dictionary-encoded and the row path's cell transform (``loaders.transform``)
runs once per distinct text; the results are then taken for every row by index (Arrow, in C++). The
typed values are the row path's by construction, whatever the type; only the per-cell Python call is
saved. A distinct text the transform refuses marks its rows bad: the bulk path hands those rows to the
row path, which words the quarantine message (the first problem in column order) as it always does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders import identifier_columns
from loaders.identifiers import keyed_hashes, mask_card, to_half_width
from loaders.mapping import PERSONAL_TYPES, Column, ValueType
from loaders.quarantine import QuarantineReason
from loaders.transform import PLAUSIBLE_YEARS, RowProblem, cell_transform, personal_values, strftime_pattern

_REFUSED = object()
_UNREAD = object()


@dataclass(frozen=True)
class TypedColumn:
    """One property column: its values (null for bad rows and empty cells) and which rows it refuses."""

    name: str
    values: pa.Array
    bad: np.ndarray


Vectorised = Callable[[pa.Array], tuple[pa.Array, pa.Array]]
"""Reads distinct cells on the whole array: (which cells it read exactly as the row path would, their values)."""


def each_distinct(
    cells: pa.Array, read: Callable[[str], Any], vectorised: Vectorised | None = None
) -> tuple[pa.Array, np.ndarray]:
    """``read`` applied to every distinct cell once and taken for every row; rows where it raised
    :class:`RowProblem` are marked in the returned mask (their value is null). ``vectorised`` reads the
    distinct cells it can in Arrow (C++), and ``read`` only the others."""
    typed, refused, indices = read_distinct(cells, read, vectorised)
    if indices is None:
        return typed, refused
    return typed.take(indices), refused[indices.to_numpy(zero_copy_only=False)]


def read_distinct(
    cells: pa.Array, read: Callable[[str], Any], vectorised: Vectorised | None = None
) -> tuple[pa.Array, np.ndarray, pa.Array | None]:
    """:func:`each_distinct` before its values are taken for every row: the value of each distinct cell,
    which of them ``read`` refused, and each row's distinct cell (null for a null cell). A column of
    mostly distinct cells (keys, identifiers, balance lists) is read cell by cell instead: the values
    and refusals are per row and the rows' distinct cells None (the same outcome, without building and
    taking from a dictionary that is almost as long as the column)."""
    if _mostly_distinct(cells):
        distinct, indices = cells, None
    else:
        encoded = pc.dictionary_encode(cells)
        distinct, indices = encoded.dictionary, encoded.indices
    done = values = None
    if vectorised is not None and len(distinct):
        try:
            done, values = vectorised(distinct)
        except pa.ArrowInvalid:  # a cast Arrow refuses: every cell is read in Python
            done = values = None
    results: list[Any] = [None] * len(distinct)
    refused = np.zeros(len(distinct), dtype=bool)
    left: Sequence[int]
    if done is None:
        left, texts = range(len(distinct)), distinct.to_pylist()
    else:
        left = np.flatnonzero(~done.to_numpy(zero_copy_only=False)).tolist()
        texts = distinct.take(pa.array(left, pa.int64())).to_pylist() if left else []
    # Cell by cell, a text that repeats is still read once.
    known: dict[str, Any] | None = {} if indices is None else None
    for position, text in zip(left, texts, strict=True):
        result = _UNREAD if known is None else known.get(text, _UNREAD)
        if result is _UNREAD:
            try:
                result = read(text)
            except RowProblem:
                result = _REFUSED
            if known is not None:
                known[text] = result
        if result is _REFUSED:
            refused[position] = True
        else:
            results[position] = result
    by_python = pa.array(results, type=values.type if values is not None else None)
    typed = by_python if done is None else pc.if_else(done, values, by_python)
    return typed, refused, indices


_SAMPLE = 16384
"""Cells looked at to tell a column of mostly distinct cells (:func:`_mostly_distinct`)."""


def _mostly_distinct(cells: pa.Array) -> bool:
    """Whether nine in ten of an evenly spread sample of the cells differ from one another (a column
    without nulls, several times longer than the sample): a column of keys, not of dates or codes."""
    if len(cells) < 4 * _SAMPLE or cells.null_count:
        return False
    sample = cells.take(pa.array(np.linspace(0, len(cells) - 1, _SAMPLE, dtype=np.int64)))
    return len(pc.unique(sample)) > _SAMPLE * 9 // 10


_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
"""The row path's plain number (``loaders.transform``): Python's float() and Arrow's cast read it alike,
both correctly rounded."""


def vectorised_reader(column: Column) -> Vectorised | None:
    """The Arrow reading of the cells of ``column`` that need none of the row path's special cases:
    ASCII, no surrounding space, not a null marker, and of the type's plain form. None for types (and
    options) whose cells are read in Python only."""
    if column.map is not None or column.default is not None or not column.trim:
        return None
    nulls = pa.array(sorted(column.null_values or ()), pa.string())
    kind, prefix = column.type, column.prefix

    def plain(cells: pa.Array, pattern: str | None, any_script: bool = False) -> pa.Array:
        ok = pc.and_(pc.string_is_ascii(cells), pc.equal(pc.ascii_trim_whitespace(cells), cells))
        if any_script:  # text in other scripts too, where stripping and half-width forms change nothing
            ok = pc.or_(ok, _unchanged_text(cells, column.half_width))
        if len(nulls):  # (an empty set still hashes every cell)
            ok = pc.and_(ok, pc.invert(pc.is_in(cells, value_set=nulls)))
        ok = pc.and_(ok, pc.greater(pc.utf8_length(cells), 0))
        if pattern is not None:
            ok = pc.and_(ok, pc.match_substring_regex(cells, f"^(?:{pattern})$"))
        return ok

    def cast(cells: pa.Array, pattern: str, to: pa.DataType) -> tuple[pa.Array, pa.Array]:
        ok = plain(cells, pattern)
        values = pc.if_else(ok, cells, pa.scalar("0")).cast(to)
        if pa.types.is_floating(to):  # a plain number too large for a double: the row path refuses it
            ok = pc.and_(ok, pc.invert(pc.is_inf(values)))
        return ok, values

    if kind is ValueType.TEXT:
        if prefix:
            return lambda cells: (plain(cells, None, True), pc.binary_join_element_wise(prefix, cells, ""))
        return lambda cells: (plain(cells, None, True), cells)
    if kind is ValueType.DATE or kind is ValueType.DATETIME:
        directive = strftime_pattern(column.format) if column.format is not None else "%Y-%m-%d"
        shape = _DATE_SHAPES.get(directive)
        if shape is None:
            return None
        with_time = kind is ValueType.DATETIME
        return lambda cells: _dates(cells, plain(cells, shape.pattern), shape, with_time)
    if kind is ValueType.NUMBER:
        return lambda cells: cast(cells, _NUMBER, pa.float64())
    if kind is ValueType.INTEGER:
        return lambda cells: cast(cells, r"[+-]?[0-9]{1,18}", pa.int64())
    if kind is ValueType.AMOUNT:
        # At most two decimals and fifteen digits before the point: round(x, 2) gives x back.
        return lambda cells: cast(cells, r"[+-]?[0-9]{1,15}(?:\.[0-9]{0,2})?", pa.float64())
    if kind is ValueType.CREDIT_CODE:

        def credit_codes(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
            settled, canonical = identifier_columns.credit_codes(cells)
            return pc.and_(plain(cells, None), pa.array(settled)), canonical

        return credit_codes
    separator = column.format or ";"
    if kind is ValueType.FLOAT_LIST and len(separator) == 1:
        pattern = f"{_NUMBER}(?:{re.escape(separator)}{_NUMBER})*"

        def float_lists(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
            ok = plain(cells, pattern)
            parts = pc.split_pattern(pc.if_else(ok, cells, pa.scalar("0")), separator)
            values = parts.cast(pa.list_(pa.float64()))
            if pc.any(pc.is_inf(pc.list_flatten(values))).as_py():  # rare: leave the whole column to Python
                return pa.repeat(False, len(cells)), values
            return ok, values

        return float_lists
    return None


# Python's whitespace (what str.strip() removes), as a regular expression class: taken from Python itself.
_SPACE = "".join(f"\\x{{{code:x}}}" for code in range(0x110000) if chr(code).isspace())
_STRIPPED = f"(?s)^[^{_SPACE}](?:.*[^{_SPACE}])?$"
_FULL_WIDTH = "[\\x{3000}\\x{ff01}-\\x{ff5e}]"
"""What ``to_half_width`` changes: full-width ASCII forms and the ideographic space."""


def _unchanged_text(cells: pa.Array, half_width: bool) -> pa.Array:
    """The cells the row path's text reading leaves as they are: nothing to strip at either end (by Python's
    own whitespace), and no full-width form when the column asks for half width."""
    ok = pc.match_substring_regex(cells, _STRIPPED)
    if half_width:
        ok = pc.and_(ok, pc.invert(pc.match_substring_regex(cells, _FULL_WIDTH)))
    return ok


@dataclass(frozen=True)
class _DateShape:
    """A fixed-width date pattern: its cells' regular expression and where year, month, day (and the time of
    day, ``HH:MM:SS``) begin."""

    pattern: str
    date_at: tuple[int, int, int]
    time_at: int | None = None


_DATE_SHAPES = {
    "%Y%m%d": _DateShape(r"[0-9]{8}", (0, 4, 6)),
    "%Y-%m-%d": _DateShape(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", (0, 5, 8)),
    "%Y-%m-%d %H:%M:%S": _DateShape(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", (0, 5, 8), 11),
}
"""The patterns ``loaders.transform`` reads without strptime (its ``_FIXED_WIDTH``), here read on columns."""

_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _dates(cells: pa.Array, ok: pa.Array, shape: _DateShape, with_time: bool) -> tuple[pa.Array, pa.Array]:
    """Cells of a fixed-width date pattern as the row path gives them (``YYYY-MM-DD``, or ``YYYY-MM-DDTHH:MM:SS``
    for a date and time); a cell of the shape that is no date (a 31st of April, year 0, hour 24) is left to the
    row path, which refuses it in its words."""
    starts = zip(shape.date_at, (4, 2, 2), strict=True)
    texts = [pc.utf8_slice_codeunits(cells, at, at + length) for at, length in starts]
    year, month, day = (_numbers(text, ok) for text in texts)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    valid = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    values = pc.binary_join_element_wise(*texts, "-")
    if shape.time_at is not None:
        clock = pc.utf8_slice_codeunits(cells, shape.time_at, shape.time_at + 8)
        hour, minute, second = (_numbers(pc.utf8_slice_codeunits(clock, at, at + 2), ok) for at in (0, 3, 6))
        valid &= (hour <= 23) & (minute <= 59) & (second <= 59)
    else:
        clock = pa.array(["00:00:00"] * len(cells), pa.string())
    if with_time:
        values = pc.binary_join_element_wise(values, clock, "T")
    return pc.and_(ok, pa.array(valid)), values


def _numbers(digits: pa.Array, ok: pa.Array) -> np.ndarray:
    """Runs of digits as numbers (0 where ``ok`` is false: the cell is not of the shape)."""
    return pc.cast(pc.if_else(ok, digits, "0"), pa.int64()).to_numpy(zero_copy_only=False)


def without_nulls(cells: pa.Array, null_values: Iterable[str]) -> pa.Array:
    """Cells equal (trimmed) to one of a source's null markers made empty, as the row path reads them."""
    nulls = frozenset(null_values)
    if not nulls:
        return cells
    values, _ = each_distinct(cells, lambda text: "" if text.strip() in nulls else text)
    return values


def typed_columns(
    columns: dict[str, Column], cells: dict[str, pa.Array], hash_key: bytes, today: date | None
) -> list[TypedColumn]:
    """Every property of the source's mapping, in the row path's order (a personal column gives two:
    ``<name>_hash`` and ``<name>_masked``); constant columns are left to the caller."""
    typed: list[TypedColumn] = []
    for name, column in columns.items():
        if column.from_ is None:
            continue
        raw = cells[column.from_]
        if column.type in PERSONAL_TYPES and column.map is None:
            pairs, bad = each_distinct(
                raw, _personal_reader(column, hash_key, today), _personal_columns(column, hash_key, today)
            )
            pairs = pairs.cast(_HASH_AND_MASK)  # a column of empty cells only comes back untyped
            hashes, masks = pc.struct_field(pairs, "hash"), pc.struct_field(pairs, "masked")
            typed += [TypedColumn(f"{name}_hash", hashes, bad), TypedColumn(f"{name}_masked", masks, bad)]
            continue
        if column.type is ValueType.CREDIT_CODE:
            column = column.model_copy(update={"half_width": True})
        values, bad = each_distinct(raw, cell_transform(column, today=today), vectorised_reader(column))
        typed.append(TypedColumn(name, values, bad))
    return typed


_HASH_AND_MASK = pa.struct([("hash", pa.string()), ("masked", pa.string())])
_SETTLE: dict[ValueType, Callable[[pa.Array, date], tuple[np.ndarray, pa.Array]]] = {
    ValueType.RESIDENT_ID: identifier_columns.resident_ids,
    ValueType.MOBILE: lambda cells, _: identifier_columns.mobiles(cells),
    ValueType.CARD_NUMBER: lambda cells, _: identifier_columns.card_numbers(cells),
}


def _personal_reader(column: Column, hash_key: bytes, today: date | None) -> Callable[[str], Any]:
    nulls = frozenset(column.null_values or ())
    required, kind = column.required, column.type

    def read(raw: str) -> dict[str, str] | None:
        text = to_half_width(raw).strip()
        if not text or text in nulls:
            if required:
                raise RowProblem(QuarantineReason.MISSING_VALUE, "required value is empty")
            return None
        hashed, masked = personal_values(kind, text, hash_key, today=today)
        return {"hash": hashed, "masked": masked}

    return read


def _personal_columns(column: Column, hash_key: bytes, today: date | None) -> Vectorised:
    """The identifiers of a personal column checked in numpy (``loaders.identifier_columns``); each one
    it settles is hashed once and masked, the others are left to :func:`_personal_reader`."""
    nulls = pa.array(sorted(column.null_values or ()), pa.string())
    kind = column.type

    def read(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
        settled, canonical = _SETTLE[kind](cells, today or date.today())
        if len(nulls):
            settled &= ~pc.is_in(pc.utf8_trim_whitespace(cells), value_set=nulls).to_numpy(zero_copy_only=False)
        at = pa.array(np.flatnonzero(settled), pa.int64())
        chosen = canonical.take(at)
        hashes = pa.array(keyed_hashes(chosen.to_pylist(), hash_key, purpose=kind.value), pa.string())
        masks = _masks(kind, chosen)
        # Rows not settled take their values from _personal_reader: they only need a place here.
        places = np.zeros(len(cells), dtype=np.int64)
        places[settled] = np.arange(len(at))
        pairs = pa.StructArray.from_arrays([hashes, masks], fields=list(_HASH_AND_MASK))
        return pa.array(settled), pairs.take(pa.array(places)) if len(at) else pa.nulls(len(cells), _HASH_AND_MASK)

    return read


def _masks(kind: ValueType, canonical: pa.Array) -> pa.Array:
    if kind is ValueType.RESIDENT_ID:
        return identifier_columns.resident_id_masks(canonical)
    if kind is ValueType.MOBILE:
        return identifier_columns.mobile_masks(canonical)
    return pa.array([mask_card(number) for number in canonical.to_pylist()], pa.string())


def date_counts(
    columns: dict[str, Column], typed: list[TypedColumn], rows: np.ndarray, today: date
) -> tuple[dict[str, int], dict[str, int]]:
    """Per date property, how many of ``rows`` (a mask) hold a date after ``today`` (unless expected) and
    how many one over :data:`PLAUSIBLE_YEARS` back: the row path's warnings, counted on whole columns."""
    latest = today.isoformat()
    earliest = today.replace(year=today.year - PLAUSIBLE_YEARS, day=min(today.day, 28)).isoformat()
    future: dict[str, int] = {}
    ancient: dict[str, int] = {}
    by_name = {column.name: column for column in typed}
    chosen = pa.array(rows)

    def count(days: pa.Array, compare: Callable[..., pa.Array], bound: str) -> int:
        # Comparing UTF-8 bytes orders as comparing the strings; a null (no date) counts nowhere.
        return int(pc.sum(pc.and_(chosen, compare(days, pa.scalar(bound)))).as_py() or 0)

    for name, column in columns.items():
        dated = column.type in (ValueType.DATE, ValueType.DATETIME) and column.map is None
        if column.from_ is None or not dated or pa.types.is_null(by_name[name].values.type):
            continue  # (a column of empty or refused cells only holds no date)
        days = pc.utf8_slice_codeunits(by_name[name].values, 0, 10)
        after = count(days, pc.greater, latest) if not column.expect_future else 0
        before = count(days, pc.less, earliest)
        if after:
            future[name] = after
        if before:
            ancient[name] = before
    return future, ancient
