"""The token registry: opaque bearer tokens, kept only as SHA-256 hashes in a small SQLite file.

A token is ``crmg_`` followed by 43 URL-safe random characters (256 bits); it is shown once, when issued.
A plain (unkeyed) hash is enough here, unlike for identifiers: a random 256-bit token cannot be guessed.

Every token expires (``CRM_GRAPH_API_TOKEN_DAYS``, 90 days by default, or ``--days`` when issued); an
expired or revoked token is refused like an unknown one. ``crm-graph token list | revoke | rotate`` manage
them. The time a token was last used is kept to the minute: writing it on every request would cost a
disk write per request.

Verified tokens are remembered in memory, so that a request costs no registry query. Revocation still
takes effect at once, also when ``crm-graph token revoke`` runs in another process: the memory is dropped
whenever the file's change counter moves (see :class:`ChangeCounter`) and on every :meth:`TokenRegistry.revoke`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from api.access import ROLES_NEEDING_MANAGER, Permission, Principal, Role, permissions_for
from graph.errors import ConfigurationError, NotFound

TOKEN_PREFIX = "crmg_"
REMEMBERED_TOKENS = 4096  # verified tokens kept in memory; the memory is dropped whole past this
DEFAULT_TOKEN_DAYS = 90
LAST_USED_EVERY_SECONDS = 60.0  # how stale a token's recorded last use may be

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    manager_id TEXT,
    permissions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    expires_at TEXT,
    last_used_at TEXT
)
"""
# Columns added after the first release; a registry file made before them gains them when opened.
_ADDED_COLUMNS = ("expires_at", "last_used_at")
_COLUMNS = "id, name, role, manager_id, permissions, created_at, revoked_at, expires_at, last_used_at"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _text(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class TokenInfo(BaseModel):
    """What the registry knows about a token (never the token itself)."""

    id: str
    name: str
    role: Role
    manager_id: str | None
    permissions: list[Permission]
    created_at: str
    expires_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None

    @property
    def state(self) -> str:
        """``revoked``, ``expired`` or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if datetime.fromisoformat(self.expires_at) <= _now() else "active"

    @classmethod
    def from_row(cls, row: tuple[str | None, ...]) -> TokenInfo:
        token_id, name, role, manager_id, permissions, created_at, revoked_at, expires_at, last_used_at = row
        return cls(
            id=str(token_id),
            name=str(name),
            role=Role(str(role)),
            manager_id=manager_id,
            permissions=[Permission(p) for p in str(permissions).split()],
            created_at=str(created_at),
            expires_at=str(expires_at),
            revoked_at=revoked_at,
            last_used_at=last_used_at,
        )

    def principal(self) -> Principal:
        return Principal(
            token_id=self.id,
            name=self.name,
            role=self.role,
            manager_id=self.manager_id,
            permissions=frozenset(self.permissions),
        )


class ChangeCounter:
    """Whether any connection, in any process, has committed to an SQLite file since the last look.

    In SQLite's default (rollback journal) mode every committed write transaction increments the 4-byte
    "file change counter" at offset 24 of the file's header, written with the transaction's pages. Reading
    it is one ``pread`` of the file (about a microsecond), where ``PRAGMA data_version`` is a statement
    through SQLite's locks (about 30 µs) on every request. A file switched to WAL mode (header byte 18 is 2)
    does not move that counter on commit, so for it the pragma is asked instead.
    """

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._db = db
        self._seen = self._current()

    def _current(self) -> bytes:
        header = os.pread(self._fd, 10, 18)  # bytes 18-27: write version (18) ... change counter (24-27)
        if header[:1] == b"\x02":
            return b"wal" + str(self._db.execute("PRAGMA data_version").fetchone()[0]).encode()
        return header[6:10]

    def moved(self) -> bool:
        """True when the file changed since the last look (or since this counter was made)."""
        current = self._current()
        if current == self._seen:
            return False
        self._seen = current
        return True

    def absorb_own_commit(self) -> None:
        """Count one commit of our own connection as seen, when nothing else committed since the last look.

        Our own writes (a token's last use, once a minute per token) would otherwise drop every remembered
        token. In rollback mode our commit moves the counter by exactly one, so a move by more is another
        commit and stays unseen; in WAL mode ``data_version`` does not count our own commits at all.
        """
        current = self._current()
        if current.startswith(b"wal") or self._seen.startswith(b"wal"):
            return
        if int.from_bytes(current, "big") == (int.from_bytes(self._seen, "big") + 1) % 2**32:
            self._seen = current

    def close(self) -> None:
        os.close(self._fd)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRegistry:
    """Issue, look up, list, rotate and revoke API tokens."""

    def __init__(self, path: Path, *, token_days: int = DEFAULT_TOKEN_DAYS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._token_days = token_days
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(_SCHEMA)
        self._add_missing_columns()
        # token hash -> (principal, expiry), valid while the file's change counter holds
        self._verified: dict[str, tuple[Principal, datetime]] = {}
        self._last_used_written: dict[str, float] = {}  # token id -> monotonic time its last use was written
        self._changes = ChangeCounter(path, self._db)

    def _add_missing_columns(self) -> None:
        present = {row[1] for row in self._db.execute("PRAGMA table_info(tokens)")}
        for column in _ADDED_COLUMNS:
            if column not in present:
                self._db.execute(f"ALTER TABLE tokens ADD COLUMN {column} TEXT")
        # Tokens issued before expiry existed get the default lifetime from when they were issued.
        for token_id, created_at in self._db.execute(
            "SELECT id, created_at FROM tokens WHERE expires_at IS NULL"
        ).fetchall():
            expires = datetime.fromisoformat(created_at) + timedelta(days=self._token_days)
            self._db.execute("UPDATE tokens SET expires_at = ? WHERE id = ?", (_text(expires), token_id))

    def issue(
        self,
        role: Role,
        *,
        name: str,
        manager_id: str | None = None,
        grants: Iterable[Permission] = (),
        days: int | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token (returned once, in clear) and what was recorded about it; it expires after ``days``."""
        if role in ROLES_NEEDING_MANAGER and not manager_id:
            raise ConfigurationError(f"a {role} token must name its manager (--manager)")
        try:
            permissions = permissions_for(role, set(grants))
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
        token, info = self._new(role, name=name, manager_id=manager_id, permissions=sorted(permissions), days=days)
        with self._lock:
            self._insert(token, info)
        return token, info

    def _new(
        self, role: Role, *, name: str, manager_id: str | None, permissions: list[Permission], days: int | None
    ) -> tuple[str, TokenInfo]:
        days = self._token_days if days is None else days
        if days < 1:
            raise ConfigurationError("a token must be valid for at least one day")
        created = _now()
        info = TokenInfo(
            id=secrets.token_hex(8),
            name=name,
            role=role,
            manager_id=manager_id,
            permissions=permissions,
            created_at=_text(created),
            expires_at=_text(created + timedelta(days=days)),
        )
        return TOKEN_PREFIX + secrets.token_urlsafe(32), info

    def _insert(self, token: str, info: TokenInfo) -> None:
        self._db.execute(
            "INSERT INTO tokens (id, token_sha256, name, role, manager_id, permissions, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                info.id,
                token_hash(token),
                info.name,
                info.role.value,
                info.manager_id,
                " ".join(info.permissions),
                info.created_at,
                info.expires_at,
            ),
        )

    def verify(self, token: str) -> Principal | None:
        """The principal holding ``token``, or None when it is unknown, revoked or expired."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = token_hash(token)
        now = _now()
        with self._lock:
            if self._changes.moved():
                self._verified.clear()
            known = self._verified.get(digest)
            if known is None:
                row = self._db.execute(
                    f"SELECT {_COLUMNS} FROM tokens WHERE token_sha256 = ? AND revoked_at IS NULL", (digest,)
                ).fetchone()
                if row is None:
                    return None
                info = TokenInfo.from_row(row)
                known = (info.principal(), datetime.fromisoformat(info.expires_at))
                if len(self._verified) >= REMEMBERED_TOKENS:
                    self._verified.clear()
                self._verified[digest] = known
            principal, expires = known
            if expires <= now:
                return None
            self._note_use(principal.token_id, now)
        return principal

    def _note_use(self, token_id: str, now: datetime) -> None:
        """Record the token's use, at most once a minute (called with the lock held)."""
        moment = time.monotonic()
        if moment - self._last_used_written.get(token_id, -LAST_USED_EVERY_SECONDS) < LAST_USED_EVERY_SECONDS:
            return
        self._last_used_written[token_id] = moment
        if len(self._last_used_written) > REMEMBERED_TOKENS:
            self._last_used_written = {token_id: moment}
        # Another process may hold the file for writing: the last use is a convenience, not a control.
        with contextlib.suppress(sqlite3.OperationalError):
            written = self._db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (_text(now), token_id))
            if written.rowcount == 1:
                self._changes.absorb_own_commit()

    def revoke(self, token_id: str) -> bool:
        """Revoke the token; False when no active token has this id."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_text(_now()), token_id)
            )
            self._verified.clear()
        return cursor.rowcount == 1

    def get(self, token_id: str) -> TokenInfo:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise NotFound(f"no token has the id {token_id!r} (crm-graph token list shows them)")
        return TokenInfo.from_row(row)

    def rotate(self, token_id: str, *, days: int | None = None) -> tuple[str, TokenInfo]:
        """A new token with the same holder, role and permissions; the old one is revoked in the same step."""
        old = self.get(token_id)
        if old.revoked_at is not None:
            raise ConfigurationError(f"token {token_id} is revoked; issue a new one instead")
        token, info = self._new(
            old.role,
            name=old.name,
            manager_id=old.manager_id,
            permissions=old.permissions,
            days=days,
        )
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._insert(token, info)
                self._db.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (info.created_at, token_id))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._verified.clear()
        return token, info

    def list(self) -> list[TokenInfo]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM tokens ORDER BY created_at, rowid").fetchall()
        return [TokenInfo.from_row(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._changes.close()
            self._db.close()
