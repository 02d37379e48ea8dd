"""The audit trail records what a response showed: customers in full, customers as stubs, refused reads;
and ``GET /audit?customer_id=`` answers a data-subject access request from it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from api.access import Principal, Role
from api.audit import AuditLog
from tests.api.conftest import CheckedClient, auth

V1 = "/api/v1"


def _audit(client: CheckedClient, tokens: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{V1}/audit", params=params, headers=auth(tokens["admin"]))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_stubs_a_response_showed_are_recorded_with_the_read(client: CheckedClient, tokens: dict[str, str]) -> None:
    client.get(f"{V1}/customers/p1/network", params={"depth": 2}, headers=auth(tokens["manager"]))
    client.get(f"{V1}/clusters", headers=auth(tokens["marketing"]))
    network, clusters = _audit(client, tokens)
    assert network["endpoint"] == "get_network" and network["customer_ids"] == ["c1", "p1", "p3"]
    assert network["stub_ids"] == ["p2", "p4"] and network["status"] == 200
    assert clusters["endpoint"] == "list_clusters" and clusters["customer_ids"] == []
    assert clusters["stub_ids"] == ["p1", "p2"]


def test_refused_reads_are_recorded(client: CheckedClient, tokens: dict[str, str]) -> None:
    assert client.get(f"{V1}/customers/p2", headers=auth(tokens["manager"])).status_code == 404
    assert client.get(f"{V1}/customers/p1", headers=auth(tokens["marketing"])).status_code == 403
    assert client.get(f"{V1}/managers/m2/portfolio", headers=auth(tokens["manager"])).status_code == 403
    assert client.get(f"{V1}/customers/p1", headers={"Authorization": "Bearer crmg_nope"}).status_code == 401
    records = [(r["actor"], r["endpoint"], r["customer_ids"], r["status"]) for r in _audit(client, tokens)]
    assert records == [
        ("manager", "get_customer", ["p2"], 404),
        ("marketing", "get_customer", ["p1"], 403),
        ("manager", "get_portfolio", [], 403),
    ]


def test_a_data_subject_access_request_finds_every_read(client: CheckedClient, tokens: dict[str, str]) -> None:
    """p2 (m2's book) is read in full by risk, shown as a stub to m1 and to marketing, refused to m1."""
    client.get(f"{V1}/customers/p2", headers=auth(tokens["risk"]))
    client.get(f"{V1}/customers/p1/household", headers=auth(tokens["manager"]))  # p2 is p1's spouse: a stub
    client.get(f"{V1}/customers/p1/churn-risk", headers=auth(tokens["manager"]))  # p2 contributes: a stub
    client.get(f"{V1}/customers/p2", headers=auth(tokens["manager"]))  # refused
    client.get(f"{V1}/customers/p3/network", headers=auth(tokens["manager"]))  # one tie from p3 does not reach p2
    client.get(f"{V1}/products/FUND01/prospects", headers=auth(tokens["marketing"]))  # p2 as a stub
    found = [(r["actor"], r["endpoint"], r["status"]) for r in _audit(client, tokens, customer_id="p2")]
    assert found == [
        ("risk", "get_customer", 200),
        ("manager", "get_household", 200),
        ("manager", "get_churn_risk", 200),
        ("manager", "get_customer", 404),
        ("marketing", "list_prospects", 200),
    ]


def test_a_log_written_before_stubs_and_statuses_were_recorded_opens(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, token_id TEXT NOT NULL,"
            " actor TEXT NOT NULL, role TEXT NOT NULL, manager_id TEXT, endpoint TEXT NOT NULL,"
            " customer_ids TEXT NOT NULL, purpose TEXT, unmasked INTEGER NOT NULL)"
        )
        db.execute("CREATE TABLE audit_customer (seq INTEGER NOT NULL, customer_id TEXT NOT NULL)")
        db.execute(
            "INSERT INTO audit VALUES (1, '2025-01-01T00:00:00+00:00', 't', 'old', 'risk', NULL, 'get_customer',"
            " '[\"p1\"]', NULL, 0)"
        )
        db.execute("INSERT INTO audit_customer VALUES (1, 'p1')")
    db.close()
    log = AuditLog(path)
    try:
        log.append(Principal("t2", "new", Role.RISK, None), "get_network", ["p3"], stub_ids=["p1"])
        old, new = log.query(customer_id="p1")
        assert (old.actor, old.status, old.stub_ids, old.search_term_hash) == ("old", 200, [], None)
        assert (new.actor, new.customer_ids, new.stub_ids) == ("new", ["p3"], ["p1"])
    finally:
        log.close()


def test_records_awaited_together_share_one_commit_and_none_is_acknowledged_before_it_is_on_disk(
    tmp_path: Path,
) -> None:
    """While another connection holds the log's write lock, no awaiting read is acknowledged; once it lets
    go, the 64 records queued meanwhile are committed in at most two transactions (the writer may have
    taken the first before the others arrived), and each acknowledged record is read back from the file."""
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path)
    reader = Principal("t1", "risk", Role.RISK, None)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:

        async def read_all() -> list[int]:
            blocker.execute("BEGIN IMMEDIATE")
            waiting = [asyncio.ensure_future(log.record(reader, "get_customer", [f"p{i}"])) for i in range(64)]
            await asyncio.sleep(0)  # each request runs up to its await: its record is queued, none answered
            assert not any(task.done() for task in waiting)
            blocker.execute("COMMIT")
            return list(await asyncio.gather(*waiting))

        seqs = asyncio.run(read_all())
        on_disk = {seq for (seq,) in blocker.execute("SELECT seq FROM audit")}
        assert set(seqs) == on_disk and len(on_disk) == 64
        assert log.commits <= 2
    finally:
        blocker.close()
        log.close()


def test_each_record_of_a_group_is_stored_whole_under_the_number_it_was_given(tmp_path: Path) -> None:
    """A group is written with one statement per table: every field, customer and stub lands in its own record,
    and the number each caller got back is that record's."""
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        log.append(Principal("t0", "first", Role.ADMIN, None), "get_customer", ["p0"])

        async def read_all() -> list[int]:
            blocker.execute("BEGIN IMMEDIATE")  # the records below queue up and go in as one or two groups
            waiting = [
                asyncio.ensure_future(
                    log.record(
                        Principal(
                            f"t{i}", f"行员{i}" if i % 2 else f"actor {i}", Role.MANAGER, f"m{i}" if i % 3 else None
                        ),
                        "get_network" if i % 2 else "search_customers",
                        [f"c{i}-{j}" for j in range(i % 4)],
                        purpose="complaint: case 'x' \"y\"" if i % 5 == 0 else None,
                        unmasked=i % 5 == 0,
                        stub_ids=[f"s{i}"] if i % 2 else [],
                        status=404 if i == 7 else 200,
                        search_term_hash=None if i % 2 else f"h{i}",
                    )
                )
                for i in range(1, 31)
            ]
            await asyncio.sleep(0)
            blocker.execute("COMMIT")
            return list(await asyncio.gather(*waiting))

        seqs = asyncio.run(read_all())
        records = {record.seq: record for record in log.query(limit=100)}
        assert len(records) == 31 and seqs == sorted(seqs)
        for i, seq in enumerate(seqs, start=1):
            record = records[seq]
            assert (record.token_id, record.actor, record.role, record.manager_id) == (
                f"t{i}",
                f"行员{i}" if i % 2 else f"actor {i}",
                "manager",
                f"m{i}" if i % 3 else None,
            )
            assert record.endpoint == ("get_network" if i % 2 else "search_customers")
            assert record.customer_ids == [f"c{i}-{j}" for j in range(i % 4)]
            assert (record.purpose, record.unmasked) == (
                ("complaint: case 'x' \"y\"", True) if i % 5 == 0 else (None, False)
            )
            assert record.stub_ids == ([f"s{i}"] if i % 2 else [])
            assert (record.status, record.search_term_hash) == (404 if i == 7 else 200, None if i % 2 else f"h{i}")
            assert [r.seq for r in log.query(customer_id=f"s{i}")] == ([seq] if i % 2 else [])
    finally:
        blocker.close()
        log.close()
