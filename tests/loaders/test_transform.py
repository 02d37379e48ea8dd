"""Column transforms: pure, each failure a quarantine reason, personal identifiers never in clear."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from loaders.identifiers import keyed_hash, resident_id_check_digit
from loaders.mapping import Column
from loaders.quarantine import QuarantineReason
from loaders.transform import (
    RowProblem,
    datetime_parser,
    parse_number,
    strftime_pattern,
    transform_row,
    transform_value,
)

KEY = b"test-key"
TODAY = date(2024, 6, 15)
RID17 = "11010519900307002"
RID = RID17 + resident_id_check_digit(RID17)


def column(**spec: object) -> Column:
    return Column.model_validate({"from": "c", **spec})


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        ({}, "  王 五 ", "王 五"),
        ({"half_width": True}, "ＡＢＣ１２３", "ABC123"),
        ({"type": "integer"}, "1,234", 1234),
        ({"type": "integer"}, "１２３", 123),
        ({"type": "number"}, "1,234.5", 1234.5),
        ({"type": "amount"}, "¥1,234.567", 1234.57),
        ({"type": "amount"}, "(1,000.00)", -1000.0),
        ({"type": "boolean"}, "是", True),
        ({"type": "boolean"}, "false", False),
        ({"type": "date", "format": "YYMMDD"}, "900307", "1990-03-07"),
        ({"type": "date", "format": "YYMMDD"}, "200307", "2020-03-07"),
        ({"type": "date", "format": "YYMMDD"}, "300307", "1930-03-07"),
        ({"type": "date", "format": "YYYYMMDD"}, "19900307", "1990-03-07"),
        ({"type": "date"}, "1991-07-23 00:00:00", "1991-07-23"),
        (
            {"type": "datetime", "format": "%Y-%m-%d %H:%M:%S.%f"},
            "2020-01-01 11:00:58.996",
            "2020-01-01T11:00:58.996000",
        ),
        ({"type": "datetime", "format": "YYYY/MM/DD HH:mm:ss"}, "2020/01/01 11:00:58", "2020-01-01T11:00:58"),
        ({"type": "float_list"}, "1.0;2,500.5;", [1.0, 2500.5]),
        ({"type": "float_list", "format": "|"}, "1|2", [1.0, 2.0]),
        ({"type": "text_list"}, "retail| private||", ["retail", "private"]),
        ({"type": "text_list", "format": ";"}, "a;b|c", ["a", "b|c"]),
        ({"type": "text_list", "prefix": "product:"}, "L602|L603", ["product:L602", "product:L603"]),
        ({"type": "text", "prefix": "product:"}, "L602", "product:L602"),
        ({"map": {"01": "retail", "02": "private"}}, "02", "private"),
        ({"type": "credit_code"}, "９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
        ({}, "", None),
        ({"default": "n/a"}, " ", "n/a"),
    ],
)
def test_transform_value(spec: dict[str, object], raw: str, expected: object) -> None:
    assert transform_value(column(**spec), raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("spec", "raw", "reason"),
    [
        ({"type": "integer"}, "12a", QuarantineReason.BAD_NUMBER),
        ({"type": "integer"}, "1.5", QuarantineReason.BAD_NUMBER),
        ({"type": "number"}, "nan", QuarantineReason.BAD_NUMBER),
        ({"type": "date", "format": "YYYYMMDD"}, "19900230", QuarantineReason.BAD_DATE),
        ({"type": "date"}, "yesterday", QuarantineReason.BAD_DATE),
        ({"type": "boolean"}, "maybe", QuarantineReason.BAD_BOOLEAN),
        ({"map": {"01": "retail"}}, "99", QuarantineReason.UNKNOWN_CODE),
        ({"required": True}, "  ", QuarantineReason.MISSING_VALUE),
        ({"type": "credit_code"}, "91350100M000100Y44", QuarantineReason.BAD_CHECK_DIGIT),
    ],
)
def test_transform_value_failures_carry_a_reason(spec: dict[str, object], raw: str, reason: QuarantineReason) -> None:
    with pytest.raises(RowProblem) as caught:
        transform_value(column(**spec), raw, today=TODAY)
    assert caught.value.reason is reason
    assert raw.strip() == "" or raw not in caught.value.message


def test_strftime_pattern_tokens() -> None:
    assert strftime_pattern("YYYYMMDD") == "%Y%m%d"
    assert strftime_pattern("YY-MM-DD HH:mm:ss.SSS") == "%y-%m-%d %H:%M:%S.%f"
    assert strftime_pattern("%d/%m/%Y") == "%d/%m/%Y"


def test_parse_number_keeps_large_integers_exact() -> None:
    assert parse_number("4614219293217785425", integer=True) == 4614219293217785425


def test_personal_identifiers_are_hashed_and_masked_never_clear() -> None:
    columns = {
        "resident_id": column(type="resident_id"),
        "phone": Column.model_validate({"from": "p", "type": "mobile"}),
        "card": Column.model_validate({"from": "k", "type": "card_number"}),
    }
    row = transform_row(
        columns, {"c": RID.lower(), "p": "+86 138-1234-5678", "k": "6222 0212 3456 7894"}, KEY, today=TODAY
    )
    assert row.properties == {
        "resident_id_hash": keyed_hash(RID, KEY, purpose="resident_id"),
        "resident_id_masked": "110105***********" + RID[-1:],
        "phone_hash": keyed_hash("13812345678", KEY, purpose="mobile"),
        "phone_masked": "138****5678",
        "card_hash": keyed_hash("6222021234567894", KEY, purpose="card_number"),
        "card_masked": "622202******7894",
    }
    assert RID not in str(row) and "13812345678" not in str(row)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (RID[:-1] + ("0" if RID[-1] != "0" else "1"), QuarantineReason.BAD_CHECK_DIGIT),
        (RID[:10], QuarantineReason.BAD_LENGTH),
        ("99" + RID[2:], QuarantineReason.BAD_REGION),
    ],
)
def test_bad_resident_ids_are_quarantine_reasons_without_the_value(raw: str, reason: QuarantineReason) -> None:
    with pytest.raises(RowProblem) as caught:
        transform_row({"resident_id": column(type="resident_id")}, {"c": raw}, KEY, today=TODAY)
    assert caught.value.reason is reason
    assert raw not in caught.value.message and "resident_id" in caught.value.message


def test_empty_personal_value_removes_stored_one_unless_required() -> None:
    row = transform_row({"phone": column(type="mobile")}, {"c": ""}, KEY)
    assert row.properties == {"phone_hash": None, "phone_masked": None}
    with pytest.raises(RowProblem) as caught:
        transform_row({"phone": column(type="mobile", required=True)}, {"c": ""}, KEY)
    assert caught.value.reason is QuarantineReason.MISSING_VALUE


def test_prefix_is_for_text_columns_only() -> None:
    with pytest.raises(ValueError, match="prefix"):
        Column.model_validate({"from": "x", "type": "integer", "prefix": "p:"})


@pytest.mark.parametrize("pattern", ["%Y%m%d", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"])
def test_fixed_width_dates_parse_as_strptime_does(pattern: str) -> None:
    # The common patterns skip strptime for texts of exactly their width; results and refusals must not change.
    chooser = random.Random(pattern)
    texts = ["2021-02-29", "20210229", "2020-02-29 23:59:59", "2021-13-01", "20211301", "0000-01-01", "2021-1-5"]
    for _ in range(2_000):
        moment = datetime(1900, 1, 1) + timedelta(seconds=chooser.randrange(200 * 366 * 86_400))
        text = moment.strftime(pattern)
        texts += [text, text.replace("0", "9", 1), text[:-1] + chooser.choice("0123456789x ")]
    fast = datetime_parser(pattern)
    for text in texts:
        try:
            expected: datetime | None = datetime.strptime(text.strip(), pattern)  # the parser trims
        except ValueError:
            expected = None
        try:
            parsed: datetime | None = fast(text)
        except RowProblem as problem:
            assert problem.reason is QuarantineReason.BAD_DATE
            parsed = None
        assert parsed == expected, text
