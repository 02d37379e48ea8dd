"""Per-column transforms: raw text in, typed property values out, or a quarantine reason. Pure functions.

Dates are stored as ISO text (``2024-06-15``; datetimes ``2024-06-15T08:30:00``) because neither store
has one date type the other reads back alike. Personal identifiers (resident id, mobile, card number)
never leave this module in clear: a column ``x`` becomes ``x_hash`` (keyed HMAC, joinable across
sources) and ``x_masked`` (for display).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from loaders.identifiers import (
    InvalidIdentifier,
    keyed_hash,
    mask_card,
    mask_phone,
    mask_resident_id,
    normalize_card_number,
    normalize_credit_code,
    normalize_mobile,
    normalize_resident_id,
    to_half_width,
)
from loaders.mapping import PERSONAL_TYPES, Column, ValueType
from loaders.quarantine import QuarantineReason


class RowProblem(Exception):
    """A value that cannot be used; the row goes to quarantine with ``reason``. No value in the message."""

    def __init__(self, reason: QuarantineReason, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class TypedRow:
    """A row's properties, plus the normalised identifiers entity resolution needs."""

    properties: dict[str, Any]
    identifiers: dict[ValueType, str] = field(default_factory=dict)
    """Per identifier type, the keyed hash (personal types) or the canonical code (credit code)."""


_TRUE = frozenset({"true", "t", "1", "y", "yes", "是", "真", "对"})
_FALSE = frozenset({"false", "f", "0", "n", "no", "否", "假", "错"})
_CURRENCY = re.compile(r"^(?:CNY|RMB|¥|￥)\s*|\s*(?:元|CNY|RMB)$", re.IGNORECASE)
_TOKENS = (("YYYY", "%Y"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"))
_TOKENS_FRACTION = re.compile(r"S{1,6}|f{1,6}")


def strftime_pattern(pattern: str) -> str:
    """``YYYYMMDD``-style tokens as a strptime pattern; a pattern containing ``%`` is returned as is.

    Tokens: YYYY, YY, MM, DD, HH, mm (minutes), ss, and S.../f... for fractions of a second.
    """
    if "%" in pattern:
        return pattern
    out = _TOKENS_FRACTION.sub("%f", pattern)
    for token, directive in _TOKENS:
        out = out.replace(token, directive)
    return out


def parse_datetime(
    text: str, pattern: str | None = None, *, today: date | None = None, century_pivot: int | None = None
) -> datetime:
    """Parse a date or datetime; without a pattern ISO 8601 (with a space or T) is expected.

    A two-digit year falls in the hundred years from ``century_pivot`` when one is given (1930: 29 is
    2029, 30 is 1930); otherwise one that would put the date in the future is taken to be in the previous
    century, which is what a birth date ``YYMMDD`` means.
    """
    return datetime_parser(pattern, today=today, century_pivot=century_pivot)(text)


def datetime_parser(
    pattern: str | None, *, today: date | None = None, century_pivot: int | None = None
) -> Callable[[str], datetime]:
    """:func:`parse_datetime` for one pattern, with the pattern translated once."""
    directive = strftime_pattern(pattern) if pattern is not None else None
    two_digit_year = directive is not None and "%y" in directive
    shape, fast = _FIXED_WIDTH.get(directive or "", (None, None))
    expected = f"not a date in the format {pattern}" if pattern is not None else "not an ISO 8601 date (YYYY-MM-DD)"

    def parse(text: str) -> datetime:
        text = to_half_width(text).strip()
        try:
            if directive is None:
                return datetime.fromisoformat(text)
            if shape is not None and fast is not None and shape.fullmatch(text):
                return fast(text)
            parsed = datetime.strptime(text, directive)
            if two_digit_year:
                parsed = _in_century(parsed, century_pivot, today or date.today())
        except ValueError:
            raise RowProblem(QuarantineReason.BAD_DATE, expected) from None
        return parsed

    return parse


def _in_century(parsed: datetime, pivot: int | None, today: date) -> datetime:
    """A date read with a two-digit year, moved into the pivot's hundred years (or out of the future)."""
    if pivot is not None:
        year = pivot - pivot % 100 + parsed.year % 100
        return parsed.replace(year=year if year >= pivot else year + 100)
    if parsed.date() > today:
        return parsed.replace(year=parsed.year - 100)
    return parsed


_FIXED_WIDTH: dict[str, tuple[re.Pattern[str], Callable[[str], datetime]]] = {
    "%Y%m%d": (re.compile(r"[0-9]{8}"), lambda text: datetime(int(text[:4]), int(text[4:6]), int(text[6:]))),
    "%Y-%m-%d": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), datetime.fromisoformat),
    "%Y-%m-%d %H:%M:%S": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"), datetime.fromisoformat),
}
"""Common patterns, for texts of exactly their width: parsed without strptime (slow, and most of a load's
date cells are new values the cache has not seen), with the same result."""

_PLAIN_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_PLAIN_FLOAT = re.compile(_PLAIN_NUMBER)
_INFINITIES = (float("inf"), float("-inf"))


def parse_number(text: str, *, integer: bool = False) -> int | float:
    """A number with optional thousands separators, full-width digits, currency marks and (negative) brackets."""
    if not integer and _PLAIN_FLOAT.fullmatch(text):
        # Plain digits (most cells): nothing below would change the text before float().
        number = float(text)
        if number in _INFINITIES:
            raise RowProblem(QuarantineReason.BAD_NUMBER, "not a number")
        return number
    value = to_half_width(text).strip().replace(",", "").replace("_", "").replace(" ", "")
    value = _CURRENCY.sub("", value)
    negative = value.startswith("(") and value.endswith(")")
    if negative:
        value = value[1:-1]
    try:
        if integer:
            if not re.fullmatch(r"[+-]?\d+", value):
                raise ValueError(value)
            number = int(value)
        else:
            number = float(value)
            if number != number or number in _INFINITIES:
                raise ValueError(value)
    except ValueError:
        raise RowProblem(QuarantineReason.BAD_NUMBER, "not a number") from None
    return -number if negative else number


def parse_boolean(text: str) -> bool:
    word = to_half_width(text).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise RowProblem(QuarantineReason.BAD_BOOLEAN, "not a yes/no value")


def parse_float_list(text: str, separator: str | None) -> list[float]:
    return _float_list_parser(separator)(text)


def _float_list_parser(separator: str | None) -> Callable[[str], list[float]]:
    separators = re.escape(separator or ";")
    split = re.compile(f"[{separators}]").split
    plain = re.compile(f"{_PLAIN_NUMBER}(?:[{separators}]{_PLAIN_NUMBER})*")

    def parse(text: str) -> list[float]:
        if plain.fullmatch(text):
            # Only plain numbers and separators (most cells): parse_number would change none of them.
            numbers = [float(part) for part in split(text)]
            if not any(number in _INFINITIES for number in numbers):
                return numbers
        return [float(parse_number(part)) for part in split(to_half_width(text)) if part.strip()]

    return parse


def parse_text_list(text: str, separator: str | None) -> list[str]:
    """Separated texts, each trimmed; empty items dropped."""
    return [part.strip() for part in text.split(separator or "|") if part.strip()]


def transform_value(column: Column, raw: str | None, *, today: date | None = None) -> Any:
    """The typed value of one non-personal cell; None for an empty cell. Raises :class:`RowProblem`."""
    return cell_transform(column, today=today)(raw)


_DISTINCT_VALUES = 1 << 16
"""Per column, how many distinct cells of a few-valued type (dates, yes/no) keep their parsed value."""


def cell_transform(column: Column, *, today: date | None = None) -> Callable[[str | None], Any]:
    """:func:`transform_value` for one column, with its options read once: call it once per cell.

    A cell equal to one of the column's ``null_values`` is empty (the source's are emptied when read).
    """
    parse = _value_parser(column, today)
    trim, half_width, default, required = column.trim, column.half_width, column.default, column.required
    nulls = frozenset(column.null_values or ())

    def transform(raw: str | None) -> Any:
        text = raw if raw is not None else ""
        if trim:
            text = text.strip()
        if half_width:
            text = to_half_width(text)
        if text in nulls:
            text = ""
        if text == "":
            if default is not None:
                return default
            if required:
                raise RowProblem(QuarantineReason.MISSING_VALUE, "required value is empty")
            return None
        return parse(text)

    return transform


def _value_parser(column: Column, today: date | None) -> Callable[[str], Any]:
    """The parse of a non-empty cell of ``column``."""
    if column.map is not None:
        codes = column.map

        def mapped(text: str) -> Any:
            if text not in codes:
                raise RowProblem(QuarantineReason.UNKNOWN_CODE, "code is not in the column's map")
            return codes[text]

        return mapped
    kind, prefix = column.type, column.prefix
    if kind is ValueType.TEXT:
        return lambda text: prefix + text
    if kind is ValueType.INTEGER:
        return lambda text: parse_number(text, integer=True)
    if kind is ValueType.NUMBER:
        return lambda text: float(parse_number(text))
    if kind is ValueType.AMOUNT:
        return lambda text: round(float(parse_number(text)), 2)
    if kind is ValueType.BOOLEAN:
        return lru_cache(maxsize=_DISTINCT_VALUES)(parse_boolean)
    if kind is ValueType.DATE or kind is ValueType.DATETIME:
        parse = datetime_parser(column.format, today=today, century_pivot=column.century_pivot)
        # Few distinct values (birth dates, opening dates) and strptime is slow: parse each once.
        if kind is ValueType.DATE:
            return lru_cache(maxsize=_DISTINCT_VALUES)(lambda text: parse(text).date().isoformat())
        return lru_cache(maxsize=_DISTINCT_VALUES)(lambda text: parse(text).isoformat())
    if kind is ValueType.FLOAT_LIST:
        return _float_list_parser(column.format)
    if kind is ValueType.TEXT_LIST:
        separator = column.format
        return lambda text: [prefix + item for item in parse_text_list(text, separator)]
    if kind is ValueType.CREDIT_CODE:
        return lambda text: _identifier(normalize_credit_code, text)

    def personal(text: str) -> Any:
        raise RowProblem(QuarantineReason.MALFORMED_LINE, f"type {kind} needs transform_row")

    return personal


_NORMALISE: dict[ValueType, Callable[[str], str]] = {
    ValueType.CARD_NUMBER: normalize_card_number,
    ValueType.MOBILE: normalize_mobile,
}
_MASK: dict[ValueType, Callable[[str], str]] = {
    ValueType.RESIDENT_ID: mask_resident_id,
    ValueType.CARD_NUMBER: mask_card,
    ValueType.MOBILE: mask_phone,
}


def _identifier(normalise: Callable[[str], str], text: str) -> str:
    try:
        return normalise(text)
    except InvalidIdentifier as error:
        raise RowProblem(QuarantineReason(error.reason.value), error.message) from None


def personal_values(kind: ValueType, text: str, hash_key: bytes, *, today: date | None = None) -> tuple[str, str]:
    """(keyed hash, mask) of a personal identifier; the hash's purpose is the type, so it joins across sources."""
    if kind is ValueType.RESIDENT_ID:
        canonical = _identifier(lambda value: normalize_resident_id(value, today=today), text)
    else:
        canonical = _identifier(_NORMALISE[kind], text)
    return keyed_hash(canonical, hash_key, purpose=kind.value), _MASK[kind](canonical)


def transform_row(
    columns: Mapping[str, Column], values: Mapping[str, str], hash_key: bytes, *, today: date | None = None
) -> TypedRow:
    """Properties of one record; raises :class:`RowProblem` (message prefixed with the property) on the
    first value that cannot be used. Empty optional cells become None, which removes a stored value."""
    return RowTransform(columns, hash_key, today=today)(values)


class _Step(NamedTuple):
    name: str
    from_: str
    required: bool
    personal: ValueType | None = None  # a personal identifier type: stored as ``<name>_hash`` and ``<name>_masked``
    nulls: frozenset[str] = frozenset()  # personal types: cells that mean "no value"
    transform: Callable[[str | None], Any] | None = None  # the cell's transform, for other types
    credit_code: bool = False
    dated: bool = False  # a date or datetime whose plausibility is counted
    future_expected: bool = False  # dates after today are normal here (a follow-up date)


PLAUSIBLE_YEARS = 110
"""A date further back than this many years is counted as implausible (a two-digit year read in the wrong century)."""


class RowTransform:
    """:func:`transform_row` for one source's columns, prepared once; call it once per record.

    A loader makes one per source, so that per cell there is only the work its value needs. It counts,
    per property, dates after today (``future_dates``, unless the column expects them) and dates more
    than :data:`PLAUSIBLE_YEARS` back (``ancient_dates``): the load reports them as warnings.
    """

    def __init__(
        self,
        columns: Mapping[str, Column],
        hash_key: bytes,
        *,
        today: date | None = None,
    ) -> None:
        self.hash_key = hash_key
        self.today = today
        self.future_dates: Counter[str] = Counter()
        self.ancient_dates: Counter[str] = Counter()
        reference = today or date.today()
        self._latest = reference.isoformat()
        earliest = reference.replace(year=reference.year - PLAUSIBLE_YEARS, day=min(reference.day, 28))
        self._earliest = earliest.isoformat()
        self._constants: dict[str, Any] = {}
        self._steps: list[_Step] = []
        for name, column in columns.items():
            from_ = column.from_
            if from_ is None:
                self._constants[name] = _constant_value(name, column, today)
                continue
            if column.type in PERSONAL_TYPES and column.map is None:
                nulls = frozenset(column.null_values or ())
                self._steps.append(_Step(name, from_, column.required, personal=column.type, nulls=nulls))
                continue
            credit_code = column.type is ValueType.CREDIT_CODE
            if credit_code:
                column = column.model_copy(update={"half_width": True})
            self._steps.append(
                _Step(
                    name,
                    from_,
                    column.required,
                    transform=cell_transform(column, today=today),
                    credit_code=credit_code,
                    dated=column.type in (ValueType.DATE, ValueType.DATETIME) and column.map is None,
                    future_expected=column.expect_future,
                )
            )

    @property
    def constants(self) -> dict[str, Any]:
        """The constant columns' values, the same for every row."""
        return dict(self._constants)

    def __call__(self, values: Mapping[str, str]) -> TypedRow:
        properties: dict[str, Any] = {}
        identifiers: dict[ValueType, str] = {}
        for name, from_, required, personal, nulls, transform, credit_code, dated, future_expected in self._steps:
            raw = values.get(from_)
            try:
                if transform is None:
                    assert personal is not None
                    text = to_half_width(raw or "").strip()
                    if not text or text in nulls:
                        if required:
                            raise RowProblem(QuarantineReason.MISSING_VALUE, "required value is empty")
                        properties[f"{name}_hash"] = properties[f"{name}_masked"] = None
                        continue
                    hashed, masked = personal_values(personal, text, self.hash_key, today=self.today)
                    properties[f"{name}_hash"], properties[f"{name}_masked"] = hashed, masked
                    identifiers.setdefault(personal, hashed)
                    continue
                value = transform(raw)
            except RowProblem as problem:
                raise RowProblem(problem.reason, f"{name} (column {from_}): {problem.message}") from None
            properties[name] = value
            if credit_code and value is not None:
                identifiers.setdefault(ValueType.CREDIT_CODE, value)
            if dated and value is not None:
                day = value[:10]
                if day > self._latest and not future_expected:
                    self.future_dates[name] += 1
                elif day < self._earliest:
                    self.ancient_dates[name] += 1
        if self._constants:
            properties.update(self._constants)
        return TypedRow(properties, identifiers)


def _constant_value(name: str, column: Column, today: date | None) -> Any:
    """A constant column's value: text is read as the column's type would read a cell (a date pattern, a map)."""
    from graph.errors import ConfigurationError

    if not isinstance(column.constant, str):
        return column.constant
    try:
        return cell_transform(column, today=today)(column.constant)
    except RowProblem as problem:
        raise ConfigurationError(f"column {name}: the constant cannot be used: {problem.message}") from None
