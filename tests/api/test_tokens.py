"""Token lifecycle: expiry, last use, list, revoke, rotate, unknown managers refused, the demo's tokens."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.access import Role
from api.app import create_app
from api.demo import demo_settings, issue_demo_tokens
from api.tokens import ChangeCounter, TokenRegistry
from graph.settings import Settings
from graph.store import GraphStore
from tests.api.conftest import CheckedClient, api_settings_for, auth, bank_nodes, bank_ties
from tests.api.test_cli_stats import run_cli

ME = "/api/v1/me"


def _expire(path: Path, token_id: str) -> None:
    """Move a token's expiry into the past, as time passing would (from another connection, as a CLI would)."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="seconds")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE tokens SET expires_at = ? WHERE id = ?", (past, token_id))
    db.close()


def test_every_token_expires_after_the_configured_days(tmp_path: Path) -> None:
    registry = TokenRegistry(tmp_path / "tokens.sqlite", token_days=30)
    try:
        _, default = registry.issue(Role.MARKETING, name="m")
        _, chosen = registry.issue(Role.MARKETING, name="m", days=7)
    finally:
        registry.close()
    for info, days in ((default, 30), (chosen, 7)):
        lifetime = datetime.fromisoformat(info.expires_at) - datetime.fromisoformat(info.created_at)
        assert lifetime == timedelta(days=days)
    assert Settings(_env_file=None).api_token_days == 90  # type: ignore[call-arg]


def test_expired_and_revoked_tokens_get_401_problems(api_settings: Settings, embedded_bank: GraphStore) -> None:
    registry = TokenRegistry(api_settings.api_tokens_path)
    expiring, expiring_info = registry.issue(Role.ADMIN, name="soon")
    revoked, revoked_info = registry.issue(Role.ADMIN, name="gone")
    with CheckedClient(create_app(api_settings, embedded_bank)) as client:
        client.bodies = []
        for token in (expiring, revoked):
            assert client.get(ME, headers=auth(token)).status_code == 200  # now remembered by the server
        _expire(api_settings.api_tokens_path, expiring_info.id)
        assert registry.revoke(revoked_info.id)
        for token in (expiring, revoked):
            refused = client.get(ME, headers=auth(token))
            assert refused.status_code == 401
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["detail"] == "the bearer token is not valid"
    states = {info.name: info.state for info in registry.list()}
    registry.close()
    assert states == {"soon": "expired", "gone": "revoked"}


def test_last_use_is_recorded(api_settings: Settings, embedded_bank: GraphStore) -> None:
    registry = TokenRegistry(api_settings.api_tokens_path)
    token, info = registry.issue(Role.ADMIN, name="user")
    assert registry.get(info.id).last_used_at is None
    with CheckedClient(create_app(api_settings, embedded_bank)) as client:
        client.bodies = []
        before = datetime.now(UTC).replace(microsecond=0)
        assert client.get(ME, headers=auth(token)).status_code == 200
    used = registry.get(info.id).last_used_at
    registry.close()
    assert used is not None and datetime.fromisoformat(used) >= before


def test_a_registry_from_before_expiry_gains_expiry_and_last_use(tmp_path: Path) -> None:
    path = tmp_path / "tokens.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE tokens (id TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
            " role TEXT NOT NULL, manager_id TEXT, permissions TEXT NOT NULL, created_at TEXT NOT NULL,"
            " revoked_at TEXT)"
        )
        db.execute(
            "INSERT INTO tokens VALUES ('old1', 'ab', 'old', 'marketing', NULL, 'clusters:read',"
            " '2020-01-01T00:00:00+00:00', NULL)"
        )
    db.close()
    registry = TokenRegistry(path)
    (old,) = registry.list()
    registry.close()
    assert old.expires_at == "2020-03-31T00:00:00+00:00" and old.state == "expired"


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "CRM_GRAPH_EMBEDDED_PATH": str(tmp_path / "store.sqlite"),
        "CRM_GRAPH_API_TOKENS_PATH": str(tmp_path / "tokens.sqlite"),
        "CRM_GRAPH_API_TOKEN_DAYS": "30",
        "COLUMNS": "60",
    }


@pytest.fixture
def bank_on_disk(tmp_path: Path) -> dict[str, str]:
    from graph.embedded import EmbeddedStore

    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        store.write(nodes=bank_nodes(), ties=bank_ties())
    return _env(tmp_path)


def test_token_issue_refuses_an_unknown_manager(bank_on_disk: dict[str, str], tmp_path: Path) -> None:
    refused = run_cli("token", "issue", "--role", "manager", "--manager", "m9", env=bank_on_disk)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == "error: no manager 'm9' in the embedded store; check the id (GET /managers)"
    issued = run_cli("token", "issue", "--role", "manager", "--manager", "m1", "--days", "5", env=bank_on_disk)
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith("crmg_") and "valid until" in issued.stderr


def test_token_list_revoke_and_rotate_from_the_command_line(bank_on_disk: dict[str, str], tmp_path: Path) -> None:
    first = run_cli("token", "issue", "--role", "manager", "--manager", "m1", "--name", "zhao", env=bank_on_disk)
    second = run_cli("token", "issue", "--role", "marketing", "--name", "qian", env=bank_on_disk)
    registry = TokenRegistry(tmp_path / "tokens.sqlite")
    zhao, qian = registry.list()
    assert registry.verify(first.stdout.strip()) is not None and registry.verify(second.stdout.strip()) is not None

    listed = run_cli("token", "list", env=bank_on_disk)
    assert listed.returncode == 0, listed.stderr
    assert zhao.id in listed.stdout and qian.id in listed.stdout and "crmg_" not in listed.stdout
    (as_json,) = [
        info
        for info in json.loads(run_cli("token", "list", "--json", env=bank_on_disk).stdout)
        if info["id"] == zhao.id
    ]
    assert as_json["manager_id"] == "m1" and as_json["state"] == "active" and as_json["last_used_at"]  # verified above

    rotated = run_cli("token", "rotate", zhao.id, env=bank_on_disk)
    assert rotated.returncode == 0, rotated.stderr
    replacement = rotated.stdout.strip()
    assert registry.verify(first.stdout.strip()) is None
    principal = registry.verify(replacement)
    assert principal is not None and (principal.name, principal.manager_id) == ("zhao", "m1")

    revoked = run_cli("token", "revoke", qian.id, env=bank_on_disk)
    assert revoked.returncode == 0 and f"token {qian.id} of qian revoked" in revoked.stderr
    assert registry.verify(second.stdout.strip()) is None
    again = run_cli("token", "revoke", qian.id, env=bank_on_disk)
    assert again.returncode == 0 and "already revoked" in again.stderr
    unknown = run_cli("token", "revoke", "nosuchid", env=bank_on_disk)
    assert unknown.returncode == 1 and "no token has the id 'nosuchid'" in unknown.stderr

    active = {
        info["id"]: info["state"] for info in json.loads(run_cli("token", "list", "--json", env=bank_on_disk).stdout)
    }
    every = run_cli("token", "list", "--all", "--json", env=bank_on_disk).stdout
    assert active == {principal.token_id: "active"}
    assert {info["id"]: info["state"] for info in json.loads(every)} == {
        zhao.id: "revoked",
        qian.id: "revoked",
        principal.token_id: "active",
    }
    registry.close()


def test_each_demo_run_leaves_only_its_own_three_tokens(tmp_path: Path, embedded_bank: GraphStore) -> None:
    settings = demo_settings(api_settings_for(tmp_path), tmp_path / "demo")
    first = issue_demo_tokens(settings, embedded_bank)
    second = issue_demo_tokens(settings, embedded_bank)
    registry = TokenRegistry(settings.api_tokens_path)
    try:
        assert all(registry.verify(token) is None for token in (first.manager, first.marketing, first.admin))
        assert all(registry.verify(token) is not None for token in (second.manager, second.marketing, second.admin))
        assert sum(info.state == "active" for info in registry.list()) == 3
    finally:
        registry.close()


def _revoke_in_another_process(path: Path, token_id: str, *, journal_mode: str = "delete") -> None:
    """Revoke a token as `crm-graph token revoke` run elsewhere would: a separate process writing the file."""
    script = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=' + sys.argv[3])\n"
        "db.execute(\"UPDATE tokens SET revoked_at = '2020-01-01T00:00:00+00:00' WHERE id = ?\", (sys.argv[2],))\n"
        "db.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path), token_id, journal_mode], check=True)


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_a_remembered_token_revoked_by_another_process_is_refused_at_once(tmp_path: Path, journal_mode: str) -> None:
    path = tmp_path / "tokens.sqlite"
    registry = TokenRegistry(path)
    try:
        token, info = registry.issue(Role.ADMIN, name="a")
        kept, _ = registry.issue(Role.ADMIN, name="b")
        assert registry.verify(token) is not None and registry.verify(kept) is not None  # remembered, last use written
        _revoke_in_another_process(path, info.id, journal_mode=journal_mode)
        assert registry.verify(token) is None
        assert registry.verify(kept) is not None
    finally:
        registry.close()


def test_a_commit_of_another_connection_is_seen_even_when_ours_follows_it(tmp_path: Path) -> None:
    path = tmp_path / "file.sqlite"
    ours = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        ours.execute("CREATE TABLE t (x INTEGER)")
        changes = ChangeCounter(path, ours)
        ours.execute("INSERT INTO t VALUES (1)")
        changes.absorb_own_commit()
        assert not changes.moved()  # our own commit alone
        other.execute("INSERT INTO t VALUES (2)")
        ours.execute("INSERT INTO t VALUES (3)")
        changes.absorb_own_commit()
        assert changes.moved()  # the other connection's commit is not taken for ours
        assert not changes.moved()
        changes.close()
    finally:
        ours.close()
        other.close()


def test_tokens_issued_in_one_second_are_listed_in_the_order_issued(tmp_path: Path) -> None:
    # created_at has whole seconds: tokens issued within one second once came back in the order of their
    # random ids.
    registry = TokenRegistry(tmp_path / "tokens.sqlite")
    names = [f"rm-{number}" for number in range(12)]
    for name in names:
        registry.issue(Role.MARKETING, name=name)
    listed = registry.list()
    registry.close()
    assert [info.name for info in listed] == names
