"""The append-only audit log of reads of customer data, in SQLite.

One record per request that read customer data: who (token id, name, role, manager), which customer
ids, which endpoint, the stated purpose, when, and whether personal fields were unmasked. Records never
hold the values that were shown. Triggers refuse UPDATE and DELETE, and this module offers neither.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from api.access import Principal

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        token_id TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        manager_id TEXT,
        endpoint TEXT NOT NULL,
        customer_ids TEXT NOT NULL,
        purpose TEXT,
        unmasked INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audit_customer (
        seq INTEGER NOT NULL REFERENCES audit (seq),
        customer_id TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS audit_customer_id ON audit_customer (customer_id)",
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_customer_no_update BEFORE UPDATE ON audit_customer"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_customer_no_delete BEFORE DELETE ON audit_customer"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
)


class AuditRecord(BaseModel):
    """One audited read."""

    seq: int = Field(examples=[42])
    at: str = Field(examples=["2025-03-01T09:30:00+00:00"])
    token_id: str = Field(examples=["9f2c4e1a7b3d5c60"])
    actor: str = Field(description="Name of the token.", examples=["zhao-branch-west"])
    role: str = Field(examples=["manager"])
    manager_id: str | None = Field(examples=["m1"])
    endpoint: str = Field(examples=["get_customer"])
    customer_ids: list[str] = Field(examples=[["p1"]])
    purpose: str | None = Field(description="The reason given for unmasking, if any.", examples=[None])
    unmasked: bool = Field(examples=[False])


class AuditLog:
    """Append records; read them back filtered."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        for statement in _SCHEMA:
            self._db.execute(statement)

    def append(
        self,
        principal: Principal,
        endpoint: str,
        customer_ids: Iterable[str],
        *,
        purpose: str | None = None,
        unmasked: bool = False,
    ) -> int:
        """Record one read; returns its sequence number."""
        ids = sorted(set(customer_ids))
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "INSERT INTO audit (at, token_id, actor, role, manager_id, endpoint, customer_ids, purpose,"
                    " unmasked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        at,
                        principal.token_id,
                        principal.name,
                        principal.role.value,
                        principal.manager_id,
                        endpoint,
                        json.dumps(ids),
                        purpose,
                        int(unmasked),
                    ),
                )
                seq = int(cursor.lastrowid or 0)
                self._db.executemany(
                    "INSERT INTO audit_customer (seq, customer_id) VALUES (?, ?)", [(seq, i) for i in ids]
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return seq

    def query(
        self,
        *,
        customer_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Records matching every given filter, oldest first, after sequence number ``after_seq``."""
        sql = "SELECT seq, at, token_id, actor, role, manager_id, endpoint, customer_ids, purpose, unmasked FROM audit"
        where = ["seq > ?"]
        params: list[object] = [after_seq]
        if customer_id is not None:
            where.append("seq IN (SELECT seq FROM audit_customer WHERE customer_id = ?)")
            params.append(customer_id)
        if actor is not None:
            where.append("(actor = ? OR token_id = ? OR manager_id = ?)")
            params.extend([actor, actor, actor])
        if since is not None:
            moment = since if since.tzinfo else since.replace(tzinfo=UTC)
            where.append("at >= ?")
            params.append(moment.astimezone(UTC).isoformat(timespec="microseconds"))
        sql += " WHERE " + " AND ".join(where) + " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            AuditRecord(
                seq=row[0],
                at=row[1],
                token_id=row[2],
                actor=row[3],
                role=row[4],
                manager_id=row[5],
                endpoint=row[6],
                customer_ids=json.loads(row[7]),
                purpose=row[8],
                unmasked=bool(row[9]),
            )
            for row in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
