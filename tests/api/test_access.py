"""Books, stubs, masking and unmasking (the matrix of every route x every token is in test_permission_matrix)."""

from __future__ import annotations

import pytest

from api.access import GRANTABLE, ROLE_PERMISSIONS, Permission, Role, permissions_for
from tests.api.conftest import UNMASK, CheckedClient, auth

V1 = "/api/v1"
OWN, OTHER = "p1", "p2"  # manager m1 manages p1; m2 manages p2


def test_a_manager_searching_sees_only_his_book(client: CheckedClient, tokens: dict[str, str]) -> None:
    found = client.get(f"{V1}/customers", params={"q": "p1"}, headers=auth(tokens["manager"])).json()
    assert [item["id"] for item in found["items"]] == ["p1"] and found["total"] == 1
    other = client.get(f"{V1}/customers", params={"q": "p2"}, headers=auth(tokens["manager"])).json()
    assert other["items"] == [] and other["total"] == 0


def test_customers_outside_the_book_are_masked_stubs(client: CheckedClient, tokens: dict[str, str]) -> None:
    response = client.get(f"{V1}/customers/{OWN}/network", headers=auth(tokens["manager"]))
    assert response.status_code == 200
    related = response.json()["related"]
    stubs = [item["stub"] for item in related if item["stub"]]
    visible = [item["customer"]["id"] for item in related if item["customer"]]
    assert "p3" in visible and "c1" in visible
    assert stubs and all(stub["opaque_id"].startswith("x-") for stub in stubs)
    assert {stub["name"] for stub in stubs} >= {"李*"}
    assert '"p2"' not in response.text and "balances" not in response.text and "phone" not in str(stubs)


def test_unmasking_needs_permission_and_reason(client: CheckedClient, tokens: dict[str, str]) -> None:
    path = f"{V1}/customers/{OWN}"
    masked = client.get(path, headers=auth(tokens["admin_unmask"])).json()["customer"]
    assert masked["name"] == "王*" and masked["masked"] is True and masked["address"] is None
    assert masked["phone_masked"] == "138****5678"
    assert client.get(path, params={"unmask": "true"}, headers=auth(tokens["admin_unmask"])).status_code == 422
    refused = client.get(path, params=UNMASK, headers=auth(tokens["admin"]))
    assert refused.status_code == 403
    shown = client.get(path, params=UNMASK, headers=auth(tokens["risk_unmask"]))
    assert shown.status_code == 200
    customer = shown.json()["customer"]
    assert customer["name"] == "王伟" and customer["masked"] is False
    assert "resident_id_hash" not in shown.text and "phone_hash" not in shown.text


def test_role_matrix_is_consistent() -> None:
    for role in Role:
        assert Permission.UNMASK not in ROLE_PERMISSIONS[role]
    assert {role for role in Role if Permission.UNMASK in GRANTABLE[role]} == {Role.ADMIN, Role.RISK}
    with pytest.raises(ValueError):
        permissions_for(Role.MARKETING, {Permission.UNMASK})
    assert permissions_for(Role.RISK, {Permission.UNMASK}) >= {Permission.UNMASK, Permission.CUSTOMERS_ALL}
