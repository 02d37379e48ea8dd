"""API fixtures: a small bank graph on both backends, tokens for every role, and a client that checks
every response body for personal identifiers in clear."""

from __future__ import annotations

import re
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx is what this project installs.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.access import Permission, Role
from api.app import create_app
from api.serving import server_config
from api.tokens import TokenRegistry
from graph.settings import Settings
from graph.store import GraphStore
from tests.ports import free_port

# Values the store holds that must never leave the API masked (full names, address, hashes, birth date).
FULL_NAMES = ("王伟", "李娜", "王小明", "陈静")
HASHES = ("9f86d081884c7d659a2feaa0c55ad015", "5e884898da28047151d0e56f8dc62927")
MASKED_ONLY = ("杭州市西湖区文三路1号", "1980-05-01", *FULL_NAMES)

# Digits after a decimal point are a number's fraction (metrics, scores), and digits among letters are part of a
# hex token (token ids, opaque stub ids, hashes): neither is an identifier. A 32-character hex hash holds a
# Luhn-valid run of 13 digits often enough to fail a suite now and then.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z.])")
_PHONE = re.compile(r"(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z.])")
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z.])\d{13,19}(?![0-9A-Za-z.])")


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def clear_identifiers(text: str) -> list[str]:
    """Resident ids, mobile numbers and Luhn-valid card numbers appearing in clear in ``text``."""
    found = _RESIDENT_ID.findall(text) + _PHONE.findall(text)
    found += [run for run in _DIGIT_RUN.findall(text) if luhn_valid(run)]
    return found


OWN_BOOK_NAMES = frozenset({"王伟", "王小明"})
"""The names of the persons in manager m1's book: in clear for his token, masked for every other caller."""


class CheckedClient(TestClient):
    """A TestClient that fails the test when any response body carries an identifier in clear, or a personal
    field the caller may not see in clear (``names_in_clear``: per bearer token, the names it may see)."""

    bodies: list[str]
    names_in_clear: dict[str, frozenset[str]]

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        text = response.text
        self.bodies.append(text)
        leaked = clear_identifiers(text)
        assert not leaked, f"identifiers in clear in a response of {args[:2]}: {leaked}"
        for secret in HASHES:
            assert secret not in text, f"a stored hash in a response of {args[:2]}"
        if "unmask" not in str(kwargs.get("params") or "") + str(args[1:2]):
            bearer = httpx.Headers(kwargs.get("headers") or {}).get("Authorization", "").removeprefix("Bearer ")
            allowed = getattr(self, "names_in_clear", {}).get(bearer, frozenset())
            for secret in MASKED_ONLY:
                assert secret in allowed or secret not in text, f"personal data unmasked in a response of {args[:2]}"
        return response


def bank_nodes() -> list[dict[str, Any]]:
    churn = {
        "churn_risk": 0.42,
        "churn_risk_own": 0.3,
        "churn_risk_network": 0.12,
        "churn_contributors": ["p2"],
        "churn_contributor_ties": ["SPOUSE_OF"],
        "churn_contributions": [1.0],
        "analytics_at": "2025-03-01T02:00:00",
        "cluster_id": "k1",
        "pagerank": 0.5,
    }
    return [
        {
            "label": "Person",
            "id": "p1",
            "properties": {
                "name": "王伟",
                "birth_date": "1980-05-01",
                "gender": "M",
                "city": "杭州",
                "address": "杭州市西湖区文三路1号",
                "segment": "retail",
                "status": "active",
                "consent_marketing": True,
                "phone_masked": "138****5678",
                "phone_hash": "9f86d081884c7d659a2feaa0c55ad015",
                "resident_id_masked": "330106********123X",
                "resident_id_hash": "5e884898da28047151d0e56f8dc62927",
                "tier": "gold",
                "aum": 500000.0,
                **churn,
            },
        },
        {
            "label": "Person",
            "id": "p2",
            "properties": {"name": "李娜", "segment": "retail", "consent_marketing": True, "status": "active", **churn}
            | {"churn_contributors": ["p1"]},
        },
        {
            "label": "Person",
            "id": "p3",
            "properties": {"name": "王小明", "segment": "retail", "consent_marketing": False, "status": "active"},
        },
        {
            "label": "Person",
            "id": "p4",
            "properties": {"name": "陈静", "segment": "retail", "consent_marketing": True, "status": "active"},
        },
        {
            "label": "Company",
            "id": "c1",
            "properties": {"name": "杭州云帆科技有限公司", "segment": "sme", "credit_code": "91330106MA27XXXX1X"},
        },
        {"label": "Account", "id": "a1", "properties": {"balances": [100.0, 300.0], "status": "open"}},
        {"label": "Account", "id": "a2", "properties": {"balances": [50.0], "status": "open"}},
        {"label": "Product", "id": "FUND01", "properties": {"name": "稳健理财", "category": "investment"}},
        {"label": "Product", "id": "TD01", "properties": {"name": "定期存款", "category": "deposit"}},
        {"label": "Manager", "id": "m1", "properties": {"name": "赵经理", "employee_no": "E1"}},
        {"label": "Manager", "id": "m2", "properties": {"name": "钱经理", "employee_no": "E2"}},
        {"label": "Branch", "id": "b1", "properties": {"name": "西湖支行"}},
        {
            "label": "Cluster",
            "id": "k1",
            "properties": {
                "rank": 1,
                "size": 2,
                "total_aum": 500000.0,
                "central_members": ["p1", "p2"],
                "drawn_members": ["p1", "p2"],
                "penetration_products": ["FUND01", "TD01"],
                "penetration_shares": [0.5, 0.5],
                "referrals_per_member": 0.0,
                "referred_active_share": 0.0,
                "analytics_at": "2025-03-01T02:00:00",
            },
        },
    ]


def bank_ties() -> list[dict[str, Any]]:
    return [
        {"type": "SPOUSE_OF", "source": "p1", "target": "p2"},
        {"type": "PARENT_OF", "source": "p1", "target": "p3"},
        {"type": "SIBLING_OF", "source": "p2", "target": "p4"},
        {"type": "SHAREHOLDER_OF", "source": "p1", "target": "c1", "properties": {"ratio": 0.6}},
        {"type": "GUARANTEES", "source": "c1", "target": "p2", "properties": {"amount": 1000.0}},
        {"type": "GUARANTEES", "source": "p2", "target": "c1", "properties": {"amount": 500.0}},
        {"type": "OWNS", "source": "p1", "target": "a1", "properties": {"role": "owner"}},
        {"type": "OWNS", "source": "p2", "target": "a2", "properties": {"role": "owner"}},
        {"type": "OF_PRODUCT", "source": "a1", "target": "FUND01"},
        {"type": "OF_PRODUCT", "source": "a2", "target": "TD01"},
        {"type": "MANAGES", "source": "m1", "target": "p1"},
        {"type": "MANAGES", "source": "m1", "target": "p3"},
        {"type": "MANAGES", "source": "m1", "target": "c1"},
        {"type": "MANAGES", "source": "m2", "target": "p2"},
        {"type": "MANAGES", "source": "m2", "target": "p4"},
        {"type": "WORKS_AT", "source": "m1", "target": "b1"},
        {"type": "WORKS_AT", "source": "m2", "target": "b1"},
    ]


def api_settings_for(directory: Path, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        embedded_path=directory / "store.sqlite",
        api_tokens_path=directory / "tokens.sqlite",
        api_audit_path=directory / "audit.sqlite",
        model_card_path=directory / "model-card.json",
        **overrides,
    )


TOKEN_SPECS: dict[str, dict[str, Any]] = {
    "manager": {"role": Role.MANAGER, "manager_id": "m1"},
    "marketing": {"role": Role.MARKETING},
    "risk": {"role": Role.RISK},
    "risk_unmask": {"role": Role.RISK, "grants": {Permission.UNMASK}},
    "admin": {"role": Role.ADMIN},
    "admin_unmask": {"role": Role.ADMIN, "grants": {Permission.UNMASK}},
    "service_none": {"role": Role.SERVICE},
    "service_reader": {"role": Role.SERVICE, "grants": {Permission.CUSTOMERS_ALL, Permission.NETWORK}},
}


def issue_tokens(settings: Settings) -> dict[str, str]:
    registry = TokenRegistry(settings.api_tokens_path)
    try:
        return {
            name: registry.issue(
                spec["role"], name=name, manager_id=spec.get("manager_id"), grants=spec.get("grants", ())
            )[0]
            for name, spec in TOKEN_SPECS.items()
        }
    finally:
        registry.close()


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return api_settings_for(tmp_path)


@pytest.fixture
def bank(store: GraphStore) -> GraphStore:
    store.write(nodes=bank_nodes(), ties=bank_ties())
    return store


@pytest.fixture
def embedded_bank(embedded_store: GraphStore) -> GraphStore:
    """The bank on the embedded store only, for tests of the API's own rules (keys, tokens, masks)."""
    embedded_store.write(nodes=bank_nodes(), ties=bank_ties())
    return embedded_store


@pytest.fixture
def tokens(api_settings: Settings) -> dict[str, str]:
    return issue_tokens(api_settings)


@pytest.fixture
def client(api_settings: Settings, bank: GraphStore, tokens: dict[str, str]) -> Iterator[CheckedClient]:
    with CheckedClient(create_app(api_settings, bank)) as checked:
        checked.bodies = []
        checked.names_in_clear = {tokens["manager"]: OWN_BOOK_NAMES}
        yield checked


UNMASK = {"unmask": "true", "purpose": "fraud_investigation", "reason": "fraud case 42 opened by risk"}
"""Query parameters of an acceptable unmasking request."""


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def served_by_uvicorn(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn on a free loopback port, in a thread, while the context lasts: its URL."""
    port = free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
