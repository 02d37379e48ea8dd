"""Free text: identifiers masked in interaction summaries, refused in unmasking reasons."""

from __future__ import annotations

import pytest

from graph.model import NodeLabel
from graph.store import GraphStore
from loaders.free_text import IdentifierKind, identifier_kinds, mask_identifiers
from tests.api.conftest import UNMASK, CheckedClient, auth

V1 = "/api/v1"
PHONE = "13812345678"
RESIDENT_ID = "11010519491231002X"  # the GB 11643 example number
CARD = "6222021234567894"  # Luhn-valid
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

P, R, C, N = IdentifierKind.PHONE, IdentifierKind.RESIDENT_ID, IdentifierKind.CARD, IdentifierKind.NUMBER


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        (f"客户手机{PHONE}，已回电", "客户手机138****5678，已回电", [P]),
        ("call 138 1234 5678 later", "call 138****5678 later", [P]),
        ("+86 138-1234-5678", "+86138****5678", [P]),
        ("手机 １３８ １２３４ ５６７８", "手机 138****5678", [P]),
        (f"身份证{RESIDENT_ID}", "身份证110105***********X", [R]),
        ("ID 110105 19491231 002x", "ID 110105***********X", [R]),
        (f"证件 {RESIDENT_ID.translate(FULL_WIDTH)}", "证件 110105***********X", [R]),
        ("卡号 6222 0212 3456 7894 已冻结", "卡号 ************7894 已冻结", [C]),
        (f"{PHONE}/{CARD}", f"138****5678/************{CARD[-4:]}", [P, C]),
        ("reference 123456789012345678901", "reference *****************8901", [N]),
        # Any 11 digits or more: a long ticket number is masked too, a landline with its area code must be.
        ("工单号 20240301-0042", "工单号 ********0042", [N]),
        ("座机 0571-8888 6666", "座机 ********6666", [N]),
    ],
)
def test_identifiers_in_free_text_are_masked(text: str, masked: str, kinds: list[IdentifierKind]) -> None:
    result = mask_identifiers(text)
    assert (result.text, result.kinds) == (masked, kinds)
    assert identifier_kinds(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "讨论定期存款到期续存，客户有兴趣",
        "meeting 2025-03-01 at 10:30, amount 1,500,000.00 CNY",
        "case 2024 0001 follow-up in 3 days",
        "工单号 2024-0301-04",
        "",
    ],
)
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    assert mask_identifiers(text).text == text and identifier_kinds(text) == []


def test_a_logged_interaction_is_stored_and_echoed_masked(
    client: CheckedClient, tokens: dict[str, str], bank: GraphStore
) -> None:
    summary = f"客户换了新手机 138 1234 5678，身份证{RESIDENT_ID}，卡 {CARD.translate(FULL_WIDTH)}"
    response = client.post(
        f"{V1}/customers/p1/interactions",
        json={"channel": "phone", "summary": summary, "outcome": "follow_up"},
        headers=auth(tokens["manager"]),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    expected = "客户换了新手机 138****5678，身份证110105***********X，卡 ************7894"
    assert body["summary"] == expected and body["masked"] == ["phone", "resident_id", "card"]
    stored = bank.get_node(NodeLabel.INTERACTION, body["id"])
    assert stored is not None and stored.properties["summary"] == expected

    plain = client.post(
        f"{V1}/customers/p1/interactions",
        json={"channel": "visit", "summary": "讨论定期存款到期续存"},
        headers=auth(tokens["manager"]),
    )
    assert plain.json()["masked"] == [] and plain.json()["summary"] == "讨论定期存款到期续存"


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"unmask": "true", "reason": "fraud case 42 opened by risk"}, "needs a purpose, one of: complaint"),
        ({**UNMASK, "purpose": "curiosity"}, "needs a purpose"),
        ({**UNMASK, "reason": "     "}, "reason of at least 12 characters"),
        ({**UNMASK, "reason": "case  4  2 ok"}, "reason of at least 12 characters"),
        ({**UNMASK, "reason": "called back on 138 1234 5678 today"}, "found: phone"),
        ({**UNMASK, "reason": "客户 １３８１２３４５６７８ 身份证 110105 19491231 002X"}, "found: phone, resident id"),
        ({"reason": "about 6222-0212-3456-7894"}, "found: card"),
    ],
)
def test_unmasking_reasons_are_checked(
    client: CheckedClient, tokens: dict[str, str], params: dict[str, str], detail: str
) -> None:
    response = client.get(f"{V1}/customers/p1", params=params, headers=auth(tokens["risk_unmask"]))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]
    assert "1234" not in response.text and "6222" not in response.text


def test_an_accepted_reason_is_audited_with_its_purpose(client: CheckedClient, tokens: dict[str, str]) -> None:
    params = {**UNMASK, "purpose": "complaint", "reason": "  complaint   ticket   C-77 about a transfer "}
    assert client.get(f"{V1}/customers/p1", params=params, headers=auth(tokens["risk_unmask"])).status_code == 200
    records = client.get(f"{V1}/audit", params={"customer_id": "p1"}, headers=auth(tokens["admin"])).json()["items"]
    assert [record["purpose"] for record in records] == ["complaint: complaint ticket C-77 about a transfer"]
