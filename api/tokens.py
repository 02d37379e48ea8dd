"""The token registry: opaque bearer tokens, kept only as SHA-256 hashes in a small SQLite file.

A token is ``crmg_`` followed by 43 URL-safe random characters (256 bits); it is shown once, when issued.
A plain (unkeyed) hash is enough here, unlike for identifiers: a random 256-bit token cannot be guessed.

Verified tokens are remembered in memory, so that a request costs no registry query. Revocation still
takes effect at once: the memory is dropped whenever the file changes (SQLite's ``data_version``, which
also sees ``crm-graph token revoke`` run in another process) and on every :meth:`TokenRegistry.revoke`.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from api.access import ROLES_NEEDING_MANAGER, Permission, Principal, Role, permissions_for
from graph.errors import ConfigurationError

TOKEN_PREFIX = "crmg_"
REMEMBERED_TOKENS = 4096  # verified tokens kept in memory; the memory is dropped whole past this

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    manager_id TEXT,
    permissions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""


class TokenInfo(BaseModel):
    """What the registry knows about a token (never the token itself)."""

    id: str
    name: str
    role: Role
    manager_id: str | None
    permissions: list[Permission]
    created_at: str
    revoked_at: str | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRegistry:
    """Issue, look up and revoke API tokens."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(_SCHEMA)
        self._verified: dict[str, Principal] = {}  # token hash -> principal, valid while data_version holds
        self._data_version = self._current_data_version()

    def _current_data_version(self) -> int:
        # Changes when another connection (this process or another) commits to the file.
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def issue(
        self,
        role: Role,
        *,
        name: str,
        manager_id: str | None = None,
        grants: Iterable[Permission] = (),
    ) -> tuple[str, TokenInfo]:
        """A new token (returned once, in clear) and what was recorded about it."""
        if role in ROLES_NEEDING_MANAGER and not manager_id:
            raise ConfigurationError(f"a {role} token must name its manager (--manager)")
        try:
            permissions = permissions_for(role, set(grants))
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            id=secrets.token_hex(8),
            name=name,
            role=role,
            manager_id=manager_id,
            permissions=sorted(permissions),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens (id, token_sha256, name, role, manager_id, permissions, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    info.id,
                    token_hash(token),
                    info.name,
                    info.role.value,
                    info.manager_id,
                    " ".join(info.permissions),
                    info.created_at,
                ),
            )
        return token, info

    def verify(self, token: str) -> Principal | None:
        """The principal holding ``token``, or None when it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = token_hash(token)
        with self._lock:
            version = self._current_data_version()
            if version != self._data_version:
                self._verified.clear()
                self._data_version = version
            known = self._verified.get(digest)
            if known is not None:
                return known
            row = self._db.execute(
                "SELECT id, name, role, manager_id, permissions FROM tokens"
                " WHERE token_sha256 = ? AND revoked_at IS NULL",
                (digest,),
            ).fetchone()
            if row is None:
                return None
            token_id, name, role, manager_id, permissions = row
            principal = Principal(
                token_id=token_id,
                name=name,
                role=Role(role),
                manager_id=manager_id,
                permissions=frozenset(Permission(p) for p in permissions.split()),
            )
            if len(self._verified) >= REMEMBERED_TOKENS:
                self._verified.clear()
            self._verified[digest] = principal
        return principal

    def revoke(self, token_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(timespec="seconds"), token_id),
            )
            self._verified.clear()  # this connection's own writes do not move its data_version
        return cursor.rowcount == 1

    def list(self) -> list[TokenInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, role, manager_id, permissions, created_at, revoked_at FROM tokens ORDER BY created_at"
            ).fetchall()
        return [
            TokenInfo(
                id=row[0],
                name=row[1],
                role=Role(row[2]),
                manager_id=row[3],
                permissions=[Permission(p) for p in row[4].split()],
                created_at=row[5],
                revoked_at=row[6],
            )
            for row in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
