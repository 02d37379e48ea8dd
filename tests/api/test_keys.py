"""Keys: serve refuses the development PII key; stub ids and cursors derive from a separate, rotatable secret."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr

from api.app import create_app
from api.cli import check_keys
from graph.errors import ConfigurationError
from graph.settings import DEVELOPMENT_PII_KEY, Settings
from graph.store import GraphStore
from tests.api.conftest import OWN_BOOK_NAMES, UNMASK, CheckedClient, api_settings_for, auth, issue_tokens
from tests.api.test_cli_stats import run_cli
from tests.ports import free_port

V1 = "/api/v1"
# Keys and cursors are the API's own business; the store behind it does not matter, so the embedded one serves.
REPOSITORY = Path(__file__).resolve().parents[2]
STRONG = secrets.token_urlsafe(48)
SEARCH = {"q": "王", "page_size": "1", **UNMASK}  # two customers by name: a first page with a cursor


@pytest.mark.parametrize(
    ("pii_key", "expected"),
    [(DEVELOPMENT_PII_KEY, "is the public development key"), ("short-secret", "shorter than 32 bytes")],
)
def test_serve_refuses_a_weak_pii_key_in_one_line(tmp_path: Path, pii_key: str, expected: str) -> None:
    result = run_cli(
        "serve",
        "--port",
        "1",  # never reached: the refusal comes first
        env={
            "CRM_GRAPH_PII_HASH_KEY": pii_key,
            "CRM_GRAPH_EMBEDDED_PATH": str(tmp_path / "store.sqlite"),
            "COLUMNS": "60",
        },
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and "--insecure-dev-key" in lines[0] and "token_urlsafe" in lines[0]
    assert "Traceback" not in result.stderr and not (tmp_path / "store.sqlite").exists()


def test_insecure_dev_key_serves_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CRM_GRAPH_EMBEDDED_PATH": str(tmp_path / "store.sqlite"),
        "CRM_GRAPH_API_TOKENS_PATH": str(tmp_path / "tokens.sqlite"),
        "CRM_GRAPH_API_AUDIT_PATH": str(tmp_path / "audit.sqlite"),
        "CRM_GRAPH_PII_HASH_KEY": DEVELOPMENT_PII_KEY,
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--insecure-dev-key"]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        warning = server.stderr.readline()
        assert warning.startswith("warning: CRM_GRAPH_PII_HASH_KEY is the public development key; serving anyway")
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health").json() == {"status": "ok"}
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)


def test_serve_refuses_a_short_api_secret(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        env={"CRM_GRAPH_PII_HASH_KEY": STRONG, "CRM_GRAPH_API_SECRET_KEY": "too-short", "COLUMNS": "60"},
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "CRM_GRAPH_API_SECRET_KEY is shorter than 32 bytes" in result.stderr


def test_key_checks_pass_for_strong_keys_and_for_the_demo_flag() -> None:
    strong = Settings(_env_file=None, pii_hash_key=SecretStr(STRONG))  # type: ignore[call-arg]
    check_keys(strong, allow_dev_pii_key=False)
    development = Settings(_env_file=None)  # type: ignore[call-arg]
    check_keys(development, allow_dev_pii_key=True)
    with pytest.raises(ConfigurationError, match="development key"):
        check_keys(development, allow_dev_pii_key=False)
    same = strong.model_copy(update={"api_secret_key": SecretStr(STRONG)})
    with pytest.raises(ConfigurationError, match="must differ"):
        check_keys(same, allow_dev_pii_key=False)


def test_docker_compose_requires_both_keys() -> None:
    compose = yaml.safe_load((REPOSITORY / "docker-compose.yml").read_text(encoding="utf-8"))
    environment = compose["services"]["api"]["environment"]
    for name in ("CRM_GRAPH_PII_HASH_KEY", "CRM_GRAPH_API_SECRET_KEY"):
        assert environment[name].startswith("${" + name + ":?"), environment[name]


def _stub_ids_and_cursor(settings: Settings, store: GraphStore, tokens: dict[str, str]) -> tuple[set[str], str]:
    with CheckedClient(create_app(settings, store)) as client:
        client.bodies = []
        client.names_in_clear = {tokens["manager"]: OWN_BOOK_NAMES}
        network = client.get(f"{V1}/customers/p1/network", headers=auth(tokens["manager"])).json()
        first = client.get(f"{V1}/customers", params=SEARCH, headers=auth(tokens["admin_unmask"]))
    stubs = {item["stub"]["opaque_id"] for item in network["related"] if item["stub"]}
    assert stubs and first.json()["next_cursor"]
    return stubs, first.json()["next_cursor"]


def test_stub_ids_and_cursors_follow_the_api_secret_not_the_pii_key(tmp_path: Path, embedded_bank: GraphStore) -> None:
    secret, rotated = secrets.token_urlsafe(40), secrets.token_urlsafe(40)
    settings = api_settings_for(tmp_path, api_secret_key=SecretStr(secret))
    tokens = issue_tokens(settings)
    stubs, cursor = _stub_ids_and_cursor(settings, embedded_bank, tokens)
    other_pii_key = settings.model_copy(update={"pii_hash_key": SecretStr(STRONG)})
    assert _stub_ids_and_cursor(other_pii_key, embedded_bank, tokens)[0] == stubs

    after_rotation = settings.model_copy(update={"api_secret_key": SecretStr(rotated)})
    assert _stub_ids_and_cursor(after_rotation, embedded_bank, tokens)[0].isdisjoint(stubs)
    with CheckedClient(create_app(after_rotation, embedded_bank)) as client:
        client.bodies = []
        stale = client.get(f"{V1}/customers", params={**SEARCH, "cursor": cursor}, headers=auth(tokens["admin_unmask"]))
    assert stale.status_code == 422, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert stale.json()["detail"] == "cursor is not valid for this query"


def test_without_a_configured_secret_each_server_start_draws_its_own(tmp_path: Path, embedded_bank: GraphStore) -> None:
    settings = api_settings_for(tmp_path)
    tokens = issue_tokens(settings)
    assert _stub_ids_and_cursor(settings, embedded_bank, tokens)[0].isdisjoint(
        _stub_ids_and_cursor(settings, embedded_bank, tokens)[0]
    )
