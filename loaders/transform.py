"""Per-column transforms: raw text in, typed property values out, or a quarantine reason. Pure functions.

Dates are stored as ISO text (``2024-06-15``; datetimes ``2024-06-15T08:30:00``) because neither store
has one date type the other reads back alike. Personal identifiers (resident id, mobile, card number)
never leave this module in clear: a column ``x`` becomes ``x_hash`` (keyed HMAC, joinable across
sources) and ``x_masked`` (for display).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

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


def parse_datetime(text: str, pattern: str | None = None, *, today: date | None = None) -> datetime:
    """Parse a date or datetime; without a pattern ISO 8601 (with a space or T) is expected.

    A two-digit year that would put the date in the future is taken to be in the previous century,
    which is what a birth date ``YYMMDD`` means.
    """
    text = to_half_width(text).strip()
    try:
        if pattern is None:
            return datetime.fromisoformat(text)
        directive = strftime_pattern(pattern)
        parsed = datetime.strptime(text, directive)
    except ValueError:
        raise RowProblem(QuarantineReason.BAD_DATE, "not a date in the expected format") from None
    if "%y" in directive and parsed.date() > (today or date.today()):
        parsed = parsed.replace(year=parsed.year - 100)
    return parsed


def parse_number(text: str, *, integer: bool = False) -> int | float:
    """A number with optional thousands separators, full-width digits, currency marks and (negative) brackets."""
    value = to_half_width(text).strip().replace(",", "").replace("_", "").replace(" ", "")
    value = _CURRENCY.sub("", value)
    negative = value.startswith("(") and value.endswith(")")
    if negative:
        value = value[1:-1]
    try:
        if integer:
            if not re.fullmatch(r"[+-]?\d+", value):
                raise ValueError(value)
            number: int | float = int(value)
        else:
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
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
    parts = [part for part in re.split(f"[{re.escape(separator or ';')}]", to_half_width(text)) if part.strip()]
    return [float(parse_number(part)) for part in parts]


def parse_text_list(text: str, separator: str | None) -> list[str]:
    """Separated texts, each trimmed; empty items dropped."""
    return [part.strip() for part in text.split(separator or "|") if part.strip()]


def transform_value(column: Column, raw: str | None, *, today: date | None = None) -> Any:
    """The typed value of one non-personal cell; None for an empty cell. Raises :class:`RowProblem`."""
    text = raw if raw is not None else ""
    if column.trim:
        text = text.strip()
    if column.half_width:
        text = to_half_width(text)
    if text == "":
        if column.default is not None:
            return column.default
        if column.required:
            raise RowProblem(QuarantineReason.MISSING_VALUE, "required value is empty")
        return None
    if column.map is not None:
        if text not in column.map:
            raise RowProblem(QuarantineReason.UNKNOWN_CODE, "code is not in the column's map")
        return column.map[text]
    kind = column.type
    if kind is ValueType.TEXT:
        return column.prefix + text
    if kind is ValueType.INTEGER:
        return parse_number(text, integer=True)
    if kind is ValueType.NUMBER:
        return float(parse_number(text))
    if kind is ValueType.AMOUNT:
        return round(float(parse_number(text)), 2)
    if kind is ValueType.BOOLEAN:
        return parse_boolean(text)
    if kind is ValueType.DATE:
        return parse_datetime(text, column.format, today=today).date().isoformat()
    if kind is ValueType.DATETIME:
        return parse_datetime(text, column.format, today=today).isoformat()
    if kind is ValueType.FLOAT_LIST:
        return parse_float_list(text, column.format)
    if kind is ValueType.TEXT_LIST:
        return [column.prefix + item for item in parse_text_list(text, column.format)]
    if kind is ValueType.CREDIT_CODE:
        return _identifier(normalize_credit_code, text)
    raise RowProblem(QuarantineReason.MALFORMED_LINE, f"type {kind} needs transform_row")  # personal types


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
    properties: dict[str, Any] = {}
    identifiers: dict[ValueType, str] = {}
    for name, column in columns.items():
        raw = values.get(column.from_)
        try:
            if column.type in PERSONAL_TYPES and column.map is None:
                text = to_half_width(raw or "").strip()
                if not text:
                    if column.required:
                        raise RowProblem(QuarantineReason.MISSING_VALUE, "required value is empty")
                    properties[f"{name}_hash"] = properties[f"{name}_masked"] = None
                    continue
                hashed, masked = personal_values(column.type, text, hash_key, today=today)
                properties[f"{name}_hash"], properties[f"{name}_masked"] = hashed, masked
                identifiers.setdefault(column.type, hashed)
                continue
            if column.type is ValueType.CREDIT_CODE:
                column = column.model_copy(update={"half_width": True})
            value = transform_value(column, raw, today=today)
        except RowProblem as problem:
            raise RowProblem(problem.reason, f"{name} (column {column.from_}): {problem.message}") from None
        properties[name] = value
        if column.type is ValueType.CREDIT_CODE and value is not None:
            identifiers.setdefault(ValueType.CREDIT_CODE, value)
    return TypedRow(properties, identifiers)
